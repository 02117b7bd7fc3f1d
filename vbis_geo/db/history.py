"""Edit history: who changed a row, when and why, and the row as it was at any time.

Migration 0010 keeps, in ``history.<table>``, every version of a row an UPDATE or a DELETE
replaces (row triggers copy OLD; an update that changes nothing but ``updated_at`` is not a
change). Each history row has the table's columns and:

* ``changed_at``: when the version was replaced (the editing transaction's time). The version
  *started* at the later of the row's ``created_at`` (tables without one: the beginning) and the
  row's previous ``changed_at``; that is looked up here, on reading, so that writes do none. A
  touch of ``updated_at`` alone is not a change, so ``updated_at`` does not say when a version
  started;
* ``changed_by``: ``auth.accounts.id`` (no foreign key, so deleting an account keeps its
  history), NULL for a system change; ``change_reason``; ``change_kind`` (update, delete).

Who and why come from transaction settings that :func:`set_change_context` sets, inside the
editing transaction, before the edit.

**As of time T** (transaction time: what the database held at T, not the ``valid_from``/
``valid_to`` validity dates, which say when a boundary is in force in the world):

* the first change of the row after T (``changed_at > T``, the earliest, ties by
  ``history_id``) holds the version current at T, if that version had started by T
  (its ``created_at <= T``: the previous change is before T by construction; otherwise the row
  did not exist at T, having been deleted and inserted again under the same id since);
* with no change after T, the current row, if it existed at T (``created_at <= T`` where the
  table has ``created_at``);
* else the row did not exist at T.

The same rule in SQL, for one table (``:id``, ``:t`` bound)::

    SELECT * FROM (
        SELECT h.* FROM history.occurrences h WHERE h.id = :id AND h.changed_at > :t
        ORDER BY h.changed_at, h.history_id LIMIT 1) first_change
    WHERE created_at <= :t
    -- and, when that finds nothing and no change after :t exists:
    SELECT * FROM occurrences WHERE id = :id AND created_at <= :t
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: the tables with a history (migrations 0010, 0018); table names in SQL come from here only
TABLES = (
    "admin_units",
    "protected_areas",
    "pa_designations",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "taxa",
    "taxon_statuses",
    "sensitivity_overrides",  # migration 0018
)
#: the columns history adds to the table's own
META_COLUMNS = (
    "history_id",
    "changed_at",
    "changed_by",
    "change_kind",
    "change_reason",
)


@dataclasses.dataclass(frozen=True)
class Version:
    """One version of a row: ``values`` were current during ``[started, ended)``."""

    values: dict[str, object]
    started: dt.datetime | None
    #: when it was replaced; None for the current row
    ended: dt.datetime | None = None
    changed_by: int | None = None
    change_kind: str | None = None
    change_reason: str | None = None

    @property
    def current(self) -> bool:
        return self.ended is None


def set_change_context(conn: Connection, account_id: int | None, reason: str | None) -> None:
    """Record ``account_id`` (None: a system change) and ``reason`` with every change the rest
    of this transaction makes (transaction-local settings, gone at commit or rollback)."""
    conn.execute(
        sa.text(
            "SELECT set_config('vbis.account_id', :account, true), "
            "set_config('vbis.change_reason', :reason, true)"
        ),
        {"account": "" if account_id is None else str(int(account_id)), "reason": reason or ""},
    )


def _table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"no history for {table!r}: one of {', '.join(TABLES)}")
    return table


def _columns(conn: Connection, table: str) -> list[tuple[str, bool]]:
    """The table's columns, in order, and whether each is a geometry."""
    return [
        (str(name), bool(is_geometry))
        for name, is_geometry in conn.execute(
            sa.text(
                "SELECT attname, atttypid = 'public.geometry'::regtype FROM pg_attribute "
                "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum"
            ),
            {"t": f"public.{table}"},
        )
    ]


def _select_list(columns: list[tuple[str, bool]], alias: str) -> str:
    """The columns, geometries as EWKT (readable, and comparable between versions)."""
    return ", ".join(
        f'ST_AsEWKT({alias}."{name}") AS "{name}"' if geometry else f'{alias}."{name}"'
        for name, geometry in columns
    )


def row_history(conn: Connection, table: str, row_id: int) -> list[Version]:
    """Every version of row ``row_id`` of ``table``, oldest first; the last is the current row
    (``current``) unless the row was deleted."""
    table = _table(table)
    columns = _columns(conn, table)
    names = [n for n, _ in columns]
    select = _select_list(columns, "h")
    rows = conn.execute(
        sa.text(
            f"SELECT {select}, h.changed_at, h.changed_by, h.change_kind, "  # noqa: S608 (names from TABLES and the catalog)
            f"h.change_reason FROM history.{table} h WHERE h.id = :id "
            "ORDER BY h.changed_at, h.history_id"
        ),
        {"id": row_id},
    ).all()
    versions = []
    previous: dt.datetime | None = None
    for row in rows:
        values = dict(zip(names, row[: len(names)], strict=True))
        versions.append(
            Version(
                values=values,
                started=_later(values.get("created_at"), previous),
                ended=row[len(names)],
                changed_by=row[len(names) + 1],
                change_kind=row[len(names) + 2],
                change_reason=row[len(names) + 3],
            )
        )
        previous = row[len(names)]
    current = conn.execute(
        sa.text(f"SELECT {_select_list(columns, 't')} FROM public.{table} t WHERE t.id = :id"),  # noqa: S608
        {"id": row_id},
    ).first()
    if current is not None:
        values = dict(zip(names, current, strict=True))
        versions.append(Version(values=values, started=_later(values.get("created_at"), previous)))
    return versions


def row_as_of(conn: Connection, table: str, row_id: int, when: dt.datetime) -> dict | None:
    """Row ``row_id`` of ``table`` as the database held it at ``when`` (None: it did not exist
    then); the rule is the module's."""
    table = _table(table)
    columns = _columns(conn, table)
    names = [n for n, _ in columns]
    first_change = conn.execute(
        sa.text(
            f"SELECT {_select_list(columns, 'h')} FROM history.{table} h "  # noqa: S608 (names from TABLES and the catalog)
            "WHERE h.id = :id AND h.changed_at > :when "
            "ORDER BY h.changed_at, h.history_id LIMIT 1"
        ),
        {"id": row_id, "when": when},
    ).first()
    if first_change is not None:
        values = dict(zip(names, first_change, strict=True))
        created = values.get("created_at")
        return None if isinstance(created, dt.datetime) and created > when else values
    existed = "AND t.created_at <= :when" if "created_at" in names else ""
    current = conn.execute(
        sa.text(
            f"SELECT {_select_list(columns, 't')} FROM public.{table} t "  # noqa: S608
            f"WHERE t.id = :id {existed}"
        ),
        {"id": row_id, "when": when},
    ).first()
    return None if current is None else dict(zip(names, current, strict=True))


def _later(a: object, b: dt.datetime | None) -> dt.datetime | None:
    starts = [t for t in (a, b) if isinstance(t, dt.datetime)]
    return max(starts) if starts else None


def changed_fields(before: dict[str, object], after: dict[str, object]) -> dict[str, tuple]:
    """The fields whose value differs between two versions: ``{name: (before, after)}``
    (``updated_at`` left out: it changes with everything)."""
    names = list(before) + [n for n in after if n not in before]
    return {
        name: (before.get(name), after.get(name))
        for name in names
        if name != "updated_at" and before.get(name) != after.get(name)
    }
