"""A history for ``sensitivity_overrides``: who lowered or raised a taxon's protection, when,
why, and what it was before. An override decides whether the exact locations of a species
reach the public, so replacing or removing one keeps the version it replaced
(``history.sensitivity_overrides``, by migration 0010's ``history.enable``), with the account
and the reason of the change (``vbis-geo taxa sensitivity set|clear --reason``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = "sensitivity_overrides"


def upgrade() -> None:
    op.execute(f"SELECT history.enable('{TABLE}')")  # noqa: S608 (a constant table name)


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS history_update ON public.{TABLE}")
    op.execute(f"DROP TRIGGER IF EXISTS history_delete ON public.{TABLE}")
    op.execute(f"DROP FUNCTION IF EXISTS history.record_{TABLE}()")
    op.execute(f"DROP TABLE IF EXISTS history.{TABLE}")
