"""The area report (``POST /api/area-report``) against geopandas/shapely on the test database's
real provinces and demo data, and its land cover against the raster read directly with rasterio
(pixel centres tested with shapely, pixel areas from pyproj's geodesic polygon areas)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import sqlalchemy as sa
from affine import Affine
from pyproj import CRS, Geod, Proj, Transformer
from shapely.geometry import Point, Polygon, mapping

from tests.analysis import independent
from tests.conftest import LANDCOVER
from vbis_geo.analysis.report import pixel_areas_m2
from vbis_geo.geodesy import OFFICIAL_TOWGS84

pytestmark = pytest.mark.db

THREATENED = ("CR", "EN", "VU")
#: EPSG:3405 written out with the official Helmert, independently of the package's CRS code
VN2000_UTM48 = (
    "+proj=utm +zone=48 +ellps=WGS84 +towgs84="
    + ",".join(repr(v) for v in OFFICIAL_TOWGS84.towgs84())
    + " +units=m +no_defs"
)
#: an irregular polygon inside the land-cover raster (Mù Cang Chải, Yên Bái); no vertex on a
#: pixel's centre line
CHE_TAO = Polygon(
    [(103.9013, 21.6127), (104.1871, 21.5893), (104.2237, 21.8311), (104.0519, 21.8789),
     (103.9371, 21.7713), (103.9013, 21.6127)]
)  # fmt: skip
#: half inside the raster, half outside (its western edge is at 103.85°E)
ACROSS_EDGE = Polygon(
    [(103.7513, 21.6027), (103.9511, 21.6033), (103.9517, 21.7029), (103.7519, 21.7031),
     (103.7513, 21.6027)]
)  # fmt: skip


@pytest.fixture(scope="module")
def truth(engine):  # type: ignore[no-untyped-def]
    points = independent.occurrences(engine, "public")  # the client asks as the public
    species = independent.species_of(engine)
    points["species"] = [species[t] for t in points["taxon_id"]]
    statuses = pd.read_sql("SELECT taxon_id, list, category FROM taxon_statuses", engine)
    return points, statuses


def yen_bai(engine) -> shapely.Geometry:  # type: ignore[no-untyped-def]
    provinces = independent.areas(engine, "admin_units")
    return provinces.loc[provinces["code"] == "VN-06", "geom"].iloc[0]


def expected_species(points: gpd.GeoDataFrame, polygon: shapely.Geometry) -> dict:
    mine = points[points.intersects(polygon) & points["species"].notna()]
    grouped = mine.groupby("species").agg(
        n=("id", "count"), first=("event_date", "min"), last=("event_date", "max")
    )
    return {
        int(s): (int(r.n), r.first.isoformat() if pd.notna(r.first) else None,
                 r.last.isoformat() if pd.notna(r.last) else None)
        for s, r in grouped.iterrows()
    }  # fmt: skip


def expected_counts(statuses: pd.DataFrame, species: set[int]) -> dict[str, int]:
    mine = statuses[statuses["taxon_id"].isin(species)]
    threatened = mine[
        mine["list"].isin(["iucn_red_list", "vn_red_data_book"]) & mine["category"].isin(THREATENED)
    ]
    return {
        "threatened": threatened["taxon_id"].nunique(),
        "endemic": mine.loc[mine["list"] == "endemic", "taxon_id"].nunique(),
        "invasive": mine.loc[mine["list"] == "invasive_alien", "taxon_id"].nunique(),
    }


def report(client, geometry, **extra):  # type: ignore[no-untyped-def]
    response = client.post("/api/area-report", json={"geometry": geometry, **extra})
    assert response.status_code == 200, response.json
    return response.json


def test_species_of_a_province_agree_with_geopandas(client, engine, truth) -> None:  # type: ignore[no-untyped-def]
    points, statuses = truth
    polygon = yen_bai(engine)
    body = report(client, mapping(polygon))
    got = {
        s["taxon_id"]: (s["records"], s["first_record"], s["last_record"]) for s in body["species"]
    }
    want = expected_species(points, polygon)
    assert got == want and len(want) > 20
    summary = body["summary"]
    assert summary["species"] == len(want)
    assert summary["records"] == sum(n for n, _, _ in want.values())
    counts = expected_counts(statuses, set(want))
    assert {k: summary[k] for k in counts} == counts
    assert counts["threatened"] > 0
    # the same rows as the species list of an area (statuses, groups)
    assert set(body["species"][0]) >= {
        "taxon_id", "scientific_name", "class", "family", "statuses", "uncertain_records"
    }  # fmt: skip
    # as of a date: the records made by then
    dated = report(client, mapping(polygon), as_of="2015-12-31")
    early = points[
        points.intersects(polygon)
        & points["species"].notna()
        & (pd.to_datetime(points["event_date"]) <= pd.Timestamp("2015-12-31"))
    ]
    assert dated["summary"]["records"] == len(early)
    assert dated["as_of"] == "2015-12-31" and dated["areas_in_force_on"] == "2015-12-31"


def test_the_same_polygon_in_every_form(client, engine, truth) -> None:  # type: ignore[no-untyped-def]
    """GeoJSON geometry, Feature, bare body, WKT, EWKT, the query parameter, and VN-2000 UTM
    coordinates: the same species."""
    points, _ = truth
    polygon = CHE_TAO
    want = expected_species(points, polygon)
    assert want

    def species(body: dict) -> dict:
        return {s["taxon_id"]: s["records"] for s in body["species"]}

    expected = {s: n for s, (n, _, _) in want.items()}
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": mapping(polygon)}
    assert species(report(client, mapping(polygon))) == expected
    assert species(report(client, feature)) == expected
    assert species(report(client, polygon.wkt)) == expected
    for data, content_type in (
        (polygon.wkt, "text/plain"),
        (f"SRID=4326;{polygon.wkt}", "text/plain"),
        (shapely.to_geojson(polygon), "application/geo+json"),
    ):
        response = client.post("/api/area-report", data=data, content_type=content_type)
        assert species(response.json) == expected, content_type
    by_query = client.post("/api/area-report", query_string={"geometry": polygon.wkt})
    assert species(by_query.json) == expected
    # in EPSG:3405: a rectangle of UTM 48N (VN-2000), against the same rectangle in WGS 84
    utm = CRS(VN2000_UTM48)
    to_wgs84 = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    box = shapely.box(405_000, 2_390_000, 425_000, 2_410_000)
    dense = shapely.segmentize(box, 100.0)
    lonlat = shapely.transform(
        dense, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    want_utm = {s: n for s, (n, _, _) in expected_species(points, lonlat).items()}
    assert want_utm
    in_utm = report(client, mapping(box), crs="EPSG:3405")
    assert species(in_utm) == want_utm
    assert in_utm["polygon"]["crs"] == "EPSG:3405"
    assert in_utm["polygon"]["area_ha"] == pytest.approx(
        abs(Geod(ellps="WGS84").geometry_area_perimeter(lonlat)[0]) / 1e4, rel=1e-4
    )
    ewkt = client.post("/api/area-report", data=f"SRID=3405;{box.wkt}", content_type="text/plain")
    assert species(ewkt.json) == want_utm
    as_query = client.post(
        "/api/area-report?crs=EPSG:3405", json={"geometry": mapping(box), "crs": "EPSG:3405"}
    )
    assert species(as_query.json) == want_utm


def test_protected_areas_and_zones_touched_with_equal_area_overlaps(client, engine) -> None:  # type: ignore[no-untyped-def]
    polygon = CHE_TAO
    body = report(client, mapping(polygon))
    query = gpd.GeoSeries([polygon], crs=4326).to_crs(6933).iloc[0]
    assert body["polygon"]["area_ha"] == pytest.approx(query.area / 1e4, rel=1e-9)
    for table, key in (("protected_areas", "protected_areas"), ("pa_zones", "pa_zones")):
        areas = independent.areas(engine, table)
        touched = areas[areas.intersects(polygon)]
        overlap = touched.to_crs(6933).intersection(query).area / 1e4
        want = dict(zip(touched["code"], overlap, strict=True))
        got = {a["code"]: a["overlap_ha"] for a in body[key]}
        assert set(got) == set(want) and want, table
        for code, hectares in want.items():
            assert got[code] == pytest.approx(hectares, rel=1e-6, abs=1e-3), code
        for item in body[key]:
            assert item["share_of_polygon"] == pytest.approx(
                item["overlap_ha"] / (query.area / 1e4)
            )
    zone = body["pa_zones"][0]
    assert zone["protected_area_code"] and zone["zone_type"]


def direct_land_cover(
    path, polygon: shapely.Geometry
) -> tuple[dict[int, tuple[int, float]], float]:  # type: ignore[no-untyped-def]
    """Per class (pixels, hectares) of the pixels whose centre the polygon contains, each pixel
    weighed by its geodesic area (pyproj.Geod on its four corners); and the polygon's area."""
    geod = Geod(ellps="WGS84")
    with rasterio.open(path) as src:
        data = src.read(1)
        nodata = src.nodata
        t = src.transform
    rows, cols = np.indices(data.shape)
    xs = t.c + (cols + 0.5) * t.a
    ys = t.f + (rows + 0.5) * t.e
    inside = shapely.contains_xy(polygon, xs, ys) & (data != nodata)
    row_area_m2 = np.array(
        [
            abs(geod.polygon_area_perimeter(
                [t.c, t.c + t.a, t.c + t.a, t.c],
                [t.f + r * t.e, t.f + r * t.e, t.f + (r + 1) * t.e, t.f + (r + 1) * t.e],
            )[0])
            for r in range(data.shape[0])
        ]
    )  # fmt: skip
    out = {}
    for code in np.unique(data[inside]):
        chosen = inside & (data == code)
        out[int(code)] = (int(chosen.sum()), float(row_area_m2[rows[chosen]].sum() / 1e4))
    return out, abs(geod.geometry_area_perimeter(polygon)[0]) / 1e4


