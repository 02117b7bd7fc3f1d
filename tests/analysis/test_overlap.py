"""Hectares of wetlands, ecosystems and planning zones inside and outside protected areas,
against shapely areas in the same equal-area CRS (EPSG:6933, through geopandas ``to_crs``)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import wkt

from tests.analysis import independent
from vbis_geo.analysis.overlap import OVERLAP_LAYERS

pytestmark = pytest.mark.db

EQUAL_AREA = 6933


@pytest.mark.parametrize("layer", list(OVERLAP_LAYERS))
def test_overlap_agrees_with_shapely(client, engine, layer) -> None:  # type: ignore[no-untyped-def]
    features = independent.areas(engine, layer).to_crs(EQUAL_AREA)
    protected = independent.areas(engine, "protected_areas").to_crs(EQUAL_AREA).union_all()
    body = client.get(f"/api/overlap?layer={layer}").json
    assert body["layer"] == layer and body["equal_area_crs"] == "EPSG:6933"
    got = {f["code"]: f for f in body["features"]}
    assert set(got) == set(features["code"]) and got
    for _, feature in features.iterrows():
        row = got[feature["code"]]
        area_ha = feature.geom.area / 10_000
        inside_ha = feature.geom.intersection(protected).area / 10_000
        assert row["area_ha"] == pytest.approx(area_ha, rel=1e-6, abs=1e-3)
        assert row["area_ha"] == pytest.approx(feature["area_ha"], rel=1e-6, abs=1e-3)
        assert row["inside_ha"] == pytest.approx(inside_ha, rel=1e-6, abs=1e-3), row["code"]
        assert row["outside_ha"] == pytest.approx(area_ha - inside_ha, rel=1e-6, abs=1e-3)
        assert row["inside_ha"] + row["outside_ha"] == pytest.approx(row["area_ha"], abs=1e-3)
    summary = body["summary"]
    assert summary["inside_ha"] == pytest.approx(sum(f["inside_ha"] for f in got.values()))
    assert 0 <= summary["share_inside"] <= 1


def test_overlapping_protected_areas_are_not_counted_twice(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A wetland at sea under two overlapping protected areas: inside is their union."""
    wetland = "MULTIPOLYGON(((112.0 12.0, 112.2 12.0, 112.2 12.2, 112.0 12.2, 112.0 12.0)))"
    pa_a = "MULTIPOLYGON(((111.9 11.9, 112.1 11.9, 112.1 12.3, 111.9 12.3, 111.9 11.9)))"
    pa_b = "MULTIPOLYGON(((112.05 12.05, 112.15 12.05, 112.15 12.15, 112.05 12.15, 112.05 12.05)))"
    with engine.begin() as conn:
        for code, shape_wkt in (("PA-TEST-OVERLAP-A", pa_a), ("PA-TEST-OVERLAP-B", pa_b)):
            conn.execute(
                sa.text(
                    "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, "
                    "status, geom) VALUES (:c, 'Thử', 'Test', 'nature_reserve', 'designated', "
                    "ST_GeomFromText(:g, 4326))"
                ),
                {"c": code, "g": shape_wkt},
            )
        conn.execute(
            sa.text(
                "INSERT INTO wetlands (code, name_vi, name_en, wetland_type, geom) VALUES "
                "('WL-TEST-OVERLAP', 'Thử', 'Test', 'marine_shallow', ST_GeomFromText(:g, 4326))"
            ),
            {"g": wetland},
        )
    try:
        body = client.get("/api/overlap?layer=wetlands").json
        row = next(f for f in body["features"] if f["code"] == "WL-TEST-OVERLAP")

        shapes = gpd.GeoSeries([wkt.loads(s) for s in (wetland, pa_a, pa_b)], crs=4326)
        w, a, b = shapes.to_crs(EQUAL_AREA)
        union = w.intersection(a.union(b)).area / 10_000
        double = (w.intersection(a).area + w.intersection(b).area) / 10_000
        assert row["inside_ha"] == pytest.approx(union, rel=1e-6)
        assert row["inside_ha"] < double
        assert row["outside_ha"] == pytest.approx(w.area / 10_000 - union, rel=1e-6)
        assert row["protected_areas"] == ["PA-TEST-OVERLAP-A", "PA-TEST-OVERLAP-B"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM wetlands WHERE code = 'WL-TEST-OVERLAP'"))
            conn.execute(sa.text("DELETE FROM protected_areas WHERE code LIKE 'PA-TEST-OVERLAP-%'"))


def test_overlap_as_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/overlap?layer=ecosystems&f=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *lines = response.data.decode("utf-8-sig").splitlines()
    assert header == (
        "code,name_vi,name_en,type,area_ha,inside_ha,outside_ha,share_inside,protected_areas"
    )
    assert len(lines) == client.get("/api/overlap?layer=ecosystems").json["summary"]["features"]


def test_overlap_bad_requests_name_the_layers(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/overlap?layer=rivers", "/api/overlap", "/api/overlap?layer=protected_areas"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "wetlands, ecosystems, planning_zones" in response.json["description"]
    response = client.get("/api/overlap?layer=wetlands&as_of=2024-13-01")
    assert response.status_code == 400 and "as_of='2024-13-01'" in response.json["description"]
