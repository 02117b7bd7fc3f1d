"""The index on ``review_status`` of the seven reviewed layers (``ix_<table>_review_status``,
migration 0011) holds only the rows in review (``WHERE review_status <> 'published'``).

Almost every row is published, and a lookup of published rows reads the table, never this
index; the review queue looks up drafts, which are few. The full index held one entry per row
for three values: each insert paid for it, and for a million occurrences it took 0.2-0.3 s of a
bulk load's rebuild, against 0.1 s for the partial one (its build still reads the table).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from vbis_geo.db.base import IN_REVIEW
from vbis_geo.db.migrate import earlier_migration

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in earlier_migration("0011").REVIEWED:
        name = f"ix_{table}_review_status"
        op.drop_index(name, table_name=table)
        op.execute(f"CREATE INDEX {name} ON public.{table} (review_status) WHERE {IN_REVIEW}")


def downgrade() -> None:
    for table in earlier_migration("0011").REVIEWED:
        name = f"ix_{table}_review_status"
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["review_status"])
