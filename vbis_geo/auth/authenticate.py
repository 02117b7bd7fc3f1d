"""From a request's credentials to a :class:`Principal`: API tokens, portal sessions, login.

* ``Authorization: Bearer vbis_...`` (QGIS, scripts): a token that is unknown, malformed, of
  another scheme, expired, revoked or of a deactivated account is a 401. A forged or mistyped
  token gets one message whatever was wrong with it; an expired or revoked one says so (telling
  it needs the real secret, so it helps no forger).
* The portal session (a signed cookie holding the account id and the login time): a session
  that is too old, of a deactivated account, or older than the account's last password change
  is dropped and the request is the public's.
* Login: a password checked against the argon2id hash, rate-limited per (username, client
  address) in the database: after :data:`LOGIN_FAILURE_LIMIT` failures in
  :data:`LOGIN_FAILURE_WINDOW` the next attempts are refused (429) unchecked until the window
  has passed. Every failure has the same message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.auth.limits import Limit
from vbis_geo.auth.passwords import verify_password
from vbis_geo.auth.principal import PUBLIC, Principal
from vbis_geo.auth.store import principal_for_account, store_rehashed_password
from vbis_geo.auth.tokens import is_well_formed, same_digest, token_digest
from vbis_geo.errors import NotAuthorized

#: a portal session lasts this long after login, whatever the cookie says
SESSION_LIFETIME = dt.timedelta(hours=12)
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = dt.timedelta(minutes=15)
#: ``last_used_at`` is written at most this often per token
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
LOGIN_FAILED = "the username or password is wrong"
_INVALID_TOKEN = "the API token is not valid"
_TOKEN_HINT = "create a new token: `vbis-geo users token create` or POST /api/tokens"


def authenticate(
    conn: Connection,
    authorization: str | None = None,
    session: Mapping[str, Any] | None = None,
) -> Principal:
    """The principal of a request: by its ``Authorization`` header when it has one, else by its
    portal ``session``, else :data:`PUBLIC`.

    Raises :class:`NotAuthorized` for an ``Authorization`` header that does not authenticate.
    May update the token's ``last_used_at``: the caller commits.
    """
    if authorization is not None and authorization.strip():
        return _from_bearer(conn, authorization)
    if session:
        return _from_session(conn, session) or PUBLIC
    return PUBLIC


def session_data(principal: Principal) -> dict[str, Any]:
    """What the portal session cookie holds after a login (no secret: it is signed, not
    encrypted)."""
    return {"account_id": principal.account_id, "login_at": time.time()}


def _from_bearer(conn: Connection, header: str) -> Principal:
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer":
        raise NotAuthorized(
            "only 'Authorization: Bearer <API token>' is accepted", hint=_TOKEN_HINT
        )
    if not is_well_formed(secret):
        raise NotAuthorized(_INVALID_TOKEN, hint=_TOKEN_HINT)
    digest = token_digest(secret)
    row = conn.execute(
        sa.text(
            f"""
            WITH t AS (
                SELECT t.id, t.account_id, t.token_sha256, t.expires_at, t.revoked_at,
                       t.expires_at <= now() AS expired, a.active
                FROM auth.api_tokens t JOIN auth.accounts a ON a.id = t.account_id
                WHERE t.token_sha256 = :digest
            ), touched AS (
                UPDATE auth.api_tokens SET last_used_at = now()
                WHERE id = (SELECT id FROM t WHERE NOT expired AND revoked_at IS NULL AND active)
                  AND (last_used_at IS NULL OR last_used_at < now() - interval
                       '{int(LAST_USED_RESOLUTION.total_seconds())} seconds')
                RETURNING id
            )
            SELECT t.*, (SELECT count(*) FROM touched) AS touched FROM t
            """  # noqa: S608 (a constant of this module)
        ),
        {"digest": digest},
    ).one_or_none()
    if row is None or not same_digest(bytes(row.token_sha256), digest):
        raise NotAuthorized(_INVALID_TOKEN, hint=_TOKEN_HINT)
    if row.revoked_at is not None:
        raise NotAuthorized(
            f"this API token was revoked on {row.revoked_at:%Y-%m-%d}", hint=_TOKEN_HINT
        )
    if row.expired:
        raise NotAuthorized(
            f"this API token expired on {row.expires_at:%Y-%m-%d}", hint=_TOKEN_HINT
        )
    principal = (
        principal_for_account(conn, row.account_id, via="token", token_id=row.id)
        if row.active
        else None
    )
    if principal is None:
        raise NotAuthorized("the account of this API token is deactivated")
    return principal


def _from_session(conn: Connection, session: Mapping[str, Any]) -> Principal | None:
    account_id = session.get("account_id")
    login_at = session.get("login_at")
    if (
        not isinstance(account_id, int)
        or isinstance(account_id, bool)
        or not isinstance(login_at, int | float)
    ):
        return None
    now = time.time()
    if not now - SESSION_LIFETIME.total_seconds() < login_at <= now + 60:
        return None
    return principal_for_account(conn, account_id, via="session", sessions_since=login_at)


# -- login ------------------------------------------------------------------------------------
def attempt_login(
    conn: Connection, username: str, password: str, client_address: str | None
) -> Principal | None:
    """The principal when ``password`` is the account's, else None (and the failure counted).

    Raises :class:`TooManyAttempts` (without checking the password) when this username from
    this address has failed :data:`LOGIN_FAILURE_LIMIT` times in :data:`LOGIN_FAILURE_WINDOW`.
    The caller commits, whatever the result (the failure count is written).
    """
    name = username.strip().lower() if isinstance(username, str) else ""
    subject = _login_subject(name, client_address or "")
    failures = Limit("login_failures", "failed_at", LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW)
    failures.check(
        conn,
        subject,
        "too many failed logins for this username from this address",
        "wait, then try again; an administrator can set a new password",
    )
    account = conn.execute(
        sa.text(
            "SELECT id, password_hash FROM auth.accounts WHERE username = :username AND active"
        ),
        {"username": name},
    ).one_or_none()
    verified = verify_password(account.password_hash if account else None, password)
    if account is None or not verified.ok:
        failures.count(conn, subject)
        return None
    if verified.new_hash:
        store_rehashed_password(conn, account.id, verified.new_hash)
    conn.execute(
        sa.text("DELETE FROM auth.login_failures WHERE subject_sha256 = :subject"),
        {"subject": subject},
    )
    return principal_for_account(conn, account.id, via="session")


def _login_subject(username: str, client_address: str) -> bytes:
    """What failures are counted by: a digest, so the table never holds what was typed."""
    return hashlib.sha256(f"{username}\x00{client_address}".encode()).digest()
