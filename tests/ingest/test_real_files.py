"""Ingest of the real files in ../shared/data, checked against an independent reading of the same
files with geopandas/shapely."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import sqlalchemy as sa
from pyproj import Transformer

from tests.ingest.helpers import counts, ingest, write_mapping
from vbis_geo.geodesy import resolve_crs
from vbis_geo.ingest.coordinates import WATERS_MARGIN_DEG

pytestmark = [pytest.mark.db, pytest.mark.shared_data]

AEDES = "aedes-occurrences-seasia-kraemer2015/aedes_seasia_kraemer2015_dwc.csv"
GEOBOUNDARIES = "vn-provinces-63-geoboundaries/geoBoundaries-VNM-ADM1.shp"
ODV = "vn-provinces-63-odv/vn_provinces_63_odv.geojson"
OUTLINE = "vn-national-outline-naturalearth/vietnam_ne_10m.geojson"
LANDCOVER = "vn-landcover-chetao-cgls100m/LandCover.tif"


def test_aedes_darwin_core_all_or_nothing(conn, shared_data: Path) -> None:
    before = counts(conn)
    report = ingest(conn, "occurrences", shared_data / AEDES)
    assert not report.written and counts(conn) == before
    # the names are not in the backbone: every row says so, with what is expected
    name_issues = [i for i in report.issues if i.field == "scientific_name" and i.row]
    assert len(name_issues) == 2231
    assert {i.value for i in name_issues} == {"Aedes aegypti", "Aedes albopictus"}
    assert all("--add-taxa" in i.expected for i in name_issues)


def test_aedes_loads_the_records_in_vietnam(conn, shared_data: Path) -> None:
    started = dt.datetime.now(dt.UTC)
    report = ingest(
        conn,
        "occurrences",
        shared_data / AEDES,
        add_taxa=True,
        skip_rejected=True,
        loaded_by="nguyen.van.a",
    )
    assert report.written
    # independent: the 63 provinces (geoBoundaries) plus the waters margin, with shapely
    raw = pd.read_csv(shared_data / AEDES)
    provinces = gpd.read_file(shared_data / ODV).geometry.simplify(0.005).union_all()
    inside = shapely.contains_xy(
        provinces.buffer(WATERS_MARGIN_DEG), raw.decimalLongitude, raw.decimalLatitude
    )
    assert report.n_inserted == int(inside.sum())
    assert report.n_rejected == len(raw) - int(inside.sum())
    assert 240 <= report.n_inserted <= 250  # the README counts 243 records in Viet Nam
    # every rejected row is one outside Vietnam, and named by its line number in the CSV
    rejected = sorted(report.rows_with("rejected"))
    assert rejected == [i + 2 for i in np.flatnonzero(~inside)]
    stored = pd.DataFrame(
        conn.execute(
            sa.text(
                "SELECT occurrence_id, ST_X(geom) AS x, ST_Y(geom) AS y, event_date, "
                "event_date_end, basis_of_record, t.scientific_name FROM occurrences o "
                "JOIN taxa t ON t.id = o.taxon_id WHERE occurrence_id LIKE 'kraemer2015:%'"
            )
        ).all()
    ).set_index("occurrence_id")
    expected = raw[inside].set_index("occurrenceID")
    assert set(stored.index) == set(expected.index)
    joined = stored.join(expected)
    assert np.allclose(joined.x, joined.decimalLongitude, atol=1e-12)
    assert np.allclose(joined.y, joined.decimalLatitude, atol=1e-12)
    assert (joined.scientific_name == joined.scientificName).all()
    with_year = joined[joined.year.notna()]
    assert (pd.to_datetime(with_year.event_date).dt.year == with_year.year).all()
    assert (pd.to_datetime(with_year.event_date_end).dt.month == 12).all()
    # the lineage entry
    dataset = conn.execute(
        sa.text("SELECT * FROM datasets WHERE code = :c"), {"c": report.dataset_code}
    ).one()
    assert dataset.n_loaded == report.n_inserted and dataset.n_rejected == report.n_rejected
    assert dataset.n_repaired == 0 and report.n_repaired == 0
    assert dataset.loaded_by == "nguyen.van.a"
    assert started - dt.timedelta(seconds=1) <= dataset.loaded_at <= dt.datetime.now(dt.UTC)
    assert dataset.parameters == {"add_taxa": True, "skip_rejected": True}
    assert dataset.source_sha256 and dataset.source_name == Path(AEDES).name
    assert dataset.source_crs.startswith("EPSG:4326")
    # its public extent holds every record, widened to 25 km cells of EPSG:6933 (never finer)
    from pyproj import Transformer

    west, south, east, north = conn.execute(
        sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
            "(SELECT ST_Transform(extent, 6933) AS b FROM datasets WHERE id = :id) s"
        ),
        {"id": dataset.id},
    ).one()
    to_ea = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
    xs, ys = to_ea.transform(joined.x.to_numpy(), joined.y.to_numpy())
    for bound, expected_bound in (
        (west, np.floor(xs.min() / 25000) * 25000),
        (south, np.floor(ys.min() / 25000) * 25000),
        (east, (np.floor(xs.max() / 25000) + 1) * 25000),
        (north, (np.floor(ys.max() / 25000) + 1) * 25000),
    ):
        assert bound == pytest.approx(expected_bound, abs=1.0)
    # loading it again changes nothing
    again = ingest(conn, "occurrences", shared_data / AEDES, add_taxa=True, skip_rejected=True)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 0, report.n_inserted)


def test_geoboundaries_shapefile_round_trip(conn, shared_data: Path, tmp_path: Path) -> None:
    mapping = write_mapping(
        tmp_path,
        fields={"code": "shapeID", "name_vi": "shapeName"},
        constants={"legal_category": "nature_reserve"},
    )
    report = ingest(conn, "protected_areas", shared_data / GEOBOUNDARIES, mapping=mapping)
    assert report.written and report.n_inserted == 64
    assert report.encoding in (None, "utf-8")
    # the .dbf is UTF-8 but has no .cpg: GDAL alone would read it as Latin-1 (mojibake)
    source = gpd.read_file(shared_data / GEOBOUNDARIES, encoding="utf-8")
    stored = gpd.read_postgis(
        sa.text(
            "SELECT code, name_vi, name_en, geom FROM protected_areas WHERE dataset_id = "
            "(SELECT id FROM datasets WHERE code = :c)"
        ),
        conn,
        params={"c": report.dataset_code},
        geom_col="geom",
    ).set_index("code")
    source = source.set_index("shapeID")
    # names as written (NFC, surrounding blanks such as Hà Nội's trailing tab removed)
    expected_names = source.shapeName.map(lambda n: unicodedata.normalize("NFC", n.strip()))
    assert list(stored.loc[source.index, "name_vi"]) == list(expected_names)
    assert "Thừa Thiên Huế" in set(stored.name_vi)
    assert (stored.name_en == stored.name_vi).all()  # the layer's default: name_en from name_vi
    for code, geom in source.geometry.items():
        assert shapely.equals_exact(
            stored.geometry[code].normalize(),
            shapely.MultiPolygon([geom]).normalize()
            if geom.geom_type == "Polygon"
            else geom.normalize(),
            1e-12,
        )


def test_odv_names_kept_as_written_and_province_typos_tolerated(
    conn, shared_data: Path, tmp_path: Path
) -> None:
    mapping = write_mapping(
        tmp_path,
        fields={"code": "gid", "name_vi": "ten_tinh"},
        constants={"ecosystem_type": "island"},
    )
    report = ingest(conn, "ecosystems", shared_data / ODV, mapping=mapping)
    assert report.written and report.n_inserted == 63
    names = set(
        conn.execute(
            sa.text(
                "SELECT name_vi FROM ecosystems WHERE dataset_id = "
                "(SELECT id FROM datasets WHERE code = :c)"
            ),
            {"c": report.dataset_code},
        ).scalars()
    )
    # the file's own spellings are stored as they are: the loader never corrects names silently
    assert {"Cần Thơn", "Quản Bình", "Bà Rịa -Vũng Tàu"} <= names
    # --province matches names ignoring spacing and punctuation ("Bà Rịa -Vũng Tàu")
    one = tmp_path / "one.geojson"
    data = json.loads((shared_data / ODV).read_text())
    data["features"] = [
        f for f in data["features"] if f["properties"]["ten_tinh"] == "Bà Rịa -Vũng Tàu"
    ]
    one.write_text(json.dumps(data))
    again = ingest(
        conn, "ecosystems", one, mapping=mapping, province="Bà Rịa -Vũng Tàu", dry_run=True
    )
    assert again.ok, again.summary()


def test_natural_earth_invalid_ring_is_repaired_and_reported(
    conn, shared_data: Path, tmp_path: Path
) -> None:
    mapping = write_mapping(
        tmp_path, fields={"code": "id", "name_vi": "name"}, constants={"ecosystem_type": "island"}
    )
    started = dt.datetime.now(dt.UTC)
    report = ingest(conn, "ecosystems", shared_data / OUTLINE, mapping=mapping)
    assert report.written and report.n_repaired == 1
    # the lineage entry: when, by whom (the operator's login), and the repair counted
    dataset = conn.execute(
        sa.text(
            "SELECT loaded_at, now() AS tx_now, loaded_by, n_loaded, n_repaired, n_rejected, "
            "source_name, source_sha256, parameters FROM datasets WHERE code = :c"
        ),
        {"c": report.dataset_code},
    ).one()
    assert dataset.loaded_at == dataset.tx_now  # the load's transaction
    assert started - dt.timedelta(seconds=1) <= dataset.loaded_at <= dt.datetime.now(dt.UTC)
    assert (dataset.n_loaded, dataset.n_repaired, dataset.n_rejected) == (1, 1, 0)
    assert dataset.loaded_by == getpass.getuser()
    assert dataset.source_name == Path(OUTLINE).name
    assert dataset.source_sha256 == hashlib.sha256((shared_data / OUTLINE).read_bytes()).hexdigest()
    assert dataset.parameters == {"mapping": str(mapping)}
    (issue,) = [i for i in report.issues if i.action == "repaired"]
    assert issue.row == 1 and issue.field == "geometry" and "Self-intersection" in issue.problem
    stored = shapely.from_wkb(
        bytes(
            conn.execute(
                sa.text("SELECT ST_AsBinary(geom) FROM ecosystems WHERE code = '704'")
            ).scalar_one()
        )
    )
    original = gpd.read_file(shared_data / OUTLINE).geometry[0]
    assert stored.is_valid and not original.is_valid
    assert abs(stored.area - shapely.make_valid(original).area) < 1e-9 * stored.area
    assert stored.symmetric_difference(shapely.make_valid(original)).area < 1e-9


def test_landcover_footprint(conn, shared_data: Path, tmp_path: Path) -> None:
    with rasterio.open(shared_data / LANDCOVER) as src:
        left, bottom, right, top = src.bounds
    # the raster's WKT declares lat/lon axis order; bounds come from the geotransform: lon, lat
    assert 103.8 < left < right < 104.3 and 21.5 < bottom < top < 21.95
    footprint = tmp_path / "footprint.geojson"
    gpd.GeoDataFrame(
        {
            "code": ["LC-CHETAO"],
            "ten": ["Vùng phủ ảnh lớp phủ mặt đất Chế Tạo"],
            "loai": ["vùng đa dạng sinh học cao"],
        },
        geometry=[shapely.box(left, bottom, right, top)],
        crs="EPSG:4326",
    ).to_file(footprint)
    report = ingest(conn, "planning_zones", footprint)
    assert report.written, report.summary()
    row = conn.execute(
        sa.text(
            "SELECT zone_type, province_codes, ST_XMin(geom) x0, ST_YMin(geom) y0, "
            "ST_XMax(geom) x1, "
            "ST_YMax(geom) y1 FROM planning_zones WHERE code = 'LC-CHETAO'"
        )
    ).one()
    assert row.zone_type == "high_biodiversity_area"  # from its Vietnamese spelling
    assert np.allclose([row.x0, row.y0, row.x1, row.y1], [left, bottom, right, top], atol=1e-12)
    # Yên Bái (VN-06); the strip of Sơn La (VN-05) and Lai Châu (VN-01) on its western side
    assert "VN-06" in row.province_codes


def test_vn2000_tm3_round_trip_within_a_centimetre(conn, shared_data: Path, tmp_path: Path) -> None:
    provinces = gpd.read_file(shared_data / GEOBOUNDARIES)
    hanoi = provinces[provinces.shapeISO == "VN-HN"].iloc[[0]]
    tm3 = resolve_crs("vn2000-tm3:Hà Nội")
    to_tm3 = Transformer.from_crs("EPSG:4326", tm3, always_xy=True)
    projected = hanoi.copy()
    projected["geometry"] = shapely.transform(
        hanoi.geometry.values, lambda xy: np.column_stack(to_tm3.transform(xy[:, 0], xy[:, 1]))
    )
    projected = projected.set_crs(tm3, allow_override=True)
    assert projected.total_bounds[0] > 400_000  # metres, false easting 500 km
    path = tmp_path / "hanoi_tm3.shp"
    projected.rename(columns={"shapeISO": "code", "shapeName": "ten"}).assign(
        loai="vùng đa dạng sinh học cao"
    )[["code", "ten", "loai", "geometry"]].to_file(path)
    report = ingest(conn, "planning_zones", path, province="Hà Nội")
    assert report.written, report.summary()
    assert report.source_crs.startswith("EPSG:5897")  # VN-2000 / TM-3 zone 482, 105°E
    stored = shapely.from_wkb(
        bytes(
            conn.execute(
                sa.text("SELECT ST_AsBinary(geom) FROM planning_zones WHERE code = 'VN-HN'")
            ).scalar_one()
        )
    )
    a = shapely.get_coordinates(stored)
    b = shapely.get_coordinates(hanoi.geometry.iloc[0])
    assert len(a) == len(b)
    # metres between the original and the round-tripped vertices (matched as sets: the loader
    # may start rings elsewhere)
    metres = np.array([111_320 * np.cos(np.radians(21.0)), 110_574])
    tree = shapely.STRtree(shapely.points(b))
    pairs = tree.query_nearest(shapely.points(a), all_matches=False)
    error_m = np.abs(a[pairs[0]] - b[pairs[1]]) * metres
    assert error_m.max() < 0.01


def test_tm3_wrong_meridian_is_detected(conn, shared_data: Path, tmp_path: Path) -> None:
    provinces = gpd.read_file(shared_data / GEOBOUNDARIES)
    hanoi = provinces[provinces.shapeISO == "VN-HN"].iloc[[0]]
    right = resolve_crs("vn2000-tm3:105-00")
    wrong = resolve_crs("vn2000-tm3:107-45")
    to_right = Transformer.from_crs("EPSG:4326", right, always_xy=True)
    projected = hanoi.copy()
    projected["geometry"] = shapely.transform(
        hanoi.geometry.values, lambda xy: np.column_stack(to_right.transform(xy[:, 0], xy[:, 1]))
    )
    path = tmp_path / "hanoi_wrong_prj.shp"
    projected.set_crs(wrong, allow_override=True).rename(
        columns={"shapeISO": "code", "shapeName": "ten"}
    ).assign(loai="vùng đa dạng sinh học cao")[["code", "ten", "loai", "geometry"]].to_file(path)
    before = counts(conn)
    report = ingest(conn, "planning_zones", path, province="Hà Nội")
    assert not report.written and counts(conn) == before
    (error,) = report.file_errors
    assert "107-45" in error.problem
    # the zones that put the features in Hà Nội are offered, and only those (105°00')
    offered = error.expected.split("in place: ")[1]
    assert "EPSG:5897" in offered and "107-45" not in offered and "UTM" not in offered