def test_land_cover_agrees_with_rasterio(client, shared_data, test_settings) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.ingest.rasters import raster_layers

    names = {r.id: r for r in raster_layers(test_settings.project_dir / "layers")}["landcover"]
    for polygon, full in ((CHE_TAO, True), (ACROSS_EDGE, False)):
        want, polygon_ha = direct_land_cover(shared_data / LANDCOVER, polygon)
        cover = report(client, mapping(polygon))["land_cover"]
        got = {c["code"]: (c["pixels"], c["area_ha"]) for c in cover["classes"]}
        assert set(got) == set(want)
        total_ha = sum(ha for _, ha in want.values())
        for code, (pixels, hectares) in want.items():
            assert got[code][0] == pixels, code
            assert got[code][1] == pytest.approx(hectares, rel=1e-6), code
        for c in cover["classes"]:
            assert c["share"] == pytest.approx(want[c["code"]][1] / total_ha, rel=1e-6)
            assert c["name"] == names.classes[c["code"]]
        assert sum(c["share"] for c in cover["classes"]) == pytest.approx(1.0)
        assert cover["covered_ha"] == pytest.approx(total_ha, rel=1e-6)
        assert cover["pixels"] == sum(p for p, _ in want.values())
        if full:  # pixel centres sample the polygon: covered area ~ the polygon's
            assert cover["coverage"] == pytest.approx(1.0, abs=0.01)
        else:  # the raster covers about half of it
            assert cover["coverage"] == pytest.approx(total_ha / polygon_ha, rel=1e-3)
            assert 0.4 < cover["coverage"] < 0.6
    # pixel areas: a 100 m pixel of a geographic raster shrinks with cos(latitude)
    far = report(client, "POLYGON((106 10, 106.1 10, 106.1 10.1, 106 10.1, 106 10))")["land_cover"]
    assert far["classes"] == [] and far["coverage"] == 0


