"""International titles of protected areas, loaded against the protected areas they belong to."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest

pytestmark = pytest.mark.db


def titles(conn, code: str) -> dict[str, tuple[int, str | None]]:  # type: ignore[no-untyped-def]
    rows = conn.execute(
        sa.text(
            "SELECT d.designation_type, d.year, d.name FROM pa_designations d "
            "JOIN protected_areas p ON p.id = d.protected_area_id WHERE p.code = :c"
        ),
        {"c": code},
    ).all()
    return {r.designation_type: (r.year, r.name) for r in rows}


def test_designations_upsert_on_area_and_title(conn, tmp_path: Path) -> None:
    before = titles(conn, "PA-BA-BE")
    assert "ramsar" in before
    path = tmp_path / "danh_hieu.csv"
    pd.DataFrame(
        [
            # the same title again, now with its name: one update
            {
                "ma_kbt": "PA-BA-BE",
                "danh_hieu": "Khu Ramsar",
                "nam": before["ramsar"][0],
                "ten": "Ba Be Lake",
            },
            # the protected area named by its Vietnamese name, a title it did not have: new
            {
                "ma_kbt": "Vườn quốc gia Ba Bể",
                "danh_hieu": "world heritage site",
                "nam": "2100",
                "ten": "test title",
            },
        ]
    ).to_csv(path, index=False)
    report = ingest(conn, "pa_designations", path)
    assert report.ok and (report.n_inserted, report.n_updated) == (1, 1), report.summary()
    after = titles(conn, "PA-BA-BE")
    assert after["ramsar"] == (before["ramsar"][0], "Ba Be Lake")
    assert after["world_heritage"] == (2100, "test title")
    again = ingest(conn, "pa_designations", path)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 0, 2)


def test_bad_designations_are_rejected(conn, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame(
        [
            {"ma_kbt": "PA-NOWHERE", "danh_hieu": "Khu Ramsar", "nam": "2000"},
            {"ma_kbt": "PA-BA-BE", "danh_hieu": "Geopark", "nam": "2000"},
            {"ma_kbt": "PA-BA-BE", "danh_hieu": "Khu Ramsar", "nam": "1900"},
        ]
    ).to_csv(path, index=False)
    before = counts(conn)
    report = ingest(conn, "pa_designations", path)
    assert not report.written and counts(conn) == before
    rejected = {(i.row, i.field) for i in report.issues if i.action == "rejected"}
    assert (2, "protected_area_code") in rejected and (3, "designation_type") in rejected


def test_a_rule_of_the_table_names_its_row(conn, tmp_path: Path) -> None:
    """CHECK constraints (here: a year from 1971, the Ramsar Convention) are checked on the
    staged rows and reported by row and rule, with nothing written."""
    path = tmp_path / "year.csv"
    pd.DataFrame(
        [
            {"ma_kbt": "PA-BA-BE", "danh_hieu": "Khu Ramsar", "nam": "2011"},
            {"ma_kbt": "PA-BA-VI", "danh_hieu": "Khu Ramsar", "nam": "1900"},
        ]
    ).to_csv(path, index=False)
    before = counts(conn)
    report = ingest(conn, "pa_designations", path)
    assert not report.written and counts(conn) == before
    (issue,) = [i for i in report.issues if i.action == "rejected"]
    assert (issue.row, issue.field, issue.problem) == (3, "year", "breaks the rule year_plausible")
    assert "1971" in issue.expected
    # with --skip-rejected the other row loads
    report = ingest(conn, "pa_designations", path, skip_rejected=True)
    assert report.written and report.n_rejected == 1
    assert report.n_inserted + report.n_updated + report.n_unchanged == 1
