"""Accounts, scopes and tokens in the database: every SQL statement of ``vbis_geo.auth``.

Each function runs in the caller's transaction; the CLI and the web layer commit. Errors name
the problem (:class:`InvalidInput` for a bad username, code or scope, :class:`NotFound` for an
unknown account or token).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from vbis_geo.auth.passwords import check_password_policy, hash_password
from vbis_geo.auth.principal import Principal, Scopes
from vbis_geo.auth.tokens import new_token
from vbis_geo.db.lookups import MAX_ID, find_taxon
from vbis_geo.db.models.accounts import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    ROLES,
    SCOPE_KINDS,
    SCOPE_TARGET_COLUMNS,
    SCOPES_OF_ROLE,
    USERNAME_PATTERN,
)
from vbis_geo.errors import InvalidInput, NotFound

_USERNAME = re.compile(USERNAME_PATTERN)
#: kinds of scope a role must have at least one of (an editor of nothing is a mistake)
REQUIRED_SCOPES = {
    "provincial_editor": ("province",),
    "reserve_board": ("protected_area", "facility"),
}


@dataclass(frozen=True)
class Grant:
    """A scope as asked for: its kind and the code, id or name of its object."""

    kind: str
    target: str | int | None = None


@dataclass(frozen=True)
class ScopeRow:
    kind: str
    target: str | int | None
    granted_at: dt.datetime


@dataclass(frozen=True)
class AccountRow:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    has_password: bool
    created_at: dt.datetime
    created_by: str | None
    scopes: tuple[ScopeRow, ...] = ()


@dataclass(frozen=True)
class TokenRow:
    id: int
    account_id: int
    username: str
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"

    def as_dict(self, now: dt.datetime) -> dict[str, object]:
        """The token as listed (never its secret or digest)."""
        return {
            "id": self.id,
            "account": self.username,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "state": self.state(now),
        }


# -- accounts -----------------------------------------------------------------------------------
def normalise_username(raw: str) -> str:
    """The stored form of a username (lower case); :class:`InvalidInput` when it cannot be one.

    >>> normalise_username("  Nguyen.Van.A ")
    'nguyen.van.a'
    """
    name = raw.strip().lower() if isinstance(raw, str) else ""
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(
            "a username is 2 to 64 characters: letters a-z, digits and . _ @ -, starting with a "
            "letter or digit"
        )
    return name


def create_account(
    conn: Connection,
    username: str,
    *,
    role: str,
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    grants: Iterable[Grant] = (),
    created_by: int | None = None,
) -> AccountRow:
    """Create an account with its scopes; returns it.

    ``password`` None makes a token-only account. Raises :class:`InvalidInput` for a taken or
    malformed username, an unknown role, a scope the role cannot have or an unknown object.
    """
    name = normalise_username(username)
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
    password_hash = None
    if password is not None:
        check_password_policy(password, username=name)
        password_hash = hash_password(password)
    if email is not None and not re.fullmatch(r"[^@ ]+@[^@ ]+", email.strip()):
        raise InvalidInput(f"{email!r} is not an email address")
    display = (display_name or name).strip()
    if not 1 <= len(display) <= 200:
        raise InvalidInput("a display name is 1 to 200 characters")
    if _account_id(conn, name) is not None:
        raise InvalidInput(f"the username {name!r} is taken")
    account_id = conn.execute(
        sa.text(
            "INSERT INTO auth.accounts (username, display_name, email, password_hash, "
            "password_changed_at, role, created_by) VALUES (:username, :display, :email, "
            ":hash, CASE WHEN CAST(:hash AS text) IS NULL THEN NULL ELSE now() END, :role, "
            ":by) RETURNING id"
        ),
        {
            "username": name,
            "display": display,
            "email": email.strip() if email else None,
            "hash": password_hash,
            "role": role,
            "by": created_by,
        },
    ).scalar_one()
    _insert_grants(conn, account_id, role, grants, created_by)
    _check_required_scopes(conn, account_id, role)
    return get_account(conn, name)


def get_account(conn: Connection, username: str) -> AccountRow:
    """The account named ``username`` (any case), with its scopes; :class:`NotFound` if none."""
    rows = _accounts(conn, "a.username = :username", {"username": _lookup_name(username)})
    if not rows:
        raise NotFound(f"no account {username!r}", hint="`vbis-geo users list` lists them")
    return rows[0]


def list_accounts(conn: Connection) -> list[AccountRow]:
    """Every account, by username."""
    return _accounts(conn, "true", {})


def set_password(conn: Connection, username: str, password: str) -> None:
    """Replace the account's password (its portal sessions end: they predate the change)."""
    account = get_account(conn, username)
    check_password_policy(password, username=account.username)
    conn.execute(
        sa.text(
            "UPDATE auth.accounts SET password_hash = :hash, password_changed_at = "
            "clock_timestamp() WHERE id = :id"
        ),
        {"hash": hash_password(password), "id": account.id},
    )


