"""A large load into an empty table is checked and sent in slices (the server stores one while
Python checks the next). It must write what the whole-file path writes and report what it
reports; a bad row in any slice, a key repeated across slices or a broken rule undoes it, and
the whole-file path then reports the file as it always does, with nothing written."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest
from tests.ingest.test_bulk import definitions
from vbis_geo.analysis.access import Audience
from vbis_geo.errors import InvalidInput
from vbis_geo.export import ExportFilters, export_layer
from vbis_geo.ingest import load, sliced
from vbis_geo.ingest.report import Report

pytestmark = pytest.mark.db

#: every column a load writes (not the identity, the timestamps or the dataset, which differ)
LOADED = (
    "SELECT occurrence_id, taxon_id, basis_of_record, event_date, event_date_end, recorded_by, "
    "individual_count, coordinate_uncertainty_m, locality, verbatim_scientific_name, "
    "occurrence_remarks, ST_AsEWKT(geom), review_status FROM occurrences"
)


@pytest.fixture
def exported(conn, tmp_path: Path, monkeypatch) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The exact records as a Darwin Core CSV (``tmp_path / 'export.csv'``) and Archive
    (``export.zip``), the table emptied, and slices of 300 rows for any load of 600 rows or
    more (a CSV file of 100 kB or more, read as a stream in blocks of 64 kB)."""
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 1000)
    slices_of_300(monkeypatch)
    path = tmp_path / "export.csv"
    export_layer(conn, "occurrences", "csv", path, ExportFilters(), audience=Audience.EXACT)
    archive = tmp_path / "export.zip"
    export_layer(conn, "occurrences", "dwca", archive, ExportFilters(), audience=Audience.EXACT)
    conn.execute(sa.text("DELETE FROM occurrences"))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(frame) >= 1000  # four slices at least
    return frame


def slices_of_300(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sliced, "SLICED_MIN_ROWS", 600)
    monkeypatch.setattr(sliced, "STREAMED_MIN_BYTES", 100_000)
    monkeypatch.setattr(sliced, "STREAM_BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(sliced, "SLICE_ROWS", 300)


def whole_files_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sliced, "SLICED_MIN_ROWS", 10**9)
    monkeypatch.setattr(sliced, "STREAMED_MIN_BYTES", 10**12)


def load_both_ways(conn, path: Path, monkeypatch, **options: object):  # type: ignore[no-untyped-def]
    """(report, rows, stages, dataset entry) of the sliced load, undone, then of the
    whole-file load."""
    out = []
    for in_slices in (True, False):
        if not in_slices:
            whole_files_only(monkeypatch)
        stages: list[tuple[str, int]] = []
        attempt = conn.begin_nested()
        report = ingest(
            conn,
            "occurrences",
            path,
            progress=lambda stage, done, total: stages.append((stage, done)),  # noqa: B023
            **options,
        )
        rows = sorted(conn.execute(sa.text(LOADED)).all(), key=str)
        dataset = conn.execute(
            sa.text(
                "SELECT n_loaded, ST_AsText(extent), temporal_start, temporal_end FROM datasets "
                "WHERE code = :code"
            ),
            {"code": report.dataset_code},
        ).one()
        if in_slices:
            attempt.rollback()
        else:
            attempt.commit()
        out.append((report, rows, stages, tuple(dataset)))
    return out


def issues(report: Report) -> Counter:
    return Counter(tuple(i.as_dict().values()) for i in report.issues)


