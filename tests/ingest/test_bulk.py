"""Bulk loads drop and restore foreign keys, indexes and unique constraints: the table must
come out with exactly the same definitions, and still refuse what they refuse."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.ingest.helpers import ingest
from vbis_geo.analysis.access import Audience
from vbis_geo.export import ExportFilters, export_layer
from vbis_geo.ingest import load

pytestmark = pytest.mark.db


def definitions(conn) -> set[str]:  # type: ignore[no-untyped-def]
    indexes = conn.execute(
        sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'occurrences'")
    ).scalars()
    constraints = conn.execute(
        sa.text(
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'occurrences'::regclass"
        )
    ).scalars()
    return set(indexes) | set(constraints)


def test_bulk_load_restores_the_table(conn, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 1000)
    before = definitions(conn)
    n_before = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
    path = tmp_path / "export.csv"
    # the exact records: a public export's generalised rows are refused by the loader
    export_layer(conn, "occurrences", "csv", path, ExportFilters(), audience=Audience.EXACT)
    frame = pd.read_csv(path, dtype=str)
    # twice the table, under new identifiers: a bulk load
    bulk = pd.concat(
        [
            frame.assign(occurrenceID="bulk-a:" + frame.occurrenceID),
            frame.assign(occurrenceID="bulk-b:" + frame.occurrenceID),
        ]
    )
    bulk_path = tmp_path / "bulk.csv"
    bulk.to_csv(bulk_path, index=False)
    conn.execute(sa.text("ANALYZE occurrences"))
    progress: list[str] = []
    report = ingest(
        conn, "occurrences", bulk_path, progress=lambda stage, done, total: progress.append(stage)
    )
    assert report.n_inserted == len(bulk) == 2 * n_before
    assert "indexing" in progress  # the bulk path was taken
    assert definitions(conn) == before
    # the restored constraints hold: a duplicate identifier and a dangling taxon are refused
    with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                "SELECT occurrence_id, taxon_id, basis_of_record, geom FROM occurrences LIMIT 1"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                "SELECT 'x', -1, basis_of_record, geom FROM occurrences LIMIT 1"
            )
        )
    # loading it again upserts (the unique constraint stays for ON CONFLICT): nothing changes
    again = ingest(conn, "occurrences", bulk_path)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 0, len(bulk))
    assert definitions(conn) == before


def test_bulk_load_into_an_empty_table_copies_straight_in(
    conn, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 1000)
    path = tmp_path / "export.csv"
    # the exact points (the public's export moves sensitive records)
    export_layer(conn, "occurrences", "csv", path, ExportFilters(), audience=Audience.EXACT)
    before = definitions(conn)
    expected = conn.execute(
        sa.text("SELECT occurrence_id, taxon_id, event_date, ST_AsText(geom) FROM occurrences")
    ).all()
    conn.execute(sa.text("DELETE FROM occurrences"))
    progress: list[str] = []
    report = ingest(
        conn, "occurrences", path, progress=lambda stage, done, total: progress.append(stage)
    )
    assert report.written and report.n_inserted == len(expected) >= 1000
    assert "upserting" not in progress and "indexing" in progress  # no staging, bulk
    assert definitions(conn) == before
    loaded = conn.execute(
        sa.text("SELECT occurrence_id, taxon_id, event_date, ST_AsText(geom) FROM occurrences")
    ).all()
    assert sorted(loaded) == sorted(expected)
    dataset = conn.execute(
        sa.text("SELECT id, n_loaded FROM datasets WHERE code = :code"),
        {"code": report.dataset_code},
    ).one()
    assert dataset.n_loaded == len(expected)
    assert conn.execute(
        sa.text("SELECT bool_and(dataset_id = :id) FROM occurrences"), {"id": dataset.id}
    ).scalar_one()
    again = ingest(conn, "occurrences", path)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 0, len(expected))


def test_a_broken_rule_in_an_empty_table_is_reported_by_row(
    conn, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 1000)
    path = tmp_path / "export.csv"
    # the exact records: a public export's generalised rows are refused by the loader
    export_layer(conn, "occurrences", "csv", path, ExportFilters(), audience=Audience.EXACT)
    frame = pd.read_csv(path, dtype=str)
    frame.loc[5, "coordinateUncertaintyInMeters"] = "0"
    frame.to_csv(path, index=False)
    before = definitions(conn)
    conn.execute(sa.text("DELETE FROM occurrences"))
    report = ingest(conn, "occurrences", path)
    assert not report.written
    [issue] = [i for i in report.issues if i.action == "rejected"]
    assert (issue.row, issue.problem) == (7, "breaks the rule uncertainty_positive")
    assert conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one() == 0
    assert definitions(conn) == before
    skipped = ingest(conn, "occurrences", path, skip_rejected=True)
    assert skipped.written and skipped.n_inserted == len(frame) - 1
    assert definitions(conn) == before
