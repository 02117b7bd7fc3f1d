"""The spatial questions as OGC API - Processes, run by OWSLib over HTTP."""

from __future__ import annotations

import pytest
from owslib.ogcapi.processes import Processes

pytestmark = pytest.mark.db


def test_owslib_lists_describes_and_runs_species_in_area(live_server, client) -> None:  # type: ignore[no-untyped-def]
    api = Processes(f"{live_server}/ogc")
    assert "species-in-area" in {p["id"] for p in api.processes()}
    described = api.process("species-in-area")
    assert described["inputs"]["protected_area"]["minOccurs"] == 1
    assert described["inputs"]["zone_type"]["schema"]["enum"][0] == "strictly_protected"

    result = api.execute(
        "species-in-area",
        inputs={"protected_area": "PA-CUC-PHUONG", "kingdom": "Animalia"},
        response="raw",
    )
    from_api = client.get("/api/protected-areas/PA-CUC-PHUONG/species?kingdom=Animalia").json
    answer = result.get("value", result)  # a raw response is the output itself
    assert answer["summary"] == from_api["summary"] and answer["summary"]["species"] > 0
    assert [s["taxon_id"] for s in answer["species"]] == [
        s["taxon_id"] for s in from_api["species"]
    ]


def test_process_errors_name_the_input(client) -> None:  # type: ignore[no-untyped-def]
    url = "/ogc/processes/species-in-area/execution"
    for inputs, words in (
        ({"protected_area": "NOWHERE"}, "no protected area 'NOWHERE'"),
        ({"protected_area": "PA-CUC-PHUONG", "as_of": "soon"}, "as_of='soon'"),
        ({"protected_area": "PA-CUC-PHUONG", "status": ["iucn_red_list:XX"]}, "no category"),
        ({}, "protected_area: expected the code"),
    ):
        response = client.post(url, json={"inputs": inputs})
        assert response.status_code == 400, inputs
        assert words in response.json["description"], response.json


#: a rectangle around Chế Tạo and Mù Cang Chải (lon/lat), inside the land-cover raster
MU_CANG_CHAI = [[103.90, 21.59], [104.22, 21.59], [104.22, 21.87], [103.90, 21.87], [103.90, 21.59]]


def test_owslib_runs_the_area_report_as_the_api_answers(live_server, client) -> None:  # type: ignore[no-untyped-def]
    api = Processes(f"{live_server}/ogc")
    assert "area-report" in {p["id"] for p in api.processes()}
    described = api.process("area-report")
    assert described["inputs"]["polygon"]["minOccurs"] == 1
    geojson_schema = described["inputs"]["polygon"]["schema"]["oneOf"][0]["allOf"]
    assert geojson_schema[0] == {"format": "geojson-geometry"}

    polygon = {"type": "Polygon", "coordinates": [MU_CANG_CHAI]}
    from_api = client.post("/api/area-report?kingdom=Animalia&as_of=2024-12-31", json=polygon).json
    assert from_api["summary"]["species"] > 0 and from_api["land_cover"]["classes"]

    def run(inputs: dict) -> dict:  # type: ignore[type-arg]
        result = api.execute("area-report", inputs=inputs, response="raw")
        return result.get("value", result)  # type: ignore[no-any-return]

    filters = {"kingdom": "Animalia", "as_of": "2024-12-31"}
    wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in MU_CANG_CHAI) + "))"
    for inputs in (
        {"polygon": polygon, **filters},  # a GeoJSON geometry
        {"polygon": {"value": polygon, "mediaType": "application/geo+json"}, **filters},
        {"polygon": {"value": wkt, "mediaType": "application/wkt"}, **filters},
        {"polygon": f"SRID=4326;{wkt}", "crs": "EPSG:4326", **filters},  # WKT, CRSs agreeing
    ):
        answer = run(inputs)
        for key in ("summary", "filters", "as_of", "areas_in_force_on", "limits"):
            assert answer[key] == from_api[key], (key, inputs)
        assert [s["taxon_id"] for s in answer["species"]] == [
            s["taxon_id"] for s in from_api["species"]
        ]
        assert [(a["code"], a["overlap_ha"]) for a in answer["protected_areas"]] == [
            (a["code"], a["overlap_ha"]) for a in from_api["protected_areas"]
        ]
        assert answer["land_cover"] == from_api["land_cover"]
        assert answer["polygon"]["area_ha"] == pytest.approx(from_api["polygon"]["area_ha"])


def test_area_report_in_a_projected_crs_and_with_filters(client) -> None:  # type: ignore[no-untyped-def]
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    ring = [list(to_utm.transform(x, y)) for x, y in MU_CANG_CHAI]
    utm = {"type": "Polygon", "coordinates": [ring]}
    inputs = {"polygon": utm, "crs": "EPSG:32648", "threatened": True, "status": ["cites"]}
    response = client.post("/ogc/processes/area-report/execution", json={"inputs": inputs})
    assert response.status_code == 200, response.json
    answer = response.json.get("value", response.json)
    from_api = client.post(
        "/api/area-report?threatened=true&status=cites", json={"geometry": utm, "crs": "EPSG:32648"}
    ).json
    assert answer["polygon"]["crs"] == "EPSG:32648"
    assert answer["summary"] == from_api["summary"]
    assert answer["filters"] == {"status": ["cites"], "threatened": True}


def test_area_report_process_errors_are_the_api_messages(client) -> None:  # type: ignore[no-untyped-def]
    url = "/ogc/processes/area-report/execution"
    square = {"type": "Polygon", "coordinates": [MU_CANG_CHAI]}
    huge = {"type": "Polygon", "coordinates": [[[100, 10], [110, 10], [110, 20], [100, 10]]]}
    for inputs, words in (
        ({}, "polygon is required"),
        ({"polygon": "POLYGON((0 0, 1 1"}, "polygon: not WKT"),
        ({"polygon": {"type": "Point", "coordinates": [105, 20]}}, "polygon: a GeoJSON Point"),
        ({"polygon": huge}, "the limit is 25,000 km²"),
        ({"polygon": "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"}, "the polygon is not valid"),
        ({"polygon": {"href": "http://example.org/p.json"}}, "a link (href) is not fetched"),
        ({"polygon": {"value": square, "mediaType": "image/png"}}, "polygon.mediaType"),
        ({"polygon": square, "crs": "EPSG:4978"}, "crs: 'EPSG:4978' is a Geocentric CRS"),
        ({"polygon": square, "crs": 3405}, "crs: expected text"),
        ({"polygon": "SRID=3405;POLYGON((0 0, 1 0, 1 1, 0 0))", "crs": "EPSG:4326"}, "says"),
        ({"polygon": square, "as_of": "soon"}, "as_of='soon'"),
        ({"polygon": square, "status": ["iucn_red_list:XX"]}, "no category"),
        ({"polygon": square, "family": "A\x00"}, "family='A\\x00': a NUL character"),
    ):
        response = client.post(url, json={"inputs": inputs})
        assert response.status_code == 400, (inputs, response.json)
        assert words in response.json["description"], response.json
