"""Every layer exports to every format and loads back with no loss of rows or attributes.

Loading an export back into the database it came from must find every row "unchanged": the
upsert compares every field the loader writes (geometries with PostGIS's exact equality), so one
lost digit, character or date would count as "updated". The exports are the exact audience's
(an operator's backup): the public's moves sensitive records
(tests/ingest/test_export_audiences.py).
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.ingest.helpers import ingest
from vbis_geo.analysis.access import Audience
from vbis_geo.errors import InvalidInput
from vbis_geo.export import ExportFilters, export_layer
from vbis_geo.ingest.report import Report
from vbis_geo.ingest.targets import RESOLVED_INPUTS, SYSTEM_COLUMNS, target

EXACT = Audience.EXACT

pytestmark = pytest.mark.db

#: a box around northern Viet Nam keeps the occurrence exports small
NORTH = (103.5, 20.0, 106.5, 22.5)
LAYERS = (
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "admin_units",
    "occurrences",
)
FORMATS = ("gpkg", "shp", "geojson", "csv")


def _filters(layer: str) -> ExportFilters:
    return ExportFilters(bbox_4326=NORTH) if layer == "occurrences" else ExportFilters()


def _count(conn, layer: str, filters: ExportFilters) -> int:  # type: ignore[no-untyped-def]
    if filters.bbox_4326:
        return conn.execute(
            sa.text(
                f"SELECT count(*) FROM {layer} WHERE "  # noqa: S608
                "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"
            ),
            dict(zip("abcd", filters.bbox_4326, strict=True)),
        ).scalar_one()
    return conn.execute(sa.text(f"SELECT count(*) FROM {layer}")).scalar_one()  # noqa: S608


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", LAYERS)
def test_round_trip(conn, tmp_path: Path, layer: str, fmt: str) -> None:
    filters = _filters(layer)
    path = tmp_path / f"{layer}.{fmt}"
    if (layer, fmt) == ("planning_zones", "shp"):
        # plan references run to 323 bytes: a Shapefile would cut them, so it is refused
        with pytest.raises(InvalidInput, match="plan_reference of .* a Shapefile text field"):
            export_layer(conn, layer, fmt, path, filters, audience=EXACT)
        return
    n = export_layer(conn, layer, fmt, path, filters, audience=EXACT)
    assert n == _count(conn, layer, filters) > 0
    report = ingest(conn, layer, path)
    assert report.ok, report.summary()
    assert (report.n_read, report.n_inserted, report.n_updated) == (n, 0, 0), report.summary()
    assert report.n_unchanged == n
    # "unchanged" compares the fields the file holds: a field the export left out would pass
    missing = _columns_with_values(conn, layer, filters) - _columns_read(report, layer)
    assert not missing, f"the {fmt} export of {layer} lost {sorted(missing)}"


def _columns_with_values(conn, layer: str, filters: ExportFilters) -> set[str]:  # type: ignore[no-untyped-def]
    """The columns a load writes that hold a value in a row of the export."""
    columns = sorted(_fed_columns(layer, target(layer).fields) - {"geom"})
    where = (
        "WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"
        if filters.bbox_4326
        else ""
    )
    counts = conn.execute(
        sa.text(
            "SELECT "  # noqa: S608 (the schema's own column names)
            + ", ".join(f'count("{column}")' for column in columns)
            + f" FROM {layer} {where}"
        ),
        dict(zip("abcd", filters.bbox_4326 or (), strict=False)),
    ).one()
    return {column for column, n in zip(columns, counts, strict=True) if n}


def _columns_read(report: Report, layer: str) -> set[str]:
    """The columns fed by the fields the load read from the file."""
    return _fed_columns(layer, report.columns)


def _fed_columns(layer: str, fields: Iterable[str]) -> set[str]:
    """The table columns that input ``fields`` feed (an input the loader resolves, such as a
    name into taxon_id, feeds its column)."""
    table = target(layer).table
    fed = set()
    for name in fields:
        for column in RESOLVED_INPUTS.get(name, (name,)) if name not in table.c else (name,):
            if column in table.c and column not in SYSTEM_COLUMNS:
                fed.add(column)
    return fed


def test_darwin_core_archive_round_trip(conn, tmp_path: Path) -> None:
    path = tmp_path / "occurrences.zip"
    n = export_layer(
        conn, "occurrences", "dwca", path, ExportFilters(bbox_4326=NORTH), audience=EXACT
    )
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["eml.xml", "meta.xml", "occurrence.txt"]
        core = pd.read_csv(zf.open("occurrence.txt"), sep="\t", dtype=str)
        meta = zf.read("meta.xml").decode()
    assert len(core) == n and core.occurrenceID.is_unique
    assert 'rowType="http://rs.tdwg.org/dwc/terms/Occurrence"' in meta
    assert core.kingdom.notna().all() and core.family.notna().all()
    report = ingest(conn, "occurrences", path)
    assert report.ok, report.summary()
    assert (report.n_inserted, report.n_updated, report.n_unchanged) == (0, 0, n)


def test_darwin_core_archive_validates_with_gdal(conn, tmp_path: Path) -> None:
    """GDAL's CSV driver reads the core as well-formed tab-separated text, every row."""
    path = tmp_path / "occurrences.zip"
    n = export_layer(conn, "occurrences", "dwca", path, ExportFilters(taxon="Primates"))
    out = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-so",
            "-al",
            "-oo",
            "SEPARATOR=TAB",
            f"CSV:/vsizip/{path}/occurrence.txt",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Feature Count: {n}" in out


