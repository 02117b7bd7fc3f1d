"""Domain errors.

Core code raises these and never an HTTP error; ``vbis_geo.web.errors`` maps them to HTTP
responses and ``vbis_geo.cli`` to one clear line and a non-zero exit status.
"""

from __future__ import annotations


class VbisError(Exception):
    """Base of every error vbis-geo raises on purpose.

    ``hint`` says what the user can do about it; it is printed after the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  -> {self.hint}"


class ConfigError(VbisError):
    """A setting is missing or malformed (an environment variable, a URL)."""


class DatabaseUnavailable(VbisError):
    """The database cannot be reached or refuses the connection."""


class PostGISMissing(VbisError):
    """The database is reachable but the PostGIS extension is not installed or not available."""


class ClusterError(VbisError):
    """The embedded development PostgreSQL cluster could not be created, started or stopped."""


class InvalidInput(VbisError):
    """Input data (a file, a row, a request parameter) is not of the expected form."""


class NotFound(VbisError):
    """A requested object (a layer, a feature, a file) does not exist."""


class NotAuthorized(VbisError):
    """The request needs credentials it does not carry, or carries wrong ones."""


class Forbidden(VbisError):
    """The caller is known but the action is beyond their role or scope."""


class TooManyAttempts(VbisError):
    """Too many failed attempts (logins) in a short time; ``retry_after_s`` says when to retry."""

    def __init__(self, message: str, *, retry_after_s: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s