def test_pixel_areas_of_a_projected_grid() -> None:
    """The general path (pixel corners through WGS 84 to the equal-area CRS) against UTM's
    areal scale factor: a 100 m x 100 m UTM pixel covers 10,000 m² / areal scale."""
    transform = Affine(100.0, 0, 300_000.0, 0, -100.0, 2_400_000.0)
    crs = CRS.from_epsg(32648)
    areas = pixel_areas_m2(crs, transform, (3, 4))
    assert areas.shape == (3, 4)
    cx = 300_000.0 + 100.0 * (np.arange(4) + 0.5)
    cy = 2_400_000.0 - 100.0 * (np.arange(3) + 0.5)
    xs, ys = np.meshgrid(cx, cy)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    scale = Proj(crs).get_factors(lon, lat).areal_scale
    np.testing.assert_allclose(areas, 10_000.0 / scale, rtol=1e-6)
    # and the geographic path against pyproj's geodesic area of one pixel
    geographic = Affine(0.001, 0, 104.0, 0, -0.001, 21.8)
    row = pixel_areas_m2(CRS.from_epsg(4326), geographic, (2, 5))
    assert row.shape == (2, 1)
    geod_area = abs(
        Geod(ellps="WGS84").polygon_area_perimeter(
            [104.0, 104.001, 104.001, 104.0], [21.8, 21.8, 21.799, 21.799]
        )[0]
    )
    assert row[0, 0] == pytest.approx(geod_area, rel=1e-7)


