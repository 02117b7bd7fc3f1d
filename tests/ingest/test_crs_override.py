"""``--crs`` beyond EPSG:4326: real points and areas of the test database written in VN-2000
(TM-3 by province, UTM 48N, geographic, an EPSG TM-3 zone) in files that declare no CRS, loaded
with ``crs=...``, come back to the stored WGS 84 within a centimetre; a wrong ``--crs`` is
reported, not loaded.

The inputs are made by pyproj from PROJ strings that carry the official shift written out below,
not by the project's own transformation (:func:`vbis_geo.geodesy.to_wgs84`), which is what is
tested here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod, Transformer

from tests.ingest.helpers import counts, ingest
from tests.unit.test_vn2000 import vn2000_to_wgs84_by_hand

pytestmark = [
    pytest.mark.db,
    # the Shapefiles are written without a .prj on purpose
    pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning"),
]

GEOD = Geod(ellps="WGS84")
#: VN-2000 -> WGS 84, Decision 05/2007/QĐ-BTNMT (EPSG:6960 "VN-2000 to WGS 84 (2)", coordinate
#: frame: rx -0.00928836", ry +0.01975479", rz -0.00427372"), as PROJ's +towgs84 takes it
#: (position vector: the rotations change sign).
TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
VN2000 = f"+ellps=WGS84 +towgs84={TOWGS84} +no_defs"
#: Circular 973/2001/TT-TCĐC: TM-3, scale 0.9999, false easting 500 km, on the province's meridian
TM3_105 = f"+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +units=m {VN2000}"
TM3_105_45 = f"+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +units=m {VN2000}"
UTM_48N = f"+proj=utm +zone=48 +units=m {VN2000}"
GEOGRAPHIC = f"+proj=longlat {VN2000}"
#: Largest distance (metres) between an original point and the one stored from its VN-2000 form
TOLERANCE_M = 0.01


@dataclass(frozen=True)
class Case:
    crs: str  # what the user gives --crs
    proj: str  # how the test writes the file
    epsg: int  # the CRS the loader must read it as
    province: str | None  # the province the features are taken from (a TM-3 zone's)

    def __str__(self) -> str:
        return self.crs


CASES = [
    Case("vn2000-tm3:Hà Nội", TM3_105, 5897, "VN-HN"),
    Case("vn2000-tm3:ha noi", TM3_105, 5897, "VN-HN"),
    Case("EPSG:3405", UTM_48N, 3405, None),
    Case("EPSG:4756", GEOGRAPHIC, 4756, None),
    Case("EPSG:9210", TM3_105_45, 9210, "VN-SG"),
]


def from_wgs84(proj: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", proj, always_xy=True)


def facilities(conn, province: str | None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The conservation facilities (of a province): code, name, type, WGS 84 lon/lat."""
    frame = pd.DataFrame(
        conn.execute(
            sa.text(
                "SELECT code, name_vi, facility_type, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM conservation_facilities "
                "WHERE CAST(:p AS text) IS NULL OR :p = ANY(province_codes) ORDER BY code"
            ),
            {"p": province},
        ).all()
    )
    assert len(frame) >= 2
    return frame


def areas(conn, province: str | None) -> gpd.GeoDataFrame:  # type: ignore[no-untyped-def]
    """Protected areas and wetlands (of a province): code and WGS 84 geometry."""
    frame = gpd.read_postgis(
        sa.text(
            "SELECT code, geom FROM protected_areas "
            "WHERE CAST(:p AS text) IS NULL OR :p = ANY(province_codes) "
            "UNION ALL SELECT code, geom FROM wetlands "
            "WHERE CAST(:p AS text) IS NULL OR :p = ANY(province_codes) ORDER BY code"
        ),
        conn,
        params={"p": province},
        geom_col="geom",
    )
    assert len(frame) >= 1
    return frame


def points_csv(frame: pd.DataFrame, proj: str, path: Path) -> Path:
    """The facilities with their coordinates in ``proj``, as x/y (or lon/lat) columns."""
    x, y = from_wgs84(proj).transform(frame.lon.to_numpy(), frame.lat.to_numpy())
    geographic = proj.startswith("+proj=longlat")
    pd.DataFrame(
        {
            "code": "X-" + frame.code,
            "ten": frame.name_vi,
            "loai": frame.facility_type,
            ("kinh_do" if geographic else "x"): x,
            ("vi_do" if geographic else "y"): y,
        }
    ).to_csv(path, index=False)
    return path


