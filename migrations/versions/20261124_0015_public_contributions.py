"""Contributions from the public: a sighting sent without an account goes in as a draft record.

The national system takes contributions from research bodies and the public, reviewed before
publication (../shared/DOMAIN.md, "Who uses it"). Such a contribution is written by the writer
role of 0014 with no account (``vbis.account_id`` empty) and the transaction setting
``vbis.contribution = 'public'``, which only ``vbis_geo.auth.writer.public_contribution`` sets.
The database then allows exactly one thing:

* a policy lets that transaction *insert* into ``occurrences`` (no other table, no update, no
  delete), and only a row whose ``review_status`` is ``draft``;
* the review trigger of 0014 (``auth.review_rules``) keeps the row a draft with no submitter and
  no reviewer, where without an account it refused every write.

A draft is in no public answer (migration 0011); a reviewer publishes or rejects it.

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from vbis_geo.db.migrate import earlier_migration as _earlier

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

_NO_ACCOUNT = """    IF s.account IS NULL THEN
        RAISE EXCEPTION '%: no active account is writing (vbis.account_id)', row_name
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
    END IF;"""
_PUBLIC = (
    """    IF s.account IS NULL AND TG_OP = 'INSERT' AND TG_TABLE_NAME = 'occurrences'
       AND current_setting('vbis.contribution', true) = 'public'
       AND nullif(current_setting('vbis.account_id', true), '') IS NULL THEN
        -- a contribution from the public: a draft, with no submitter and no reviewer
        NEW.review_status := 'draft';
        NEW.submitted_by := NULL;
        NEW.reviewed_by := NULL;
        NEW.reviewed_at := NULL;
        NEW.review_reason := NULL;
        RETURN NEW;
    END IF;
"""
    + _NO_ACCOUNT
)


def upgrade() -> None:
    rules = _earlier("0014").REVIEW_RULES
    assert _NO_ACCOUNT in rules, "the review trigger of 0014 changed: update this migration"
    op.execute(
        rules.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
            _NO_ACCOUNT, _PUBLIC
        )
    )
    op.execute(
        "CREATE POLICY vbis_public_contribution ON public.occurrences FOR INSERT "
        f"TO {_earlier('0014').WRITER} WITH CHECK ("
        "current_setting('vbis.contribution', true) = 'public' "
        "AND nullif(current_setting('vbis.account_id', true), '') IS NULL "
        "AND review_status = 'draft')"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS vbis_public_contribution ON public.occurrences")
    op.execute(
        _earlier("0014").REVIEW_RULES.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    )