def test_limits_and_bad_input_name_the_problem(client) -> None:  # type: ignore[no-untyped-def]
    square = "POLYGON((105 20, 105.1 20, 105.1 20.1, 105 20.1, 105 20))"
    huge = "POLYGON((102 9, 109 9, 109 23, 102 23, 102 9))"
    many = Point(105.5, 20.5).buffer(0.05, quad_segs=2600)  # 10,401 vertices
    bowtie = "POLYGON((105 20, 105.1 20.1, 105.1 20, 105 20.1, 105 20))"
    cases = [
        ({"geometry": huge}, 400, "LimitExceeded", "the limit is 25,000 km²"),
        ({"geometry": many.wkt}, 400, "LimitExceeded", "the limit is 10,000"),
        ({"geometry": bowtie}, 400, "InvalidInput", "not valid: Self-intersection[105.05 20.05]"),
        ({"geometry": "POLYGON((105 20, 105.1"}, 400, "InvalidInput", "geometry: not WKT"),
        ({"geometry": "POINT(105 20)"}, 400, "InvalidInput", "a Point; expected a Polygon"),
        ({"geometry": {"type": "Polygon"}}, 400, "InvalidInput", "geometry.coordinates:"),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[105, 20], [105.1, 20]]]}},
            400, "InvalidInput", "malformed GeoJSON Polygon",
        ),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[["a", 20], [1, 2], [3, 4], [5, 6]]]}},
            400, "InvalidInput", "malformed GeoJSON Polygon",
        ),
        (
            {"geometry": {"type": "FeatureCollection", "features": []}},
            400, "InvalidInput", "a FeatureCollection",
        ),
        (
            {"geometry": {"type": "Feature", "geometry": None}},
            400, "InvalidInput", "without a geometry",
        ),
        ({"geometry": {"coordinates": []}}, 400, "InvalidInput", 'without "type"'),
        ({"geometry": 42}, 400, "InvalidInput", "expected a GeoJSON object or WKT text"),
        ({"geometry": square, "crs": "EPSG:nope"}, 400, "InvalidInput", "crs: not a CRS"),
        ({"geometry": square, "as_of": "31/12/2020"}, 400, "InvalidInput", "as_of='31/12/2020'"),
        ({"geometry": square, "srs": "EPSG:4326"}, 400, "InvalidInput", "unknown member(s) srs"),
        ({}, 400, "InvalidInput", "geometry is required"),
        (
            {"geometry": "POLYGON((0 0, 1e12 0, 1e12 1e12, 0 0))", "crs": "EPSG:3405"},
            400, "LimitExceeded", "outline is",
        ),
        ({"geometry": square, "crs": 3405}, 400, "InvalidInput", "crs: expected text"),
        (
            {"geometry": "POLYGON((21 105, 21.1 105, 21.1 105.1, 21 105))"},
            400, "InvalidInput", "coordinates off the globe",
        ),
        (
            {"geometry": f"SRID=3405;{square}", "crs": "EPSG:4326"},
            400, "InvalidInput", "crs: the body says 'EPSG:4326', the geometry 'EPSG:3405'",
        ),
    ]  # fmt: skip
    for body, status, code, words in cases:
        response = client.post("/api/area-report", json=body)
        assert response.status_code == status, (body, response.json)
        assert response.json["code"] == code, (body, response.json)
        assert words in response.json["description"], (body, response.json)
    raw_cases = [
        (b"{not json", "application/json", "body: not JSON"),
        (b"[1, 2]", "application/json", "body: expected a JSON object"),
        (b"", "text/plain", "geometry is required"),
        (b"<Polygon/>", "application/gml+xml", "content type 'application/gml+xml'"),
        (b"x" * (2 * 1024**2 + 1), "text/plain", "the limit is 2,097,152"),
    ]
    for data, content_type, words in raw_cases:
        response = client.post("/api/area-report", data=data, content_type=content_type)
        assert response.status_code == 400, (content_type, response.json)
        assert words in response.json["description"], (content_type, response.json)
    both = client.post(
        "/api/area-report?as_of=2020-01-01", json={"geometry": square, "as_of": "2021-01-01"}
    )
    assert both.status_code == 400 and "as_of: the body says" in both.json["description"]
    twice = client.post(
        f"/api/area-report?geometry={square}", data=square, content_type="text/plain"
    )
    assert (
        twice.status_code == 400 and "both in the body and as a query" in twice.json["description"]
    )
    assert client.get("/api/area-report").status_code == 405


