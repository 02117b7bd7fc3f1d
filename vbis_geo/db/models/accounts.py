"""Schema ``auth``: accounts, their scopes, API tokens and failed logins.

Who may do what (../shared/DOMAIN.md, "Who uses it"): the national admin everything; a
provincial editor the data of their provinces; a reserve board those of their protected areas
and conservation facilities; an expert their taxonomic groups and areas, reviewed. The public
has no account. Exact locations of sensitive species are a separate grant (``exact_locations``)
that any role but the admin (who has it anyway) can be given.

The database keeps a scope within its role: ``account_scopes`` carries the account's role
through a composite foreign key to ``accounts (id, role)`` (``ON UPDATE CASCADE``), so a CHECK
can see both, and changing an account's role to one its scopes do not fit fails.

Secrets never reach a table: passwords are argon2id hashes, API tokens SHA-256 digests (and a
short non-secret prefix to recognise them in a listing), failed logins a digest of the
username and address tried.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import Base, enum_check

SCHEMA = "auth"
ROLES = ("national_admin", "provincial_editor", "reserve_board", "expert")
#: the roles that contribute data (every role: the public, which may not write, has no account)
EDITING_ROLES = ROLES
SCOPE_KINDS = ("province", "protected_area", "facility", "taxon", "exact_locations")
#: which kinds of scope each role can be granted (the admin's rights are unscoped)
SCOPES_OF_ROLE: dict[str, tuple[str, ...]] = {
    "national_admin": (),
    "provincial_editor": ("province", "exact_locations"),
    "reserve_board": ("protected_area", "facility", "exact_locations"),
    "expert": ("taxon", "province", "protected_area", "exact_locations"),
}
#: the column naming the object of each kind of scope (``exact_locations`` has none)
SCOPE_TARGET_COLUMNS: dict[str, str | None] = {
    "province": "admin_unit_code",
    "protected_area": "protected_area_code",
    "facility": "facility_code",
    "taxon": "taxon_id",
    "exact_locations": None,
}
USERNAME_PATTERN = "^[a-z0-9][a-z0-9._@-]{1,63}$"
#: API tokens live 90 days unless asked otherwise, and at most a year
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


def _timestamp(*, index: bool = False) -> Mapped[dt.datetime]:
    return mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False, index=index
    )


def _target_fits_kind() -> sa.CheckConstraint:
    clauses = []
    for kind, column in SCOPE_TARGET_COLUMNS.items():
        others = [c for c in SCOPE_TARGET_COLUMNS.values() if c and c != column]
        nulls = " AND ".join(f"{c} IS NULL" for c in others)
        target = f"{column} IS NOT NULL AND " if column else ""
        clauses.append(f"(kind = '{kind}' AND {target}{nulls})")
    return sa.CheckConstraint(" OR ".join(clauses), name="target_fits_kind")


def _kind_fits_role() -> sa.CheckConstraint:
    clauses = [
        f"(account_role = '{role}' AND kind IN ({', '.join(repr(k) for k in kinds)}))"
        for role, kinds in SCOPES_OF_ROLE.items()
        if kinds
    ]
    return sa.CheckConstraint(" OR ".join(clauses), name="kind_fits_role")


class Account(Base):
    """A person or a service (a token-only account has no password)."""

    __tablename__ = "accounts"
    __table_args__ = (
        enum_check("role", ROLES),
        # usernames are stored lower-case, so unique means unique whatever the case
        sa.CheckConstraint(f"username ~ '{USERNAME_PATTERN}'", name="username_form"),
        sa.CheckConstraint(
            "password_hash IS NULL OR starts_with(password_hash, '$argon2id$')",
            name="password_is_argon2id",
        ),
        sa.CheckConstraint("email IS NULL OR email ~ '^[^@ ]+@[^@ ]+$'", name="email_form"),
        sa.CheckConstraint("char_length(display_name) BETWEEN 1 AND 200", name="display_name"),
        # the target of account_scopes' (account_id, account_role)
        sa.UniqueConstraint("id", "role"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    #: argon2id (PHC string); NULL for token-only accounts
    password_hash: Mapped[str | None] = mapped_column(sa.Text)
    #: portal sessions older than this are void
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    role: Mapped[str] = mapped_column(sa.String(30))
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[dt.datetime] = _timestamp()
    created_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey(f"{SCHEMA}.accounts.id", ondelete="SET NULL")
    )


class AccountScope(Base):
    """One thing an account's rights extend to: a province (a code of the 63 or the 34), a
    protected area or facility (by code), a taxon (with its descendants), or exact locations."""

    __tablename__ = "account_scopes"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["account_id", "account_role"],
            [f"{SCHEMA}.accounts.id", f"{SCHEMA}.accounts.role"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        enum_check("kind", SCOPE_KINDS),
        _target_fits_kind(),
        _kind_fits_role(),
        sa.UniqueConstraint("account_id", "admin_unit_code"),
        sa.UniqueConstraint("account_id", "protected_area_code"),
        sa.UniqueConstraint("account_id", "facility_code"),
        sa.UniqueConstraint("account_id", "taxon_id"),
        sa.Index(
            "uq_account_scopes_exact_locations",
            "account_id",
            unique=True,
            postgresql_where=sa.text("kind = 'exact_locations'"),
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int]
    account_role: Mapped[str] = mapped_column(sa.String(30))
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: a code of admin_units (either set; checked when granted: the code is not unique there)
    admin_unit_code: Mapped[str | None] = mapped_column(sa.String(40))
    # a grant of something deleted goes with it (rights narrow, never widen)
    protected_area_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("protected_areas.code", onupdate="CASCADE", ondelete="CASCADE")
    )
    facility_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("conservation_facilities.code", onupdate="CASCADE", ondelete="CASCADE")
    )
    taxon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxa.id", ondelete="CASCADE"))
    granted_at: Mapped[dt.datetime] = _timestamp()
    granted_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey(f"{SCHEMA}.accounts.id", ondelete="SET NULL")
    )


class ApiToken(Base):
    """A bearer token for QGIS and scripts: the secret is shown once and stored as a digest."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.CheckConstraint("octet_length(token_sha256) = 32", name="digest_length"),
        sa.CheckConstraint(
            f"expires_at > created_at AND expires_at <= created_at + interval '{MAX_TOKEN_DAYS} "
            "days'",
            name="expiry_bounded",
        ),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey(f"{SCHEMA}.accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.Text)
    #: the first characters of the token ("vbis_" and 6 of its 43 random ones): not a secret
    token_prefix: Mapped[str] = mapped_column(sa.String(16))
    token_sha256: Mapped[bytes] = mapped_column(sa.LargeBinary, unique=True)
    created_at: Mapped[dt.datetime] = _timestamp()
    expires_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True),
        server_default=sa.text(f"now() + interval '{DEFAULT_TOKEN_DAYS} days'"),
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: updated at most once a minute per token
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class LoginFailure(Base):
    """A failed portal login, counted per (username, client address) for the rate limit.

    ``subject_sha256`` is a digest of the two, so that a password typed into the username field
    is never stored.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.CheckConstraint("octet_length(subject_sha256) = 32", name="digest_length"),
        sa.Index("ix_login_failures_subject_sha256_failed_at", "subject_sha256", "failed_at"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    subject_sha256: Mapped[bytes] = mapped_column(sa.LargeBinary)
    failed_at: Mapped[dt.datetime] = _timestamp(index=True)


class PublicContribution(Base):
    """A contribution sent without an account, counted per client address for the rate limit
    of ``POST /api/contributions``.

    ``subject_sha256`` is a keyed digest (HMAC) of the address, so that the table does not hold
    who sent what; the record itself keeps no address.
    """

    __tablename__ = "public_contributions"
    __table_args__ = (
        sa.CheckConstraint("octet_length(subject_sha256) = 32", name="digest_length"),
        sa.Index("ix_public_contributions_subject_sha256_sent_at", "subject_sha256", "sent_at"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    subject_sha256: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sent_at: Mapped[dt.datetime] = _timestamp(index=True)