def store_rehashed_password(conn: Connection, account_id: int, new_hash: str) -> None:
    """Store a hash of the same password made with the current parameters (sessions stay)."""
    conn.execute(
        sa.text("UPDATE auth.accounts SET password_hash = :hash WHERE id = :id"),
        {"hash": new_hash, "id": account_id},
    )


def deactivate(conn: Connection, username: str) -> AccountRow:
    """Deactivate the account: its sessions and tokens stop working at once (rows are kept)."""
    account = get_account(conn, username)
    conn.execute(
        sa.text("UPDATE auth.accounts SET active = false WHERE id = :id"), {"id": account.id}
    )
    return get_account(conn, account.username)


def grant(
    conn: Connection, username: str, grants: Iterable[Grant], *, granted_by: int | None = None
) -> AccountRow:
    """Add scopes to an account (those it has already are left as they are)."""
    account = get_account(conn, username)
    _insert_grants(conn, account.id, account.role, grants, granted_by)
    return get_account(conn, account.username)


def revoke(conn: Connection, username: str, grants: Iterable[Grant]) -> AccountRow:
    """Remove scopes from an account. Raises :class:`InvalidInput` for a scope it does not have,
    and when the last province of an editor (or area of a board) would go."""
    account = get_account(conn, username)
    for item in grants:
        kind, target = _resolve(conn, account.role, item)
        column = SCOPE_TARGET_COLUMNS[kind]
        condition = f"{column} = :target" if column else "true"
        deleted = conn.execute(
            sa.text(
                f"DELETE FROM auth.account_scopes WHERE account_id = :id AND kind = :kind "  # noqa: S608 (a column name of the table)
                f"AND {condition}"
            ),
            {"id": account.id, "kind": kind, "target": target},
        ).rowcount
        if not deleted:
            raise InvalidInput(f"{account.username} has no {_describe(kind, target)} scope")
    _check_required_scopes(conn, account.id, account.role)
    return get_account(conn, account.username)


def _lookup_name(username: str) -> str:
    return username.strip().lower() if isinstance(username, str) else ""


def _account_id(conn: Connection, username: str) -> int | None:
    return conn.execute(  # type: ignore[no-any-return]
        sa.text("SELECT id FROM auth.accounts WHERE username = :username"),
        {"username": username},
    ).scalar()


_ACCOUNTS_SELECT = (
    "SELECT a.id, a.username, a.display_name, a.email, a.role, a.active, "
    "a.password_hash IS NOT NULL AS has_password, a.created_at, c.username AS creator, "
    "coalesce((SELECT json_agg(json_build_array(s.kind, coalesce(s.admin_unit_code, "
    "s.protected_area_code, s.facility_code, s.taxon_id::text), s.granted_at) ORDER BY "
    "s.kind, s.id) FROM auth.account_scopes s WHERE s.account_id = a.id), '[]') AS scopes "
    "FROM auth.accounts a LEFT JOIN auth.accounts c ON c.id = a.created_by"
)
_TOKENS_SELECT = (
    "SELECT t.id, t.account_id, a.username, t.name, t.token_prefix, t.created_at, "
    "t.expires_at, t.revoked_at, t.last_used_at FROM auth.api_tokens t "
    "JOIN auth.accounts a ON a.id = t.account_id"
)


def _accounts(conn: Connection, where: str, params: dict[str, object]) -> list[AccountRow]:
    sql = f"{_ACCOUNTS_SELECT} WHERE {where} ORDER BY a.username"  # noqa: S608 (conditions written here)
    rows = conn.execute(sa.text(sql), params).all()
    return [
        AccountRow(
            id=r.id,
            username=r.username,
            display_name=r.display_name,
            email=r.email,
            role=r.role,
            active=r.active,
            has_password=r.has_password,
            created_at=r.created_at,
            created_by=r.creator,
            scopes=tuple(
                ScopeRow(
                    kind,
                    int(target) if kind == "taxon" else target,
                    dt.datetime.fromisoformat(at),
                )
                for kind, target, at in r.scopes
            ),
        )
        for r in rows
    ]