def test_kml_kmz_and_xlsx_load(conn, tmp_path: Path) -> None:
    # KML/KMZ from a GeoJSON export, by GDAL's own writer
    geojson = tmp_path / "wetlands.geojson"
    n = export_layer(conn, "wetlands", "geojson", geojson)
    kml = tmp_path / "wetlands.kml"
    subprocess.run(["ogr2ogr", "-f", "KML", str(kml), str(geojson)], check=True)
    report = ingest(conn, "wetlands", kml)
    assert report.ok, report.summary()
    assert report.n_unchanged + report.n_updated == n and report.n_inserted == 0
    kmz = tmp_path / "wetlands.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    assert ingest(conn, "wetlands", kmz, dry_run=True).ok
    # a spreadsheet of facilities with coordinate columns
    csv = tmp_path / "facilities.csv"
    m = export_layer(conn, "conservation_facilities", "csv", csv)
    xlsx = tmp_path / "facilities.xlsx"
    pd.read_csv(csv, dtype=str).to_excel(xlsx, index=False)
    report = ingest(conn, "conservation_facilities", xlsx)
    assert report.ok, report.summary()
    assert (report.n_inserted, report.n_updated, report.n_unchanged) == (0, 0, m)


def test_geopackage_with_two_layers(conn, tmp_path: Path) -> None:
    from vbis_geo.errors import InvalidInput

    path = tmp_path / "two.gpkg"
    export_layer(conn, "wetlands", "gpkg", path)
    export_layer(conn, "ecosystems", "gpkg", path)
    with pytest.raises(InvalidInput, match="2 layers: wetlands, ecosystems"):
        ingest(conn, "wetlands", path)
    assert ingest(conn, "wetlands", path, source_layer="wetlands").ok


def test_wdpa_export(conn, tmp_path: Path) -> None:
    import geopandas as gpd

    path = tmp_path / "wdpa.gpkg"
    n = export_layer(conn, "protected_areas", "gpkg", path, wdpa=True)
    frame = gpd.read_file(path)
    assert len(frame) == n
    assert {
        "WDPAID",
        "NAME",
        "ORIG_NAME",
        "DESIG",
        "DESIG_ENG",
        "IUCN_CAT",
        "REP_AREA",
        "GIS_AREA",
        "STATUS",
        "STATUS_YR",
        "MANG_AUTH",
    } <= set(frame.columns)
    row = frame[frame.VBIS_CODE == "PA-CUC-PHUONG"].iloc[0]
    assert row.DESIG == "Vườn quốc gia" and row.DESIG_ENG == "National Park"
    ha = conn.execute(
        sa.text("SELECT gis_area_ha FROM protected_areas WHERE code = 'PA-CUC-PHUONG'")
    ).scalar_one()
    assert row.GIS_AREA == pytest.approx(ha / 100)  # km²


def test_wdpa_round_trip_and_protected_planet_names(conn, tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    path = tmp_path / "wdpa.gpkg"
    n = export_layer(conn, "protected_areas", "gpkg", path, wdpa=True)
    report = ingest(conn, "protected_areas", path, wdpa=True)
    assert report.ok, report.summary()
    assert (report.n_inserted, report.n_updated, report.n_unchanged) == (0, 0, n)
    # a file as Protected Planet publishes them: no VBIS_CODE, areas in km², English designation
    download = gpd.GeoDataFrame(
        {
            "WDPAID": [900001.0],
            "NAME": ["Test Landscape"],
            "ORIG_NAME": ["Khu bảo vệ cảnh quan thử nghiệm"],
            "DESIG": [None],
            "DESIG_ENG": ["Landscape Protection Area"],
            "IUCN_CAT": ["Not Assigned"],
            "REP_AREA": [12.5],
            "STATUS": ["Designated"],
            "STATUS_YR": [0],
            "MANG_AUTH": ["Ban quản lý"],
            "SUB_LOC": ["VN-HN"],
        },
        geometry=[shapely.box(105.70, 21.00, 105.75, 21.05)],
        crs="EPSG:4326",
    )
    download_path = tmp_path / "WDPA_VNM.shp"
    download.to_file(download_path)
    report = ingest(conn, "protected_areas", download_path, wdpa=True)
    assert report.ok and report.n_inserted == 1, report.summary()
    row = conn.execute(sa.text("SELECT * FROM protected_areas WHERE code = 'WDPA-900001'")).one()
    assert row.legal_category == "landscape_protection_area"
    assert row.reported_area_ha == 1250.0 and row.established_year is None
    assert row.iucn_category is None and row.status == "designated"
    assert row.name_vi == "Khu bảo vệ cảnh quan thử nghiệm" and row.province_codes == ["VN-HN"]