def areas_shapefile(frame: gpd.GeoDataFrame, proj: str, path: Path) -> Path:
    """The areas in ``proj``, as a Shapefile without a .prj."""
    transformer = from_wgs84(proj)
    projected = shapely.transform(
        frame.geometry.values,
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
    gpd.GeoDataFrame(
        {"code": "X-" + frame.code, "ten": frame.code, "loai": "vùng đa dạng sinh học cao"},
        geometry=projected,
        crs=None,
    ).to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def test_the_inputs_carry_the_official_shift() -> None:
    """The test's own VN-2000 coordinates agree with the Helmert computed by hand (so the
    comparison below checks the loader against the published parameters, not against itself),
    and differ from WGS 84 by the ~200 m a loader that ignored the datum would leave."""
    hoan_kiem = (105.8525, 21.0287)
    lon, lat = from_wgs84(GEOGRAPHIC).transform(*hoan_kiem)
    back = vn2000_to_wgs84_by_hand(lon, lat, convention="coordinate_frame")
    assert GEOD.inv(*hoan_kiem, *back)[2] < 0.001
    assert 150 < GEOD.inv(*hoan_kiem, lon, lat)[2] < 300


def lineage(conn, code: str):  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text("SELECT source_crs, lineage, parameters FROM datasets WHERE code = :c"),
        {"c": code},
    ).one()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_points_in_vn2000_load_to_their_wgs84_place(conn, tmp_path: Path, case: Case) -> None:
    original = facilities(conn, case.province)
    path = points_csv(original, case.proj, tmp_path / "co_so.csv")
    report = ingest(conn, "conservation_facilities", path, crs=case.crs)
    assert report.written and report.ok, report.summary()
    assert report.n_inserted == len(original)
    assert report.source_crs.startswith(f"EPSG:{case.epsg} ")
    stored = pd.DataFrame(
        conn.execute(
            sa.text(
                "SELECT substr(code, 3) AS code, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM conservation_facilities WHERE code LIKE 'X-%'"
            )
        ).all()
    )
    joined = original.merge(stored, on="code", suffixes=("", "_stored"))
    assert len(joined) == len(original)
    _, _, error_m = GEOD.inv(
        joined.lon.to_numpy(),
        joined.lat.to_numpy(),
        joined.lon_stored.to_numpy(),
        joined.lat_stored.to_numpy(),
    )
    assert error_m.max() < TOLERANCE_M
    dataset = lineage(conn, report.dataset_code)
    assert dataset.source_crs.startswith(f"EPSG:{case.epsg} ")
    assert "official VN-2000 7-parameter Helmert" in dataset.lineage
    assert dataset.parameters["crs"] == case.crs


@pytest.mark.parametrize("case", CASES, ids=str)
def test_areas_in_vn2000_without_prj_load_to_their_wgs84_place(
    conn, tmp_path: Path, case: Case
) -> None:
    original = areas(conn, case.province)
    path = areas_shapefile(original, case.proj, tmp_path / "vung.shp")
    # without --crs the file is refused: it declares none
    before = counts(conn)
    refused = ingest(conn, "planning_zones", path)
    assert not refused.written and counts(conn) == before
    assert [i.field for i in refused.file_errors] == ["crs"]
    report = ingest(conn, "planning_zones", path, crs=case.crs)
    assert report.written and report.ok, report.summary()
    assert report.n_inserted == len(original)
    assert report.source_crs.startswith(f"EPSG:{case.epsg} ")
    # metres (UTM 48N on WGS 84) between each stored area and the original, vertex for vertex
    rows = conn.execute(
        sa.text(
            "WITH o AS (SELECT code, geom FROM protected_areas UNION ALL "
            "SELECT code, geom FROM wetlands) "
            "SELECT o.code, ST_NPoints(z.geom) = ST_NPoints(o.geom) AS same_vertices, "
            "ST_HausdorffDistance(ST_Transform(z.geom, 32648), ST_Transform(o.geom, 32648)) "
            "AS error_m FROM planning_zones z JOIN o ON z.code = 'X-' || o.code"
        )
    ).all()
    assert sorted(r.code for r in rows) == sorted(original.code)
    assert all(r.same_vertices for r in rows)
    assert max(r.error_m for r in rows) < TOLERANCE_M


def test_tm3_of_a_far_province_is_reported_not_loaded(conn, tmp_path: Path) -> None:
    """Hà Nội's TM-3 coordinates read on Khánh Hòa's meridian (108°15') land in the sea off
    China: the file is refused as a whole, naming the CRS it was read in."""
    points = points_csv(facilities(conn, "VN-HN"), TM3_105, tmp_path / "co_so.csv")
    polygons = areas_shapefile(areas(conn, "VN-HN"), TM3_105, tmp_path / "vung.shp")
    before = counts(conn)
    for layer, path in (("conservation_facilities", points), ("planning_zones", polygons)):
        report = ingest(conn, layer, path, crs="vn2000-tm3:Khánh Hòa")
        assert not report.written and not report.ok
        (error,) = report.file_errors
        assert error.field == "crs"
        assert "outside Vietnam" in error.problem and "EPSG:9217" in error.problem
        assert "EPSG:3405" in error.expected  # a CRS that puts them in place is offered
        assert not report.rows_with("rejected")  # the file is wrong, not each row
    assert counts(conn) == before


def test_tm3_of_a_neighbouring_province_is_caught_by_the_stated_province(
    conn, tmp_path: Path
) -> None:
    """On Hải Phòng's meridian (105°45') Hà Nội's points land ~80 km east, still in Vietnam:
    only --province tells; then the file is refused and Hà Nội's zone is offered."""
    path = points_csv(facilities(conn, "VN-HN"), TM3_105, tmp_path / "co_so.csv")
    before = counts(conn)
    # without a province nothing looks wrong
    report = ingest(
        conn, "conservation_facilities", path, crs="vn2000-tm3:Hải Phòng (cũ)", dry_run=True
    )
    assert report.ok, report.summary()
    report = ingest(
        conn,
        "conservation_facilities",
        path,
        crs="vn2000-tm3:Hải Phòng (cũ)",
        province="Hà Nội",
    )
    assert not report.written
    (error,) = report.file_errors
    assert error.field == "crs" and "Hà Nội" in error.problem and "105-45" in error.problem
    assert "EPSG:5897" in error.expected
    assert counts(conn) == before