def test_species_as_csv_and_taxon_filters(client, engine) -> None:  # type: ignore[no-untyped-def]
    polygon = mapping(yen_bai(engine))
    everything = report(client, polygon)
    threatened = client.post("/api/area-report?threatened=true", json={"geometry": polygon}).json
    assert threatened["summary"]["species"] == everything["summary"]["threatened"]
    assert threatened["filters"] == {"threatened": True}
    response = client.post("/api/area-report?f=csv", json={"geometry": polygon})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *lines = response.data.decode("utf-8-sig").splitlines()
    assert header.startswith("taxon_id,scientific_name,") and "iucn_red_list" in header
    assert len(lines) == everything["summary"]["species"]


def test_areas_in_force_on_the_date(client, engine) -> None:  # type: ignore[no-untyped-def]
    shape = "MULTIPOLYGON(((109.60 11.60, 109.70 11.60, 109.70 11.70, 109.60 11.70, 109.60 11.60)))"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, status, "
                "valid_from, valid_to, geom) VALUES ('PA-TEST-OLD-R', 'Cũ', 'Old', "
                "'nature_reserve', 'degazetted', '2001-01-01', '2010-12-31', "
                "ST_GeomFromText(:g, 4326))"
            ),
            {"g": shape},
        )
    try:
        square = "POLYGON((109.55 11.55, 109.65 11.55, 109.65 11.65, 109.55 11.65, 109.55 11.55))"
        then = report(client, square, as_of="2005-01-01")
        (area,) = then["protected_areas"]
        assert area["code"] == "PA-TEST-OLD-R"
        quarter = (
            gpd.GeoSeries.from_wkt(
                ["POLYGON((109.6 11.6, 109.65 11.6, 109.65 11.65, 109.6 11.65, 109.6 11.6))"],
                crs=4326,
            )
            .to_crs(6933)
            .area.iloc[0]
            / 1e4
        )
        assert area["overlap_ha"] == pytest.approx(quarter, rel=1e-6)
        assert area["share_of_area"] == pytest.approx(0.25, rel=1e-3)
        assert report(client, square)["protected_areas"] == []
        assert dt.date.fromisoformat(report(client, square)["areas_in_force_on"]) == dt.date.today()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM protected_areas WHERE code = 'PA-TEST-OLD-R'"))


def test_land_cover_of_a_projected_raster(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The raster warped to VN-2000 / UTM 48N (EPSG:3405, 100 m pixels, nearest neighbour):
    the polygon is taken into the raster's CRS by the official Helmert and each pixel weighs
    its ellipsoidal area, so the composition is the geographic raster's within resampling."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    from vbis_geo.analysis.report import land_cover

    source = shared_data / LANDCOVER
    warped = tmp_path / "landcover-3405.tif"
    with rasterio.open(source) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3405", src.width, src.height, *src.bounds, resolution=100.0
        )
        profile = src.profile | {
            "crs": "EPSG:3405", "transform": transform, "width": width, "height": height,
            "driver": "GTiff",
        }  # fmt: skip
        with rasterio.open(warped, "w", **profile) as dst:
            reproject(
                rasterio.band(src, 1),
                rasterio.band(dst, 1),
                dst_nodata=src.nodata,
                resampling=Resampling.nearest,
            )
    geographic = land_cover(source, {}, CHE_TAO)
    projected = land_cover(warped, {}, CHE_TAO)
    assert projected["coverage"] == pytest.approx(1.0, abs=0.01)
    assert projected["covered_ha"] == pytest.approx(geographic["covered_ha"], rel=0.01)
    shares = {c["code"]: c["share"] for c in geographic["classes"]}
    for c in projected["classes"]:
        assert c["share"] == pytest.approx(shares.get(c["code"], 0.0), abs=0.01), c["code"]
    # a 100 m UTM pixel near 21.7°N covers 10,000 m² / areal scale (about 0.9992 here)
    assert projected["covered_ha"] / projected["pixels"] == pytest.approx(1.0, abs=0.002)


def test_a_slow_report_is_stopped(client, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.analysis import report as report_module

    monkeypatch.setattr(report_module, "STATEMENT_TIMEOUT_S", 0.001)
    response = client.post("/api/area-report", json={"geometry": mapping(yen_bai(engine))})
    assert response.status_code == 400
    assert response.json["code"] == "LimitExceeded"
    assert "took longer than 0.001 s" in response.json["description"]
