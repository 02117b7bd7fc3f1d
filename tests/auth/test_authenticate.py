"""Tokens and sessions to principals; login with its rate limit; secrets never stored."""

from __future__ import annotations

import hashlib
import time

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from vbis_geo.auth import PUBLIC, attempt_login, authenticate, session_data
from vbis_geo.auth.authenticate import LOGIN_FAILURE_LIMIT
from vbis_geo.auth.store import (
    Grant,
    create_account,
    create_token,
    deactivate,
    list_tokens,
    revoke_token,
    set_password,
)
from vbis_geo.auth.tokens import new_token
from vbis_geo.errors import InvalidInput, NotAuthorized, TooManyAttempts

pytestmark = pytest.mark.db

PASSWORD = "Xuân Thủy Ramsar 1989"
INVALID = "the API token is not valid"


@pytest.fixture
def editor(conn):  # type: ignore[no-untyped-def]
    return create_account(
        conn,
        "tok-editor",
        role="provincial_editor",
        password=PASSWORD,
        grants=[Grant("province", "VN-HN")],
    )


def bearer(secret: str) -> str:
    return f"Bearer {secret}"


def test_token_lifecycle(conn, editor) -> None:  # type: ignore[no-untyped-def]
    row, secret = create_token(conn, editor.id, "QGIS laptop", days=30)
    assert row.prefix == secret[:11] and row.last_used_at is None
    assert (row.expires_at - row.created_at).days == 30
    principal = authenticate(conn, bearer(secret))
    assert (principal.username, principal.role, principal.via) == (
        "tok-editor",
        "provincial_editor",
        "token",
    )
    assert principal.token_id == row.id and principal.scopes.provinces == {"VN-HN"}
    # the scheme is case-insensitive, surrounding blanks are ignored
    assert authenticate(conn, f"  bearer   {secret} ").username == "tok-editor"
    revoke_token(conn, row.id)
    with pytest.raises(NotAuthorized, match="was revoked on"):
        authenticate(conn, bearer(secret))
    assert revoke_token(conn, row.id).revoked_at is not None  # again: no change, no error


def test_expired_token(conn, editor) -> None:  # type: ignore[no-untyped-def]
    row, secret = create_token(conn, editor.id, "old script", days=1)
    conn.execute(
        sa.text(
            "UPDATE auth.api_tokens SET created_at = now() - interval '3 days', expires_at = "
            "now() - interval '2 days' WHERE id = :id"
        ),
        {"id": row.id},
    )
    with pytest.raises(NotAuthorized, match="expired on"):
        authenticate(conn, bearer(secret))
    assert list_tokens(conn, editor.id)[0].last_used_at is None


def test_last_used_is_written_at_most_once_a_minute(conn, editor) -> None:  # type: ignore[no-untyped-def]
    row, secret = create_token(conn, editor.id, "tiles")

    def last_used():  # type: ignore[no-untyped-def]
        return conn.execute(
            sa.text("SELECT last_used_at FROM auth.api_tokens WHERE id = :id"), {"id": row.id}
        ).scalar()

    authenticate(conn, bearer(secret))
    first = last_used()
    assert first is not None
    conn.execute(
        sa.text("UPDATE auth.api_tokens SET last_used_at = last_used_at - interval '30 seconds'")
    )
    authenticate(conn, bearer(secret))
    assert last_used() < first  # within the minute: not written
    conn.execute(
        sa.text("UPDATE auth.api_tokens SET last_used_at = last_used_at - interval '2 minutes'")
    )
    authenticate(conn, bearer(secret))
    assert last_used() >= first


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer x",
        "Bearer vbis_short",
        "Bearer vbis_" + "A" * 44,
        "Bearer " + "A" * 48,
        "Bearer vbis_" + "A" * 42 + "\x00",
        "Bearer vbis_" + "é" * 43,
        "Bearer vbis_" + "A" * 43 + "' OR '1'='1",
    ],
)
def test_malformed_tokens_get_one_message(conn, header: str) -> None:
    with pytest.raises(NotAuthorized) as info:
        authenticate(conn, header)
    assert info.value.message == INVALID