# -- scopes -------------------------------------------------------------------------------------
def _insert_grants(
    conn: Connection, account_id: int, role: str, grants: Iterable[Grant], by: int | None
) -> None:
    for item in grants:
        kind, target = _resolve(conn, role, item)
        column = SCOPE_TARGET_COLUMNS[kind]
        columns = "account_id, account_role, kind, granted_by" + (f", {column}" if column else "")
        values = ":id, :role, :kind, :by" + (", :target" if column else "")
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.text(
                        f"INSERT INTO auth.account_scopes ({columns}) VALUES ({values}) "  # noqa: S608 (column names of the table)
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"id": account_id, "role": role, "kind": kind, "by": by, "target": target},
                )
        except IntegrityError as exc:  # the CHECKs: the role was changed under us
            raise InvalidInput(
                f"the {_describe(kind, target)} scope does not fit the role {role}: "
                f"{str(exc.orig).splitlines()[0]}"
            ) from None


def _resolve(conn: Connection, role: str, item: Grant) -> tuple[str, str | int | None]:
    """Check that a scope fits the role and that its object exists; returns (kind, target)."""
    kind = item.kind
    if kind not in SCOPE_KINDS:
        raise InvalidInput(
            f"unknown kind of scope {kind!r}", hint=f"one of {', '.join(SCOPE_KINDS)}"
        )
    allowed = SCOPES_OF_ROLE[role]
    if kind not in allowed:
        hint = (
            f"a {role} can be given: {', '.join(allowed)}"
            if allowed
            else "a national_admin has every right; it takes no scopes"
        )
        raise InvalidInput(f"a {kind} scope is not allowed for the role {role}", hint=hint)
    if kind == "exact_locations":
        return kind, None
    raw = item.target
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        what = "id or name" if kind == "taxon" else "code"
        raise InvalidInput(f"a {kind} scope needs its {what}")
    if kind == "taxon":
        return kind, _taxon_id(conn, raw)
    code = str(raw).strip()
    table, what, hint = {
        "province": (
            "admin_units",
            "province code",
            "a code of the 63 provinces (VN-HN, VN-44, ...) or of the 34 units of 2025 "
            "(VN34-AN-GIANG, ...)",
        ),
        "protected_area": ("protected_areas", "protected area code", "e.g. PA-CUC-PHUONG"),
        "facility": ("conservation_facilities", "conservation facility code", "e.g. CF-..."),
    }[kind]
    found = conn.execute(
        sa.text(f"SELECT code FROM {table} WHERE upper(code) = upper(:code) LIMIT 1"),  # noqa: S608 (one of three table names)
        {"code": code},
    ).scalar()
    if found is None:
        raise InvalidInput(f"unknown {what} {code!r}", hint=hint)
    return kind, found


def _taxon_id(conn: Connection, raw: str | int) -> int:
    """The accepted taxon a scope names; an unknown one is a bad grant (400), not a 404."""
    try:
        return find_taxon(conn, raw, accepted_only=True)
    except NotFound as exc:
        raise InvalidInput(exc.message, hint=exc.hint) from None


def _check_required_scopes(conn: Connection, account_id: int, role: str) -> None:
    kinds = REQUIRED_SCOPES.get(role)
    if not kinds:
        return
    present = conn.execute(
        sa.text(
            "SELECT count(*) FROM auth.account_scopes WHERE account_id = :id AND kind = ANY(:kinds)"
        ),
        {"id": account_id, "kinds": list(kinds)},
    ).scalar_one()
    if not present:
        options = " or ".join(f"--{k.replace('_', '-')}" for k in kinds)
        raise InvalidInput(
            f"a {role} needs at least one {' or '.join(kinds)} scope", hint=f"give {options}"
        )


def _describe(kind: str, target: object) -> str:
    return kind if target is None else f"{kind} {target}"


# -- tokens ---------------------------------------------------------------------------------------
def create_token(
    conn: Connection, account_id: int, name: str, days: int = DEFAULT_TOKEN_DAYS
) -> tuple[TokenRow, str]:
    """Create a token for an active account; returns it and its secret (to show once)."""
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 100:
        raise InvalidInput("a token's name is 1 to 100 characters (what or where it is used)")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token lives 1 to {MAX_TOKEN_DAYS} days, not {days!r}")
    active = conn.execute(
        sa.text("SELECT active FROM auth.accounts WHERE id = :id"), {"id": account_id}
    ).scalar()
    if active is None:
        raise NotFound(f"no account {account_id}")
    if not active:
        raise InvalidInput("the account is deactivated: it cannot have new tokens")
    token = new_token()
    token_id = conn.execute(
        sa.text(
            "INSERT INTO auth.api_tokens (account_id, name, token_prefix, token_sha256, "
            "created_at, expires_at) VALUES (:account, :name, :prefix, :digest, now(), "
            "now() + make_interval(days => :days)) RETURNING id"
        ),
        {
            "account": account_id,
            "name": name,
            "prefix": token.prefix,
            "digest": token.digest,
            "days": days,
        },
    ).scalar_one()
    row = get_token(conn, token_id)
    assert row is not None
    return row, token.secret


