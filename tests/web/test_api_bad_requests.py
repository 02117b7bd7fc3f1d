"""Bad requests to /api are answered with a 400 naming the field and the form expected, never a 500.

Each test is a server error found by schemathesis (tests/web/test_api_fuzz.py) or while fixing
what it found, replayed with the plain Flask test client.
"""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.db

SQUARE = [[105.60, 20.25], [105.66, 20.25], [105.66, 20.31], [105.60, 20.31], [105.60, 20.25]]
WKT = "POLYGON((105.6 20.25, 105.66 20.25, 105.66 20.31, 105.6 20.31, 105.6 20.25))"


def bad(response, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] in ("InvalidInput", "LimitExceeded")
    for word in words:
        assert word in body["description"], body


@pytest.mark.parametrize(
    ("url", "words"),
    [
        # PostgreSQL text cannot hold NUL: psycopg's DataError was a 500
        ("/api/taxa?q=ab%00", ("q=", "NUL", "a part of a scientific or common name")),
        ("/api/protected-areas/PA%00X/species", ("code=", "NUL", "the code of a protected area")),
        ("/api/protected-areas/PA-CUC-PHUONG/species?kingdom=A%00", ("kingdom=", "NUL")),
        ("/api/gap-analysis?family=%00", ("family=", "NUL", "scientific name of a family")),
        ("/api/richness?by=grid&class=Aves%00", ("class=", "NUL")),
    ],
)
def test_nul_character_in_a_text_is_a_400(client, url: str, words: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    bad(client.get(url), *words)


def test_nul_character_in_a_taxon_filter_of_the_area_report_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    bad(client.post("/api/area-report?order=%00", data=WKT, content_type="text/plain"), "order=")


@pytest.mark.parametrize(
    ("crs", "words"),
    [
        # PROJ refused to build the transformation to WGS 84 (ProjError): a 500
        ("IAU_2015:30100", ("crs: 'IAU_2015:30100' cannot be taken to WGS 84", "of the Earth")),
        ("+proj=longlat +a=1 +b=1", ("cannot be taken to WGS 84",)),
        # not a CRS of places: answered as if the numbers were lon/lat or off the globe
        ("EPSG:4978", ("crs: 'EPSG:4978' is a Geocentric CRS", "geographic", "projected")),
        ("EPSG:5773", ("is a Vertical CRS",)),
    ],
)
def test_a_crs_that_is_not_of_places_on_the_earth_is_a_400(client, crs: str, words) -> None:  # type: ignore[no-untyped-def]
    bad(client.get("/api/whats-here", query_string={"x": 105.6, "y": 20.3, "crs": crs}), *words)
    body = {"geometry": WKT, "crs": crs}
    bad(client.post("/api/area-report", json=body), *words)


def test_a_compound_crs_is_read_by_its_horizontal_part(client) -> None:  # type: ignore[no-untyped-def]
    here = client.get("/api/whats-here?x=105.6&y=20.3&crs=EPSG:4326%2B5773")
    assert here.status_code == 200
    assert here.json["point"]["lon"] == pytest.approx(105.6)


def test_a_geojson_crs_name_that_is_not_text_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    # the pre-RFC 7946 crs member with a number as its name: AttributeError, 500
    polygon = {"type": "Polygon", "coordinates": [SQUARE], "crs": {"properties": {"name": 5}}}
    bad(
        client.post("/api/area-report", json=polygon),
        "geometry.crs.properties.name: expected a CRS name as text",
    )
    feature = {"type": "Feature", "geometry": polygon, "properties": {}}
    bad(client.post("/api/area-report", json=feature), "geometry.geometry.crs.properties.name")


@pytest.mark.parametrize(
    "wkt",
    ["CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 0 0))", "MULTISURFACE(CURVEPOLYGON((0 0, 1 0, 0 0)))"],
)
def test_a_curved_wkt_geometry_is_a_400(client, wkt: str) -> None:  # type: ignore[no-untyped-def]
    # shapely raised NotImplementedError: a 500
    response = client.post("/api/area-report", data=wkt, content_type="text/plain")
    bad(response, "geometry: a ", "expected a Polygon or MultiPolygon")


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        (b"fields: 5", "fields is a int; expected a mapping"),
        (b"values: {legal_category: VQG}", "values.legal_category is a str; expected a mapping"),
        (b"\x89PNG\r\n\x1a\n", "the mapping file is not UTF-8 text"),
    ],
)
def test_a_mapping_file_of_the_wrong_shape_is_a_400(client, mapping: bytes, words: str) -> None:  # type: ignore[no-untyped-def]
    # AttributeError ('int' object has no attribute 'items'), UnicodeDecodeError: 500s
    form = {
        "file": (io.BytesIO(b"code,name_vi\nX,Y\n"), "areas.csv"),
        "mapping": (io.BytesIO(mapping), "mapping.yml"),
        "dry_run": "true",
    }
    response = client.post(
        "/api/ingest/protected_areas", data=form, content_type="multipart/form-data"
    )
    bad(response, words)
    # the message names the uploaded file, not where the server kept it
    assert "vbis-upload-" not in response.get_data(as_text=True)
    assert response.json["description"].startswith("upload/mapping.yml: ")
