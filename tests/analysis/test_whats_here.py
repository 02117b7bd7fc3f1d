"""What is here (``GET /api/whats-here``) against geopandas/shapely on the test database's real
provinces and demo areas: inside, outside and on a boundary, in WGS 84 and in projected
VN-2000 coordinates, the 63 or the 34 provinces by date, and the nearest protected area's
geodesic distance."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer
from shapely.geometry import Point

from tests.analysis import independent
from vbis_geo.geodesy import OFFICIAL_TOWGS84

pytestmark = pytest.mark.db

LAYERS = {
    "admin_units": "provinces",
    "protected_areas": "protected_areas",
    "pa_zones": "pa_zones",
    "wetlands": "wetlands",
    "ecosystems": "ecosystems",
    "planning_zones": "planning_zones",
}
REFORM = dt.date(2025, 7, 1)
#: EPSG:3405 (VN-2000 / UTM 48N) written out with the official Helmert, independently of the
#: package's CRS code
VN2000_UTM48 = (
    "+proj=utm +zone=48 +ellps=WGS84 +towgs84="
    + ",".join(repr(v) for v in OFFICIAL_TOWGS84.towgs84())
    + " +units=m +no_defs"
)


@pytest.fixture(scope="module")
def layers(engine) -> dict[str, gpd.GeoDataFrame]:  # type: ignore[no-untyped-def]
    return {table: independent.areas(engine, table) for table in LAYERS}


def in_force(frame: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    start = frame["valid_from"].isna() | (frame["valid_from"] <= day)
    end = frame["valid_to"].isna() | (frame["valid_to"] >= day)
    return frame[start & end]


def expected(layers: dict[str, gpd.GeoDataFrame], lon: float, lat: float, day: dt.date) -> dict:
    """Codes of each layer's areas covering the point on ``day`` (boundary inside)."""
    point = Point(lon, lat)
    out = {}
    for table, key in LAYERS.items():
        frame = in_force(layers[table], day)
        if table == "pa_zones":
            pas = in_force(layers["protected_areas"], day)
            frame = frame[frame["protected_area_id"].isin(pas["id"])]
        out[key] = sorted(frame.loc[frame.intersects(point), "code"])
    return out


def got(body: dict) -> dict:
    return {key: sorted(a["code"] for a in body[key]) for key in LAYERS.values()}


def geodesic_distance_m(polygon: shapely.Geometry, lon: float, lat: float) -> float:
    """Distance from (lon, lat) to ``polygon`` in an azimuthal equidistant projection centred
    on the point (distances from its centre are geodesic), the outline densified first."""
    aeqd = Transformer.from_crs(
        "EPSG:4326", CRS(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84"), always_xy=True
    )
    dense = shapely.segmentize(polygon, 0.0005)
    projected = shapely.transform(
        dense, lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1]))
    )
    return float(projected.distance(Point(0, 0)))


