"""Edit history (migration 0010): every update and delete keeps the version it replaces, with
who, when and why; nothing an edit replaces is lost, and a row can be read as of any time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.ingest.helpers import ingest
from vbis_geo.cli import cli
from vbis_geo.db.history import TABLES, row_as_of, row_history, set_change_context
from vbis_geo.export import ExportFilters, export_layer

pytestmark = pytest.mark.db

SQUARE = "SRID=4326;MULTIPOLYGON(((105 21,105.01 21,105.01 21.01,105 21.01,105 21)))"


def _wetland(conn, code: str = "hist-test") -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO wetlands (code, name_vi, name_en, wetland_type, remarks, geom) "
                "VALUES (:code, 'Đầm thử', 'Test marsh', 'lake', 'first', "
                "ST_GeomFromEWKT(:geom)) RETURNING id"
            ),
            {"code": code, "geom": SQUARE},
        ).scalar_one()
    )


def _account(conn, username: str = "hist-editor") -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO auth.accounts (username, display_name, role) "
                "VALUES (:u, 'History editor', 'national_admin') RETURNING id"
            ),
            {"u": username},
        ).scalar_one()
    )


def _history(conn, table: str, row_id: int) -> list[sa.Row]:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text(
            f"SELECT * FROM history.{table} WHERE id = :id ORDER BY history_id"  # noqa: S608 (a test constant)
        ),
        {"id": row_id},
    ).all()


def test_every_editable_table_has_a_history_with_all_its_columns(conn) -> None:  # type: ignore[no-untyped-def]
    for table in TABLES:
        columns = {
            name: kind
            for name, kind in conn.execute(
                sa.text(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                ),
                {"t": f"public.{table}"},
            )
        }
        kept = dict(
            conn.execute(
                sa.text(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                ),
                {"t": f"history.{table}"},
            ).all()
        )
        assert columns.items() <= kept.items(), table
        triggers = set(
            conn.execute(
                sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass)"),
                {"t": f"public.{table}"},
            ).scalars()
        )
        assert {"history_update", "history_delete"} <= triggers, table


def test_update_and_delete_keep_the_old_version_with_who_when_why(conn) -> None:  # type: ignore[no-untyped-def]
    wetland = _wetland(conn)
    assert _history(conn, "wetlands", wetland) == []  # an insert replaces nothing
    editor = _account(conn)
    set_change_context(conn, editor, "renamed after the survey")
    conn.execute(
        sa.text("UPDATE wetlands SET name_en = 'Survey marsh', remarks = 'second' WHERE id = :id"),
        {"id": wetland},
    )
    now = conn.execute(sa.text("SELECT now()")).scalar_one()
    [update] = _history(conn, "wetlands", wetland)
    assert (update.name_en, update.remarks, update.code) == ("Test marsh", "first", "hist-test")
    assert (update.changed_by, update.change_reason, update.change_kind) == (
        editor,
        "renamed after the survey",
        "update",
    )
    assert update.changed_at == now
    assert conn.execute(
        sa.text("SELECT ST_Equals(geom, ST_GeomFromEWKT(:g)) FROM history.wetlands WHERE id = :id"),
        {"g": SQUARE, "id": wetland},
    ).scalar_one()

    set_change_context(conn, None, None)  # a system change: no who, no why
    conn.execute(sa.text("DELETE FROM wetlands WHERE id = :id"), {"id": wetland})
    update, delete = _history(conn, "wetlands", wetland)
    assert (delete.name_en, delete.remarks) == ("Survey marsh", "second")
    assert (delete.changed_by, delete.change_reason, delete.change_kind) == (None, None, "delete")

    versions = row_history(conn, "wetlands", wetland)
    assert [v.change_kind for v in versions] == ["update", "delete"]
    assert versions[0].started == update.created_at  # the first version started when loaded
    assert versions[1].started == versions[0].ended == now
    assert not versions[-1].current


def test_a_no_op_update_adds_nothing(conn) -> None:  # type: ignore[no-untyped-def]
    wetland = _wetland(conn)
    conn.execute(sa.text("UPDATE wetlands SET remarks = remarks WHERE id = :id"), {"id": wetland})
    # a touch of updated_at alone is not a change either
    conn.execute(
        sa.text("UPDATE wetlands SET updated_at = now() + interval '1 hour' WHERE id = :id"),
        {"id": wetland},
    )
    assert _history(conn, "wetlands", wetland) == []
    # a table without timestamps
    status = conn.execute(sa.text("SELECT min(id) FROM taxon_statuses")).scalar_one()
    conn.execute(sa.text("UPDATE taxon_statuses SET id = id WHERE id = :id"), {"id": status})
    assert _history(conn, "taxon_statuses", status) == []


def test_history_survives_the_deletion_of_the_account(conn) -> None:  # type: ignore[no-untyped-def]
    wetland = _wetland(conn)
    editor = _account(conn)
    set_change_context(conn, editor, "typo")
    conn.execute(sa.text("UPDATE wetlands SET remarks = 'fixed' WHERE id = :id"), {"id": wetland})
    conn.execute(sa.text("DELETE FROM auth.accounts WHERE id = :id"), {"id": editor})
    [update] = _history(conn, "wetlands", wetland)
    assert (update.changed_by, update.change_reason, update.remarks) == (editor, "typo", "first")


def test_change_context_is_bound_and_transaction_local(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        with conn.begin():
            set_change_context(conn, 7, "it's; DROP TABLE wetlands; --")
            assert (
                conn.execute(
                    sa.text("SELECT current_setting('vbis.change_reason', true)")
                ).scalar_one()
                == "it's; DROP TABLE wetlands; --"
            )
        with conn.begin():
            assert conn.execute(
                sa.text("SELECT current_setting('vbis.account_id', true)")
            ).scalar_one() in (None, "")


def test_a_reload_keeps_the_replaced_values(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    export_layer(conn, "occurrences", "csv", path, ExportFilters())
    frame = pd.read_csv(path, dtype=str).head(5)
    frame = frame.assign(occurrenceID="hist:" + frame.occurrenceID, locality="first locality")
    frame.to_csv(path, index=False)
    report = ingest(conn, "occurrences", path)
    assert report.n_inserted == 5
    ids = (
        conn.execute(
            sa.text("SELECT id FROM occurrences WHERE occurrence_id LIKE 'hist:%' ORDER BY id")
        )
        .scalars()
        .all()
    )
    assert len(ids) == 5
    count = sa.text("SELECT count(*) FROM history.occurrences WHERE id = ANY(:ids)")
    assert conn.execute(count, {"ids": ids}).scalar_one() == 0  # a first load: no history

    report = ingest(conn, "occurrences", path)  # the same file again changes nothing
    assert (report.n_updated, report.n_unchanged) == (0, 5)
    assert conn.execute(count, {"ids": ids}).scalar_one() == 0

    frame.assign(locality="corrected locality").to_csv(path, index=False)
    report = ingest(conn, "occurrences", path)
    assert report.n_updated == 5
    kept = conn.execute(
        sa.text(
            "SELECT id, locality, change_kind FROM history.occurrences WHERE id = ANY(:ids) "
            "ORDER BY id"
        ),
        {"ids": ids},
    ).all()
    assert [tuple(r) for r in kept] == [(i, "first locality", "update") for i in ids]
    assert conn.execute(
        sa.text("SELECT DISTINCT locality FROM occurrences WHERE id = ANY(:ids)"), {"ids": ids}
    ).scalars().all() == ["corrected locality"]


@pytest.fixture
def committed_wetland(engine):  # type: ignore[no-untyped-def]
    """A wetland edited in committed transactions (each has its own time); removed after."""
    with engine.begin() as conn:
        wetland = _wetland(conn, "hist-committed")
    try:
        yield wetland
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM wetlands WHERE id = :id"), {"id": wetland})
            conn.execute(sa.text("DELETE FROM history.wetlands WHERE id = :id"), {"id": wetland})


def test_row_as_of_before_between_and_after_edits(engine, committed_wetland) -> None:  # type: ignore[no-untyped-def]
    wetland = committed_wetland

    def clock() -> dt.datetime:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()

    def edit(remarks: str, reason: str) -> None:
        with engine.begin() as conn:
            set_change_context(conn, None, reason)
            conn.execute(
                sa.text("UPDATE wetlands SET remarks = :r, updated_at = now() WHERE id = :id"),
                {"r": remarks, "id": wetland},
            )

    with engine.connect() as conn:
        created = conn.execute(
            sa.text("SELECT created_at FROM wetlands WHERE id = :id"), {"id": wetland}
        ).scalar_one()
    after_insert = clock()
    edit("second", "survey")
    after_first = clock()
    # an edit through a path that does not touch updated_at: the change time still counts
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE wetlands SET remarks = 'third' WHERE id = :id"), {"id": wetland}
        )
    after_second = clock()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM wetlands WHERE id = :id"), {"id": wetland})
    after_delete = clock()

    with engine.connect() as conn:

        def remarks(when: dt.datetime) -> str | None:
            row = row_as_of(conn, "wetlands", wetland, when)
            return None if row is None else str(row["remarks"])

        assert remarks(created - dt.timedelta(seconds=1)) is None  # before it existed
        assert remarks(created) == "first"
        assert remarks(after_insert) == "first"
        assert remarks(after_first) == "second"
        assert remarks(after_second) == "third"
        assert remarks(after_delete) is None
        versions = row_history(conn, "wetlands", wetland)
        assert [v.values["remarks"] for v in versions] == ["first", "second", "third"]
        assert [v.change_kind for v in versions] == ["update", "update", "delete"]
        # each version starts where the one before ended
        for before, after in zip(versions, versions[1:], strict=False):
            assert after.started == before.ended
        row = row_as_of(conn, "wetlands", wetland, after_first)
        assert row is not None and row["geom"].startswith("SRID=4326;MULTIPOLYGON")


def test_row_as_of_the_current_row(conn) -> None:  # type: ignore[no-untyped-def]
    wetland = _wetland(conn)
    now = conn.execute(sa.text("SELECT now()")).scalar_one()
    row = row_as_of(conn, "wetlands", wetland, now)
    assert row is not None and row["remarks"] == "first"
    assert row_as_of(conn, "wetlands", wetland, now - dt.timedelta(days=1)) is None
    with pytest.raises(ValueError, match="no history"):
        row_as_of(conn, "datasets; DROP TABLE x", wetland, now)


def test_history_cli(engine, test_settings, committed_wetland) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        editor = _account(conn, "hist-cli")
        set_change_context(conn, editor, "new name")
        conn.execute(
            sa.text("UPDATE wetlands SET name_en = 'Renamed marsh' WHERE id = :id"),
            {"id": committed_wetland},
        )
    try:
        result = CliRunner().invoke(
            cli, ["history", "wetlands", str(committed_wetland)], obj=test_settings
        )
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM auth.accounts WHERE id = :id"), {"id": editor})
    assert result.exit_code == 0, result.output
    assert "update" in result.output and "by hist-cli" in result.output
    assert "reason: new name" in result.output
    assert "name_en: 'Test marsh' -> 'Renamed marsh'" in result.output
    assert "remarks" not in result.output  # only what changed
