"""Trigram index on taxon names (close spellings at ingest, search).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_taxa_scientific_name_trgm",
        "taxa",
        ["scientific_name"],
        postgresql_using="gin",
        postgresql_ops={"scientific_name": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_taxa_scientific_name_trgm", table_name="taxa")