def test_inside_outside_and_on_boundaries_agree_with_shapely(client, layers) -> None:  # type: ignore[no-untyped-def]
    today = dt.date.today()
    pas = layers["protected_areas"]
    zones = layers["pa_zones"]
    busy = pas.iloc[0]
    zone = zones.iloc[0]
    provinces = in_force(layers["admin_units"], today)
    # a vertex of one province's outline that lies in (or on) a neighbour: on a shared border
    first = provinces.iloc[0]
    others = provinces[provinces["code"] != first["code"]]
    coords = shapely.get_coordinates(first.geom.boundary)
    border = next(
        (float(x), float(y))
        for x, y in coords[:: max(1, len(coords) // 400)]
        if others.intersects(Point(x, y)).any()
    )
    pa_vertex = tuple(float(v) for v in shapely.get_coordinates(busy.geom)[0])
    points = {
        "inside a protected area": busy.geom.representative_point().coords[0],
        "inside a zone": zone.geom.representative_point().coords[0],
        "on a protected area's outline": pa_vertex,
        "on a province border": border,
        "in the sea, outside everything": (109.9, 12.0),
        "in Hà Nội": (105.8525, 21.0287),
    }
    for name, xy in points.items():
        lon, lat = float(xy[0]), float(xy[1])
        body = client.get(f"/api/whats-here?lon={lon!r}&lat={lat!r}").json
        assert got(body) == expected(layers, lon, lat, today), name
        assert body["as_of"] == today.isoformat()
    on_outline = client.get(f"/api/whats-here?lon={pa_vertex[0]!r}&lat={pa_vertex[1]!r}").json
    assert busy["code"] in got(on_outline)["protected_areas"]
    assert on_outline["nearest_protected_area"]["distance_m"] == 0
    on_border = client.get(f"/api/whats-here?lon={border[0]!r}&lat={border[1]!r}").json
    assert len(on_border["provinces"]) >= 2  # a shared border belongs to both sides
    sea = client.get("/api/whats-here?lon=109.9&lat=12.0").json
    assert sea["provinces"] == [] and sea["protected_areas"] == []


def test_nearest_protected_area_is_geodesic(client, layers) -> None:  # type: ignore[no-untyped-def]
    pas = in_force(layers["protected_areas"], dt.date.today())
    for lon, lat in [(105.8525, 21.0287), (106.7, 10.78), (109.9, 12.0), (104.05, 21.72)]:
        distances = pas.geom.apply(lambda g, x=lon, y=lat: geodesic_distance_m(g, x, y))
        nearest = distances.idxmin()
        body = client.get(f"/api/whats-here?lon={lon}&lat={lat}").json
        answer = body["nearest_protected_area"]
        assert answer["code"] == pas.loc[nearest, "code"], (lon, lat)
        assert answer["distance_m"] == pytest.approx(distances[nearest], rel=2e-3, abs=2.0)
        assert answer["distance_m"] > 0
    inside = pas.iloc[0].geom.representative_point()
    body = client.get(f"/api/whats-here?lon={inside.x}&lat={inside.y}").json
    assert body["nearest_protected_area"] == {
        "code": pas.iloc[0]["code"],
        "name_vi": pas.iloc[0]["name_vi"],
        "name_en": pas.iloc[0]["name_en"],
        "distance_m": 0.0,
    }


def test_a_point_in_projected_vn2000_coordinates(client, layers) -> None:  # type: ignore[no-untyped-def]
    to_utm = Transformer.from_crs("EPSG:4326", CRS(VN2000_UTM48), always_xy=True)
    pas = layers["protected_areas"]
    lon, lat = pas.iloc[0].geom.representative_point().coords[0]
    x, y = to_utm.transform(lon, lat)
    in_wgs84 = client.get(f"/api/whats-here?lon={lon}&lat={lat}").json
    for query in (f"x={x}&y={y}&crs=EPSG:3405", f"lon={x}&lat={y}&crs=EPSG:3405"):
        body = client.get(f"/api/whats-here?{query}").json
        assert body["point"]["lon"] == pytest.approx(lon, abs=1e-8), query
        assert body["point"]["lat"] == pytest.approx(lat, abs=1e-8), query
        assert (body["point"]["x"], body["point"]["y"]) == (x, y)
        assert got(body) == got(in_wgs84) and pas.iloc[0]["code"] in got(body)["protected_areas"]
    # a provincial TM-3 zone by name: Hà Nội's (105°00')
    tm3 = Transformer.from_crs(
        "EPSG:4326",
        CRS(
            VN2000_UTM48.replace(
                "+proj=utm +zone=48", "+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000"
            )
        ),
        always_xy=True,
    )
    x, y = tm3.transform(105.8525, 21.0287)
    body = client.get("/api/whats-here", query_string={"x": x, "y": y, "crs": "vn2000-tm3:Hà Nội"})
    assert body.json["point"]["lon"] == pytest.approx(105.8525, abs=1e-8)
    assert [p["code"] for p in body.json["provinces"]] == ["VN34-HA-NOI"]


def test_63_or_34_provinces_by_date(client, layers) -> None:  # type: ignore[no-untyped-def]
    lon, lat = 104.98, 22.82  # Hà Giang town: Hà Giang province until the reform, Tuyên Quang after
    before = client.get(f"/api/whats-here?lon={lon}&lat={lat}&as_of=2025-06-30").json
    after = client.get(f"/api/whats-here?lon={lon}&lat={lat}&as_of=2025-07-01").json
    today = client.get(f"/api/whats-here?lon={lon}&lat={lat}").json
    assert (
        got(before)["provinces"]
        == expected(layers, lon, lat, REFORM - dt.timedelta(1))["provinces"]
    )
    assert got(after)["provinces"] == expected(layers, lon, lat, REFORM)["provinces"]
    assert [p["name_vi"] for p in before["provinces"]] == ["Hà Giang"]
    assert [p["name_vi"] for p in after["provinces"]] == ["Tuyên Quang"]
    assert before["provinces"][0]["valid_to"] == "2025-06-30"
    assert after["provinces"][0]["valid_from"] == "2025-07-01"
    assert today["provinces"] == after["provinces"]
    long_ago = client.get(f"/api/whats-here?lon={lon}&lat={lat}&as_of=2000-01-01").json
    assert long_ago["provinces"] == []  # before the 63 (2008-08-01): no unit of that time stored


def test_areas_out_of_force_are_left_out(client, engine) -> None:  # type: ignore[no-untyped-def]
    shape = "MULTIPOLYGON(((109.60 11.60, 109.70 11.60, 109.70 11.70, 109.60 11.70, 109.60 11.60)))"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, status, "
                "valid_from, valid_to, geom) VALUES ('PA-TEST-OLD', 'Cũ', 'Old', "
                "'nature_reserve', 'degazetted', '2001-01-01', '2010-12-31', "
                "ST_GeomFromText(:g, 4326))"
            ),
            {"g": shape},
        )
    try:
        inside = "/api/whats-here?lon=109.65&lat=11.65"
        old = client.get(inside + "&as_of=2005-06-01").json
        assert [a["code"] for a in old["protected_areas"]] == ["PA-TEST-OLD"]
        assert old["nearest_protected_area"]["distance_m"] == 0
        now = client.get(inside).json
        assert now["protected_areas"] == []
        assert now["nearest_protected_area"]["code"] != "PA-TEST-OLD"
        assert now["nearest_protected_area"]["distance_m"] > 0
        assert client.get(inside + "&as_of=2010-12-31").json["protected_areas"]  # inclusive
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM protected_areas WHERE code = 'PA-TEST-OLD'"))


def test_bad_points_name_the_problem(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "lon=21.03&lat=105.85": "not a place on the globe",
        "lon=105.85": "lat is required",
        "x=586000": "y is required",
        "lon=105,85&lat=21.03": "lon='105,85': expected a number",
        "lon=nan&lat=21": "lon='nan': expected a number",
        "lon=105&lat=21&x=1&y=2": "either lon and lat or x and y",
        "lon=105&lat=21&crs=EPSG:99999": "crs: not a CRS",
        "lon=105&lat=21&crs=vn2000-tm3:Atlantis": "crs: unknown province",
        "lon=105&lat=21&as_of=2025-02-30": "as_of=",
        "lon=105&lat=21&f=csv": "f='csv'",
        "x=1e12&y=1e12&crs=EPSG:3405": "not a place on the globe",
    }
    for query, words in cases.items():
        response = client.get(f"/api/whats-here?{query}")
        assert response.status_code == 400, query
        assert words in response.json["description"], (query, response.json)
    swapped = client.get("/api/whats-here?lon=21.03&lat=105.85").json
    assert "swapped" in swapped["hint"]
