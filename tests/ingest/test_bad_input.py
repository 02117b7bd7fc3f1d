"""Broken inputs: each gets its own clear error, and the database is left as it was."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest
from vbis_geo.errors import InvalidInput

pytestmark = [pytest.mark.db, pytest.mark.shared_data]

GEOBOUNDARIES = "vn-provinces-63-geoboundaries/geoBoundaries-VNM-ADM1.shp"


@pytest.fixture
def shapefile(tmp_path: Path, shared_data: Path) -> Path:
    """Three provinces as protected areas, in a Shapefile with .prj and .cpg."""
    provinces = gpd.read_file(shared_data / GEOBOUNDARIES, encoding="utf-8").head(3)
    frame = gpd.GeoDataFrame(
        {
            "ma_kbt": ["T1", "T2", "T3"],
            "ten_kbt": provinces.shapeName.str.strip().tolist(),
            "loai_hinh": ["Vườn quốc gia", "Khu dự trữ thiên nhiên", "Khu bảo vệ cảnh quan"],
            "dien_tich": [1000.5, 2000.0, 300.25],
        },
        geometry=provinces.geometry.values,
        crs="EPSG:4326",
    )
    path = tmp_path / "kbt.shp"
    frame.to_file(path, encoding="utf-8")
    return path


@pytest.fixture
def sightings(tmp_path: Path) -> Path:
    """A spreadsheet of sightings of species from the backbone."""
    frame = pd.DataFrame(
        {
            "occurrenceID": ["t:1", "t:2", "t:3"],
            "scientificName": ["Panthera tigris", "Rhinopithecus avunculus", "Pygathrix nemaeus"],
            "eventDate": ["2020-03-01", "2021", "15/06/2022"],
            "basisOfRecord": ["HumanObservation", "quan sát", "PreservedSpecimen"],
            "individualCount": ["1", "12", "3"],
            "decimalLongitude": ["105.6", "105.2", "108.3"],
            "decimalLatitude": ["20.3", "22.9", "16.1"],
        }
    )
    path = tmp_path / "sightings.csv"
    frame.to_csv(path, index=False)
    return path


def rejected_untouched(conn, layer: str, path: Path, **options: object):  # type: ignore[no-untyped-def]
    before = counts(conn)
    report = ingest(conn, layer, path, **options)
    assert not report.written
    assert not report.ok
    assert counts(conn) == before
    return report


def error_untouched(conn, layer: str, path: Path, match: str, **options: object) -> None:  # type: ignore[no-untyped-def]
    before = counts(conn)
    with pytest.raises(InvalidInput, match=match):
        ingest(conn, layer, path, **options)
    assert counts(conn) == before


def test_good_files_load(conn, shapefile: Path, sightings: Path) -> None:
    """The fixtures themselves are fine: what the other tests break is what they test."""
    assert ingest(conn, "protected_areas", shapefile).n_inserted == 3
    report = ingest(conn, "occurrences", sightings)
    assert report.n_inserted == 3, report.summary()


def test_truncated_shp(conn, shapefile: Path) -> None:
    data = shapefile.read_bytes()
    shapefile.write_bytes(data[: len(data) // 2])
    error_untouched(conn, "protected_areas", shapefile, r"kbt.shp: truncated or damaged")


def test_missing_dbf(conn, shapefile: Path) -> None:
    shapefile.with_suffix(".dbf").unlink()
    error_untouched(conn, "protected_areas", shapefile, r"the Shapefile has no kbt.dbf")


def test_missing_prj(conn, shapefile: Path) -> None:
    shapefile.with_suffix(".prj").unlink()
    report = rejected_untouched(conn, "protected_areas", shapefile)
    (error,) = report.file_errors
    assert "declares no coordinate reference system" in error.problem
    assert "--crs" in error.expected
    # with --crs it loads
    assert ingest(conn, "protected_areas", shapefile, crs="EPSG:4326").n_inserted == 3


def test_wrong_prj_projected_coordinates_declared_as_degrees(conn, shapefile: Path) -> None:
    frame = gpd.read_file(shapefile).to_crs("EPSG:3405")
    frame.set_crs("EPSG:4326", allow_override=True).to_file(shapefile)
    report = rejected_untouched(conn, "protected_areas", shapefile)
    (error,) = report.file_errors
    assert "look projected" in error.problem and "EPSG:4326" in error.problem
    assert "EPSG:3405" in error.expected  # the CRS that puts them in place is offered


def test_degrees_declared_as_projected(conn, shapefile: Path) -> None:
    frame = gpd.read_file(shapefile)
    frame.set_crs("EPSG:3405", allow_override=True).to_file(shapefile)
    report = rejected_untouched(conn, "protected_areas", shapefile)
    (error,) = report.file_errors
    assert "look like degrees" in error.problem and "--crs EPSG:4326" in error.expected


def test_swapped_coordinate_columns(conn, sightings: Path) -> None:
    frame = pd.read_csv(sightings, dtype=str)
    frame = frame.rename(
        columns={"decimalLongitude": "decimalLatitude", "decimalLatitude": "decimalLongitude"}
    )
    frame.to_csv(sightings, index=False)
    report = rejected_untouched(conn, "occurrences", sightings)
    (error,) = report.file_errors
    assert "swapped" in error.problem and "3 of 3" in error.problem


def test_text_in_number_fields(conn, sightings: Path) -> None:
    frame = pd.read_csv(sightings, dtype=str)
    frame.loc[1, "individualCount"] = "nhiều"
    frame.loc[2, "decimalLatitude"] = "16,1"
    frame.to_csv(sightings, index=False)
    report = rejected_untouched(conn, "occurrences", sightings)
    by_row = {(i.row, i.field): i for i in report.issues if i.action == "rejected"}
    assert set(by_row) == {(3, "individual_count"), (4, "latitude")}
    assert by_row[(3, "individual_count")].value == "nhiều"
    assert by_row[(3, "individual_count")].expected.startswith("a whole number")
    assert "decimal point" in by_row[(4, "latitude")].expected
    # the CSV report names the same rows, fields and values
    (line,) = [r for r in report.csv_text().splitlines() if r.startswith("3,")]
    assert line.startswith("3,individual_count,rejected,not a whole number,a whole number")
    assert line.endswith(",nhiều")


def test_a_number_beyond_its_column_is_rejected(conn, sightings: Path) -> None:
    frame = pd.read_csv(sightings, dtype=str)
    frame.loc[1, "individualCount"] = "3000000000"
    frame.loc[2, "individualCount"] = "-2147483649"
    frame.to_csv(sightings, index=False)
    report = rejected_untouched(conn, "occurrences", sightings)
    issues = {i.row: i for i in report.issues if i.action == "rejected"}
    assert set(issues) == {3, 4}
    assert {i.field for i in issues.values()} == {"individual_count"}
    assert issues[3].problem == "out of the range of the field"
    assert issues[3].expected == "a whole number from -2147483648 to 2147483647"
    assert (issues[3].value, issues[4].value) == ("3000000000", "-2147483649")


def test_duplicate_occurrence_ids(conn, sightings: Path) -> None:
    frame = pd.read_csv(sightings, dtype=str)
    frame.loc[2, "occurrenceID"] = "t:1"
    frame.to_csv(sightings, index=False)
    report = rejected_untouched(conn, "occurrences", sightings)
    problems = {i.row: i.problem for i in report.issues if i.field == "occurrence_id"}
    assert set(problems) == {2, 4}
    assert "also on row 2" in problems[4]


def test_misspelt_name_gets_a_suggestion_not_a_silent_match(conn, sightings: Path) -> None:
    frame = pd.read_csv(sightings, dtype=str)
    frame.loc[0, "scientificName"] = "Panthera tigirs"
    frame.to_csv(sightings, index=False)
    report = rejected_untouched(conn, "occurrences", sightings)
    (issue,) = [i for i in report.issues if i.field == "scientific_name"]
    assert issue.row == 2 and issue.value == "Panthera tigirs"
    assert issue.action == "rejected" and issue.problem == "name not in the taxonomy backbone"
    assert "did you mean Panthera tigris" in issue.expected
    # nor with the options that take names the backbone knows in another form, or a whole file
    # minus its bad rows: a close spelling is only ever a suggestion
    report = rejected_untouched(conn, "occurrences", sightings, accept_synonyms=True)
    assert [(i.row, i.action) for i in report.issues if i.field == "scientific_name"] == [
        (2, "rejected")
    ]
    skipped = ingest(conn, "occurrences", sightings, accept_synonyms=True, skip_rejected=True)
    assert skipped.written and skipped.n_inserted == 2 and skipped.rows_with("rejected") == {2}
    assert (
        conn.execute(
            sa.text("SELECT count(*) FROM occurrences WHERE occurrence_id = 't:1'")
        ).scalar_one()
        == 0
    )


@pytest.fixture
def tiger_synonym(conn) -> int:  # type: ignore[no-untyped-def]
    """Felis tigris, Linnaeus's original combination, as a synonym of Panthera tigris in the
    backbone (in the test's transaction); returns the accepted taxon's id."""
    accepted = conn.execute(
        sa.text(
            "SELECT id FROM taxa WHERE scientific_name = 'Panthera tigris' "
            "AND taxonomic_status = 'accepted'"
        )
    ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO taxa (rank, scientific_name, authorship, taxonomic_status, accepted_id) "
            "VALUES ('species', 'Felis tigris', 'Linnaeus, 1758', 'synonym', :a)"
        ),
        {"a": accepted},
    )
    return int(accepted)


def with_synonym(sightings: Path, name: str = "Felis tigris") -> Path:
    frame = pd.read_csv(sightings, dtype=str)
    frame.loc[0, "scientificName"] = name
    frame.to_csv(sightings, index=False)
    return sightings


def test_synonym_is_rejected_with_the_accepted_name(
    conn, sightings: Path, tiger_synonym: int
) -> None:
    report = rejected_untouched(conn, "occurrences", with_synonym(sightings))
    (issue,) = [i for i in report.issues if i.action == "rejected"]
    assert (issue.row, issue.field, issue.value) == (2, "scientific_name", "Felis tigris")
    assert issue.problem == "a synonym of Panthera tigris"
    assert "the accepted name Panthera tigris" in issue.expected
    assert "--accept-synonyms" in issue.expected
    assert report.n_rejected == 1 and report.n_repaired == 0
    # the name with its authorship is the same name
    report = rejected_untouched(
        conn, "occurrences", with_synonym(sightings, "Felis tigris Linnaeus, 1758")
    )
    assert [i.problem for i in report.issues if i.action == "rejected"] == [
        "a synonym of Panthera tigris"
    ]


def test_accept_synonyms_records_the_accepted_taxon_as_a_repair(
    conn, sightings: Path, tiger_synonym: int
) -> None:
    report = ingest(conn, "occurrences", with_synonym(sightings), accept_synonyms=True)
    assert report.written and report.ok, report.summary()
    assert report.n_inserted == 3 and report.n_repaired == 1
    (issue,) = [i for i in report.issues if i.action != "warning"]
    assert (issue.row, issue.field, issue.action, issue.value) == (
        2,
        "scientific_name",
        "repaired",
        "Felis tigris",
    )
    assert "accepted name Panthera tigris" in issue.problem
    stored = conn.execute(
        sa.text(
            "SELECT o.taxon_id, t.scientific_name, t.taxonomic_status FROM occurrences o "
            "JOIN taxa t ON t.id = o.taxon_id WHERE o.occurrence_id = 't:1'"
        )
    ).one()
    assert tuple(stored) == (tiger_synonym, "Panthera tigris", "accepted")
    # the name as the file wrote it is kept beside the taxon it was recorded under
    verbatim = dict(
        conn.execute(
            sa.text(
                "SELECT occurrence_id, verbatim_scientific_name FROM occurrences "
                "WHERE occurrence_id IN ('t:1', 't:2')"
            )
        ).all()
    )
    assert verbatim == {"t:1": "Felis tigris", "t:2": None}
    # the lineage counts the repair and keeps the option
    dataset = conn.execute(
        sa.text(
            "SELECT n_loaded, n_repaired, n_rejected, parameters FROM datasets WHERE code = :c"
        ),
        {"c": report.dataset_code},
    ).one()
    assert (dataset.n_loaded, dataset.n_repaired, dataset.n_rejected) == (3, 1, 0)
    assert dataset.parameters == {"accept_synonyms": True}


def test_two_gigabytes_declared_in_an_archive(conn, shapefile: Path, tmp_path: Path) -> None:
    archive = tmp_path / "upload" / "kbt.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            zf.write(shapefile.with_suffix(suffix), "kbt" + suffix)
    # declare 2 GiB for the .dbf in the central directory, as a zip bomb would
    data = bytearray(archive.read_bytes())
    patched = 0
    offset = 0
    while True:
        offset = data.find(b"PK\x01\x02", offset)
        if offset < 0:
            break
        name_len = struct.unpack_from("<H", data, offset + 28)[0]
        name = bytes(data[offset + 46 : offset + 46 + name_len])
        if name.endswith(b".dbf"):
            struct.pack_into("<I", data, offset + 24, 2 * 1024**3)
            patched += 1
        offset += 46
    assert patched == 1
    archive.write_bytes(bytes(data))
    error_untouched(
        conn,
        "protected_areas",
        archive,
        r"declares 2,147,\d{3},\d{3} bytes unpacked \(member 'kbt.dbf'",
    )


def test_archive_with_path_traversal(conn, shapefile: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/evil.shp", b"x")
    error_untouched(conn, "protected_areas", archive, "unsafe path")


def test_invalid_geometry_without_unambiguous_repair_is_rejected(conn, tmp_path: Path) -> None:
    # a hole that crosses its shell: is the overlap land or not? GEOS's two repairs disagree
    shell = [(105.0, 21.0), (105.1, 21.0), (105.1, 21.1), (105.0, 21.1), (105.0, 21.0)]
    hole = [(105.05, 21.02), (105.15, 21.02), (105.15, 21.08), (105.05, 21.08), (105.05, 21.02)]
    frame = gpd.GeoDataFrame(
        {"ma": ["X"], "ten": ["Hỏng"], "loai": ["rừng tràm"]},
        geometry=[shapely.Polygon(shell, [hole])],
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.geojson"
    frame.to_file(path)
    report = rejected_untouched(conn, "ecosystems", path)
    (issue,) = [i for i in report.issues if i.field == "geometry"]
    assert issue.row == 1 and "no unambiguous repair" in issue.problem


def test_unknown_layer_and_unsupported_file(conn, tmp_path: Path) -> None:
    from vbis_geo.errors import NotFound

    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK")
    with pytest.raises(NotFound, match="no layer 'reserves'"):
        ingest(conn, "reserves", path)
    error_untouched(conn, "protected_areas", path, r"unsupported file type '.docx'")