def get_token(conn: Connection, token_id: int) -> TokenRow | None:
    """The token with this id, or None."""
    if not 1 <= token_id <= MAX_ID:
        return None
    rows = _tokens(conn, "t.id = :id", {"id": token_id})
    return rows[0] if rows else None


def list_tokens(conn: Connection, account_id: int) -> list[TokenRow]:
    """The account's tokens, newest first (revoked and expired ones too)."""
    return _tokens(conn, "t.account_id = :account", {"account": account_id})


def revoke_token(conn: Connection, token_id: int) -> TokenRow:
    """Revoke a token (revoking it again changes nothing); :class:`NotFound` if none."""
    if 1 <= token_id <= MAX_ID:
        conn.execute(
            sa.text(
                "UPDATE auth.api_tokens SET revoked_at = now() WHERE id = :id AND revoked_at "
                "IS NULL"
            ),
            {"id": token_id},
        )
    row = get_token(conn, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    return row


def _tokens(conn: Connection, where: str, params: dict[str, object]) -> list[TokenRow]:
    sql = f"{_TOKENS_SELECT} WHERE {where} ORDER BY t.created_at DESC, t.id DESC"  # noqa: S608 (conditions written here)
    rows = conn.execute(sa.text(sql), params).all()
    return [TokenRow(*r) for r in rows]


# -- principals ---------------------------------------------------------------------------------
def principal_for_account(
    conn: Connection,
    account_id: int,
    *,
    via: str,
    token_id: int | None = None,
    sessions_since: float | None = None,
) -> Principal | None:
    """The principal of an active account, with its scopes, in one query; None when the account
    does not exist, is deactivated, or (``sessions_since``, a POSIX time) changed its password
    after that time."""
    if not 1 <= account_id <= MAX_ID:
        return None
    row = conn.execute(
        sa.text(
            """
            WITH s AS (SELECT * FROM auth.account_scopes WHERE account_id = :id)
            SELECT a.username, a.display_name, a.role,
                   extract(epoch FROM a.password_changed_at) AS password_changed,
                   ARRAY(SELECT admin_unit_code FROM s WHERE kind = 'province') AS provinces,
                   ARRAY(
                       SELECT DISTINCT p.code
                       FROM admin_units n
                       JOIN admin_unit_lineage l ON l.successor_id = n.id
                       JOIN admin_units p ON p.id = l.predecessor_id
                       WHERE n.code IN (SELECT admin_unit_code FROM s WHERE kind = 'province')
                         AND NOT EXISTS (
                             SELECT 1 FROM admin_unit_lineage o JOIN admin_units u
                               ON u.id = o.successor_id
                             WHERE o.predecessor_id = l.predecessor_id
                               AND u.code NOT IN (SELECT admin_unit_code FROM s
                                                  WHERE kind = 'province'))
                   ) AS merged,
                   ARRAY(SELECT protected_area_code FROM s WHERE kind = 'protected_area')
                       AS protected_areas,
                   ARRAY(SELECT facility_code FROM s WHERE kind = 'facility') AS facilities,
                   ARRAY(SELECT taxon_id FROM s WHERE kind = 'taxon') AS taxa,
                   EXISTS (SELECT 1 FROM s WHERE kind = 'exact_locations') AS exact_locations
            FROM auth.accounts a
            WHERE a.id = :id AND a.active
            """
        ),
        {"id": account_id},
    ).one_or_none()
    if row is None:
        return None
    if (
        sessions_since is not None
        and row.password_changed is not None
        and float(row.password_changed) > sessions_since
    ):
        return None
    provinces = frozenset(row.provinces)
    return Principal(
        account_id=account_id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        scopes=Scopes(
            provinces=provinces,
            province_codes=provinces | frozenset(row.merged),
            protected_areas=frozenset(row.protected_areas),
            facilities=frozenset(row.facilities),
            taxa=frozenset(row.taxa),
        ),
        exact_locations=row.exact_locations,
        via=via,
        token_id=token_id,
    )
