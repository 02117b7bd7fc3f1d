"""Accounts, scopes, API tokens and failed logins (schema ``auth``).

See vbis_geo/db/models/accounts.py for what each table holds. The scope CHECKs are written out
here as they were on the day (the model builds them from its role table; a later change of
roles is a migration of its own).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "auth"
NOW = sa.text("now()")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        _timestamp("password_changed_at", nullable=True),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('national_admin', 'provincial_editor', 'reserve_board', 'expert')",
            name=op.f("ck_accounts_role_allowed"),
        ),
        sa.CheckConstraint(
            "username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'", name=op.f("ck_accounts_username_form")
        ),
        sa.CheckConstraint(
            "password_hash IS NULL OR starts_with(password_hash, '$argon2id$')",
            name=op.f("ck_accounts_password_is_argon2id"),
        ),
        sa.CheckConstraint(
            "email IS NULL OR email ~ '^[^@ ]+@[^@ ]+$'", name=op.f("ck_accounts_email_form")
        ),
        sa.CheckConstraint(
            "char_length(display_name) BETWEEN 1 AND 200", name=op.f("ck_accounts_display_name")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            [f"{SCHEMA}.accounts.id"],
            name=op.f("fk_accounts_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("id", "role", name=op.f("uq_accounts_id_role")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
        schema=SCHEMA,
    )
    op.create_table(
        "account_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("account_role", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("admin_unit_code", sa.String(length=40), nullable=True),
        sa.Column("protected_area_code", sa.String(length=60), nullable=True),
        sa.Column("facility_code", sa.String(length=60), nullable=True),
        sa.Column("taxon_id", sa.Integer(), nullable=True),
        _timestamp("granted_at"),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('province', 'protected_area', 'facility', 'taxon', 'exact_locations')",
            name=op.f("ck_account_scopes_kind_allowed"),
        ),
        sa.CheckConstraint(
            "(kind = 'province' AND admin_unit_code IS NOT NULL AND protected_area_code IS NULL "
            "AND facility_code IS NULL AND taxon_id IS NULL) OR "
            "(kind = 'protected_area' AND protected_area_code IS NOT NULL AND admin_unit_code IS "
            "NULL AND facility_code IS NULL AND taxon_id IS NULL) OR "
            "(kind = 'facility' AND facility_code IS NOT NULL AND admin_unit_code IS NULL AND "
            "protected_area_code IS NULL AND taxon_id IS NULL) OR "
            "(kind = 'taxon' AND taxon_id IS NOT NULL AND admin_unit_code IS NULL AND "
            "protected_area_code IS NULL AND facility_code IS NULL) OR "
            "(kind = 'exact_locations' AND admin_unit_code IS NULL AND protected_area_code IS "
            "NULL AND facility_code IS NULL AND taxon_id IS NULL)",
            name=op.f("ck_account_scopes_target_fits_kind"),
        ),
        sa.CheckConstraint(
            "(account_role = 'provincial_editor' AND kind IN ('province', 'exact_locations')) OR "
            "(account_role = 'reserve_board' AND kind IN ('protected_area', 'facility', "
            "'exact_locations')) OR "
            "(account_role = 'expert' AND kind IN ('taxon', 'province', 'protected_area', "
            "'exact_locations'))",
            name=op.f("ck_account_scopes_kind_fits_role"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "account_role"],
            [f"{SCHEMA}.accounts.id", f"{SCHEMA}.accounts.role"],
            name=op.f("fk_account_scopes_account_id_accounts"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["protected_area_code"],
            ["protected_areas.code"],
            name=op.f("fk_account_scopes_protected_area_code_protected_areas"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["facility_code"],
            ["conservation_facilities.code"],
            name=op.f("fk_account_scopes_facility_code_conservation_facilities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["taxon_id"],
            ["taxa.id"],
            name=op.f("fk_account_scopes_taxon_id_taxa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            [f"{SCHEMA}.accounts.id"],
            name=op.f("fk_account_scopes_granted_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_scopes")),
        sa.UniqueConstraint(
            "account_id",
            "admin_unit_code",
            name=op.f("uq_account_scopes_account_id_admin_unit_code"),
        ),
        sa.UniqueConstraint(
            "account_id",
            "protected_area_code",
            name=op.f("uq_account_scopes_account_id_protected_area_code"),
        ),
        sa.UniqueConstraint(
            "account_id", "facility_code", name=op.f("uq_account_scopes_account_id_facility_code")
        ),
        sa.UniqueConstraint(
            "account_id", "taxon_id", name=op.f("uq_account_scopes_account_id_taxon_id")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_account_scopes_exact_locations",
        "account_scopes",
        ["account_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("kind = 'exact_locations'"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.LargeBinary(), nullable=False),
        _timestamp("created_at"),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now() + interval '90 days'"),
            nullable=False,
        ),
        _timestamp("revoked_at", nullable=True),
        _timestamp("last_used_at", nullable=True),
        sa.CheckConstraint(
            "octet_length(token_sha256) = 32", name=op.f("ck_api_tokens_digest_length")
        ),
        sa.CheckConstraint(
            "expires_at > created_at AND expires_at <= created_at + interval '365 days'",
            name=op.f("ck_api_tokens_expiry_bounded"),
        ),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 100", name=op.f("ck_api_tokens_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{SCHEMA}.accounts.id"],
            name=op.f("fk_api_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_api_tokens_account_id"), "api_tokens", ["account_id"], schema=SCHEMA)
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_sha256", sa.LargeBinary(), nullable=False),
        _timestamp("failed_at"),
        sa.CheckConstraint(
            "octet_length(subject_sha256) = 32", name=op.f("ck_login_failures_digest_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_login_failures_subject_sha256_failed_at",
        "login_failures",
        ["subject_sha256", "failed_at"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_login_failures_failed_at"), "login_failures", ["failed_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("login_failures", schema=SCHEMA)
    op.drop_table("api_tokens", schema=SCHEMA)
    op.drop_table("account_scopes", schema=SCHEMA)
    op.drop_table("accounts", schema=SCHEMA)
    op.execute(f"DROP SCHEMA {SCHEMA}")