def test_a_forged_token_gets_the_same_message(conn, editor) -> None:  # type: ignore[no-untyped-def]
    _, secret = create_token(conn, editor.id, "real")
    for forged in [new_token().secret, secret[:-1] + ("A" if secret[-1] != "A" else "B")]:
        with pytest.raises(NotAuthorized) as info:
            authenticate(conn, bearer(forged))
        assert info.value.message == INVALID


def test_other_schemes_are_refused(conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAuthorized, match="only 'Authorization: Bearer"):
        authenticate(conn, "Basic dG9rLWVkaXRvcjpwYXNzd29yZA==")


def test_no_credentials_is_the_public(conn) -> None:  # type: ignore[no-untyped-def]
    assert authenticate(conn) is PUBLIC
    assert authenticate(conn, "", {}) is PUBLIC
    assert not PUBLIC.is_authenticated and not PUBLIC.may_edit


def test_tokens_of_a_deactivated_account_stop(conn, editor) -> None:  # type: ignore[no-untyped-def]
    _, secret = create_token(conn, editor.id, "script")
    deactivate(conn, editor.username)
    with pytest.raises(NotAuthorized, match="deactivated"):
        authenticate(conn, bearer(secret))
    with pytest.raises(InvalidInput, match="deactivated"):
        create_token(conn, editor.id, "another")


@pytest.mark.parametrize(
    ("name", "days", "problem"),
    [("", 30, "1 to 100 characters"), ("x", 0, "1 to 365 days"), ("x", 366, "1 to 365 days"),
     ("x", True, "1 to 365 days"), ("x" * 101, 30, "1 to 100")],
)  # fmt: skip
def test_token_name_and_lifetime_are_bounded(conn, editor, name, days, problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=problem):
        create_token(conn, editor.id, name, days)


def test_the_database_bounds_token_lifetime(conn, editor) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="expiry_bounded"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.api_tokens (account_id, name, token_prefix, token_sha256, "
                "expires_at) VALUES (:id, 'forever', 'vbis_x', :digest, now() + interval "
                "'400 days')"
            ),
            {"id": editor.id, "digest": b"\x01" * 32},
        )
    # and its default is 90 days
    expires = conn.execute(
        sa.text(
            "INSERT INTO auth.api_tokens (account_id, name, token_prefix, token_sha256) VALUES "
            "(:id, 'default', 'vbis_x', :digest) RETURNING expires_at - created_at"
        ),
        {"id": editor.id, "digest": b"\x02" * 32},
    ).scalar_one()
    assert expires.days == 90


def test_secrets_are_never_stored(conn, editor) -> None:  # type: ignore[no-untyped-def]
    _, secret = create_token(conn, editor.id, "stored hashed")
    attempt_login(conn, editor.username, "wrong password, once", "192.0.2.1")
    attempt_login(conn, PASSWORD, PASSWORD, "192.0.2.1")  # a password typed as the username
    dump = " ".join(
        text
        for table in ("accounts", "account_scopes", "api_tokens", "login_failures")
        for text in conn.execute(
            sa.text(f"SELECT row_to_json(t)::text FROM auth.{table} t")  # noqa: S608 (the four table names)
        ).scalars()
    )
    assert secret not in dump and secret[11:] not in dump and secret[11:30] not in dump
    assert PASSWORD not in dump and "wrong password" not in dump
    stored = conn.execute(
        sa.text("SELECT token_sha256 FROM auth.api_tokens WHERE name = 'stored hashed'")
    ).scalar_one()
    assert bytes(stored) == hashlib.sha256(secret.encode()).digest()


