"""A rate limit on contributions from the public: each one sent without an account is counted
per client address (a keyed digest of it, never the address), and ``POST /api/contributions``
refuses more than its limit per hour from one address (``vbis_geo.web.contributions``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "public_contributions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_sha256", sa.LargeBinary(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "octet_length(subject_sha256) = 32",
            name=op.f("ck_public_contributions_digest_length"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_contributions")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_public_contributions_subject_sha256_sent_at",
        "public_contributions",
        ["subject_sha256", "sent_at"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_public_contributions_sent_at"), "public_contributions", ["sent_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("public_contributions", schema=SCHEMA)
