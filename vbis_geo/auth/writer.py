"""The one way a write made for a user reaches the database: :func:`writer`.

Inside the caller's transaction, :func:`writer` switches to the role ``vbis_writer`` (migration
0014: no BYPASSRLS, owns nothing, the DML of the editable tables) and names the account in the
transaction settings ``vbis.account_id`` and ``vbis.change_reason``
(:func:`vbis_geo.db.history.set_change_context`, which the history reads too). Row-level
security then checks every row written against the account's scope, read by the policies from
``auth.account_scopes``, and a trigger enforces the review rules (an expert's contributions are
drafts, a review is recorded with its reviewer). So a bug in a write path (an upload, the OGC
API's editing, the review API) cannot widen what an account may write: the application checks
first, for clear messages (:mod:`vbis_geo.auth.scope`), and the database checks again.

Why a forged ``vbis.account_id`` cannot reach the database through the application: the
settings are transaction-local (``set_config(..., true)``), set here and only here, from the
principal the request authenticated, at the start of each write; a value a previous
transaction (or a session-level ``SET``) left on a pooled connection is overwritten before any
row is written, and gone at commit or rollback. No request parameter names an account. What
SQL the role can run is only what the application sends: the role is a barrier against the
application's own mistakes, not against someone holding the database connection (who could
``RESET ROLE``).

A policy's refusal (SQLSTATE 42501: "new row violates row-level security policy", or a review
rule) becomes :class:`~vbis_geo.errors.Forbidden` (403) naming the table and the row, never a
server error; the transaction is then aborted and the caller rolls back.

Usage::

    with engine.begin() as conn:
        with writer(conn, principal, "correction of the survey date", row="occurrences 42"):
            conn.execute(sa.text("UPDATE occurrences SET event_date = :d WHERE id = 42"), ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from vbis_geo.auth.principal import Principal, require_editing_role
from vbis_geo.db.history import set_change_context
from vbis_geo.errors import Forbidden

#: the database role of writes made for users (migration 0014)
WRITER_ROLE = "vbis_writer"
#: SQLSTATE insufficient_privilege: a policy or a review rule refused the row
_REFUSED = "42501"
_POLICY = re.compile(r'new row violates row-level security policy (?:.*)?for table "([^"]+)"')


@contextmanager
def writer(
    conn: Connection, principal: Principal, reason: str | None, *, row: str | None = None
) -> Iterator[None]:
    """Run the block as ``vbis_writer`` for ``principal``, with ``reason`` kept in the history.

    ``conn`` must be in a transaction (the caller's; commit and rollback stay the caller's).
    ``row`` names what the block writes ("occurrences 42"), for the message of a refusal.
    Raises :class:`~vbis_geo.errors.NotAuthorized` for the public, and
    :class:`~vbis_geo.errors.Forbidden` when the database refuses a row. On leaving the block
    the connection's previous role is restored, unless an error of the database aborted the
    transaction (the account settings stay until the transaction ends).
    """
    require_editing_role(principal, "writing")
    set_change_context(conn, principal.account_id, reason)
    previous = conn.execute(
        sa.text("SELECT current_setting('role'), set_config('role', :role, true)"),
        {"role": WRITER_ROLE},
    ).scalar_one()
    try:
        yield
    except DBAPIError as exc:
        refusal = refused(exc, row)
        if refusal is None:
            raise
        raise refusal from None
    finally:
        if _usable(conn):  # an error of the database aborted it: the caller rolls back
            conn.execute(sa.text("SELECT set_config('role', :role, true)"), {"role": previous})


@contextmanager
def public_contribution(conn: Connection, reason: str) -> Iterator[None]:
    """Run the block as ``vbis_writer`` with no account: a contribution from the public, which
    the database lets insert draft occurrences only (migration 0015). ``conn`` must be in a
    transaction; a refusal becomes :class:`~vbis_geo.errors.Forbidden`."""
    set_change_context(conn, None, reason)
    previous = conn.execute(
        sa.text(
            "SELECT current_setting('role'), set_config('role', :role, true), "
            "set_config('vbis.account_id', '', true), "
            "set_config('vbis.contribution', 'public', true)"
        ),
        {"role": WRITER_ROLE},
    ).scalar_one()
    try:
        yield
    except DBAPIError as exc:
        refusal = refused(exc, "a contribution")
        if refusal is None:
            raise
        raise refusal from None
    finally:
        if _usable(conn):
            conn.execute(
                sa.text(
                    "SELECT set_config('role', :role, true), "
                    "set_config('vbis.contribution', '', true)"
                ),
                {"role": previous},
            )


def _usable(conn: Connection) -> bool:
    """Whether the connection's transaction can run statements (it is not aborted)."""
    import psycopg

    raw = conn.connection.driver_connection
    return bool(raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS)  # type: ignore[union-attr]


def refused(exc: DBAPIError, row: str | None = None) -> Forbidden | None:
    """The :class:`Forbidden` a database refusal stands for (None for any other error)."""
    if getattr(exc.orig, "sqlstate", None) != _REFUSED:
        return None
    message = str(getattr(getattr(exc.orig, "diag", None), "message_primary", None) or exc.orig)
    policy = _POLICY.search(message)
    if policy:
        what = row or f"a row of {policy.group(1)}"
        return Forbidden(
            f"{what}: outside your scope (the database's row-level security of "
            f"{policy.group(1)} refused it)",
            hint="`GET /api/me` lists your scopes; a national administrator can widen them",
        )
    if message.startswith(("permission denied", "must be owner")):
        return None  # a missing grant: the application's bug, not the user's
    return Forbidden(message)