# -- sessions -------------------------------------------------------------------------------------
def test_session_lifecycle(conn, editor) -> None:  # type: ignore[no-untyped-def]
    principal = attempt_login(conn, "TOK-Editor", PASSWORD, "192.0.2.7")
    assert principal is not None and principal.via == "session"
    data = session_data(principal)
    assert set(data) == {"account_id", "login_at"}
    assert authenticate(conn, None, data).username == "tok-editor"
    # a token wins over the session, and a bad one is not excused by a good session
    with pytest.raises(NotAuthorized):
        authenticate(conn, "Bearer nonsense", data)
    # too old, from the future, malformed: the public
    for stale in [
        {**data, "login_at": time.time() - 13 * 3600},
        {**data, "login_at": time.time() + 3600},
        {**data, "account_id": "1"},
        {**data, "account_id": True},
        {"login_at": data["login_at"]},
        {**data, "account_id": 2**40},
    ]:
        assert authenticate(conn, None, stale) is PUBLIC, stale
    # a new password ends the sessions that predate it
    set_password(conn, editor.username, "a new password for VN-HN")
    assert authenticate(conn, None, data) is PUBLIC
    fresh = attempt_login(conn, editor.username, "a new password for VN-HN", "192.0.2.7")
    assert fresh is not None
    assert authenticate(conn, None, session_data(fresh)).username == "tok-editor"
    deactivate(conn, editor.username)
    assert authenticate(conn, None, session_data(fresh)) is PUBLIC


# -- login ----------------------------------------------------------------------------------------
def test_login_failures_are_alike_and_limited(conn, editor) -> None:  # type: ignore[no-untyped-def]
    create_account(conn, "token-only", role="expert")
    assert attempt_login(conn, "token-only", "", "192.0.2.1") is None
    assert attempt_login(conn, "nobody-at-all", PASSWORD, "192.0.2.1") is None
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert attempt_login(conn, editor.username, "not the password", "192.0.2.1") is None
    # blocked now, even with the right password; the wait is said
    with pytest.raises(TooManyAttempts) as info:
        attempt_login(conn, editor.username, PASSWORD, "192.0.2.1")
    assert 1 <= info.value.retry_after_s <= 15 * 60 + 1
    with pytest.raises(TooManyAttempts):
        attempt_login(conn, editor.username.upper(), PASSWORD, "192.0.2.1")
    # per username and address: the same user elsewhere, and others here, may still log in
    assert attempt_login(conn, editor.username, PASSWORD, "198.51.100.4") is not None
    assert attempt_login(conn, "token-only", "", "192.0.2.1") is None
    # the window passes
    conn.execute(sa.text("UPDATE auth.login_failures SET failed_at = now() - interval '16 min'"))
    assert attempt_login(conn, editor.username, PASSWORD, "192.0.2.1") is not None


def test_a_success_clears_the_failures(conn, editor) -> None:  # type: ignore[no-untyped-def]
    for _ in range(LOGIN_FAILURE_LIMIT - 1):
        attempt_login(conn, editor.username, "not the password", "192.0.2.9")
    assert attempt_login(conn, editor.username, PASSWORD, "192.0.2.9") is not None
    for _ in range(LOGIN_FAILURE_LIMIT - 1):
        attempt_login(conn, editor.username, "not the password", "192.0.2.9")
    assert attempt_login(conn, editor.username, PASSWORD, "192.0.2.9") is not None


def test_login_rehashes_a_password_hashed_with_old_parameters(conn, editor) -> None:  # type: ignore[no-untyped-def]
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    conn.execute(
        sa.text("UPDATE auth.accounts SET password_hash = :h WHERE id = :id"),
        {"h": old, "id": editor.id},
    )
    principal = attempt_login(conn, editor.username, PASSWORD, "192.0.2.3")
    assert principal is not None
    stored = conn.execute(
        sa.text("SELECT password_hash FROM auth.accounts WHERE id = :id"), {"id": editor.id}
    ).scalar_one()
    assert stored != old and "m=65536,t=3,p=4" in stored
    # a rehash is not a password change: the session just made stays valid
    assert authenticate(conn, None, session_data(principal)).username == editor.username
