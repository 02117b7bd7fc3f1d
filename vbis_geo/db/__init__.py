"""Database access: engine and sessions, the declarative models, the embedded dev cluster."""