@pytest.mark.parametrize("file", ["export.csv", "export.zip"])  # streamed, read whole
def test_a_large_load_goes_in_slices_and_writes_what_the_whole_file_path_writes(
    conn, exported: pd.DataFrame, tmp_path: Path, monkeypatch, file: str
) -> None:  # type: ignore[no-untyped-def]
    before = definitions(conn)
    reads: list[Path] = []
    read = load.read_source
    monkeypatch.setattr(
        load, "read_source", lambda path, **k: reads.append(path) or read(path, **k)
    )
    (in_slices, sliced_rows, stages, sliced_dataset), (whole, whole_rows, whole_stages, dataset) = (
        load_both_ways(conn, tmp_path / file, monkeypatch)
    )
    # a CSV file is read as a stream by the sliced load, an archive whole, then sliced
    assert len(reads) == (1 if file.endswith(".csv") else 2)
    # slices checked one after the other, while the COPY runs
    assert [done for stage, done in stages if stage == "validating"][:4] == [0, 300, 600, 900]
    assert not any(stage == "validating" and done for stage, done in whole_stages)
    assert in_slices.written and whole.written
    assert in_slices.n_inserted == whole.n_inserted == len(exported)
    assert sliced_rows == whole_rows and len(sliced_rows) == len(exported)
    # the same report: row issues and file notes (each once, though every slice noted them)
    assert issues(in_slices) == issues(whole)
    for attribute in ("n_read", "source_crs", "columns", "encoding", "dataset_code"):
        assert getattr(in_slices, attribute) == getattr(whole, attribute)
    assert definitions(conn) == before
    # the dataset's extent and time span, gathered from the slices, are those read back
    assert sliced_dataset == dataset
    assert dataset[0] == len(exported) and dataset[1].startswith("POLYGON") and dataset[2]


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        # a bad cell in the last slice
        (-3, "individualCount", "twelve", "not a whole number"),
        # a point in the sea off Africa, in the third slice
        (650, "decimalLongitude", "10.5", "outside Vietnam and its waters"),
        # a CHECK rule of the table, seen only by the database, in the second slice
        (310, "coordinateUncertaintyInMeters", "0", "breaks the rule uncertainty_positive"),
    ],
)
def test_a_bad_row_in_any_slice_leaves_the_table_as_it_was(
    conn, exported: pd.DataFrame, tmp_path: Path, monkeypatch, row, column, value, problem
) -> None:  # type: ignore[no-untyped-def]
    frame = exported.copy()
    index = row % len(frame)
    frame.loc[index, column] = value
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    before, tables = definitions(conn), counts(conn)
    stages: list[tuple[str, int]] = []
    report = ingest(
        conn, "occurrences", path, progress=lambda stage, done, total: stages.append((stage, done))
    )
    assert any(stage == "validating" and done for stage, done in stages)  # slices were tried
    assert not report.written and report.n_inserted == 0
    [issue] = [i for i in report.issues if i.action == "rejected"]
    assert (issue.row, issue.problem.split(" (")[0]) == (index + 2, problem)  # the file's line
    assert counts(conn) == tables and definitions(conn) == before
    # the whole-file path's report, word for word
    whole_files_only(monkeypatch)
    assert issues(ingest(conn, "occurrences", path)) == issues(report)
    # and with skip_rejected, every other row
    slices_of_300(monkeypatch)
    skipped = ingest(conn, "occurrences", path, skip_rejected=True)
    assert skipped.written and skipped.n_inserted == len(frame) - 1
    assert definitions(conn) == before


@pytest.mark.parametrize("again", [900, 20])  # in another slice, in the same one
def test_a_repeated_key_is_reported_on_both_rows(
    conn, exported: pd.DataFrame, tmp_path: Path, again: int
) -> None:  # type: ignore[no-untyped-def]
    frame = exported.copy()
    frame.loc[again, "occurrenceID"] = frame.loc[10, "occurrenceID"]
    path = tmp_path / "repeated.csv"
    frame.to_csv(path, index=False)
    tables = counts(conn)
    report = ingest(conn, "occurrences", path)
    assert not report.written
    rejected = sorted((i.row, i.field) for i in report.issues if i.action == "rejected")
    assert rejected == [(12, "occurrence_id"), (again + 2, "occurrence_id")]
    assert counts(conn) == tables


def test_a_line_the_stream_cannot_read_is_named_by_the_whole_file_read(
    conn, exported: pd.DataFrame, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lines = (tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()
    lines[900] += ",two,more"  # line 901, in the fourth slice
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables = counts(conn)
    with pytest.raises(InvalidInput, match="broken.csv: cannot be read as delimited text"):
        ingest(conn, "occurrences", path)
    assert counts(conn) == tables
