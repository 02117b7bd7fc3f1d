"""Bad requests to /ogc are answered with a 4xx naming the problem, never a 500.

Each test is a server error schemathesis found (tests/web/test_openapi_fuzz.py), or one of the
same kind found while fixing it, replayed with the plain Flask test client.
"""

from __future__ import annotations

import json

import pytest

from vbis_geo.publish.oas import remote_references

pytestmark = pytest.mark.db

INTEGER_MAX = 2**31 - 1


def description(response) -> str:  # type: ignore[no-untyped-def]
    return str(response.get_json()["description"])


def test_openapi_document_is_self_contained(client) -> None:  # type: ignore[no-untyped-def]
    # pygeoapi refers to OGC parameters and responses on schemas.opengis.net and GitHub:
    # "Unresolvable reference" for schemathesis and any client without Internet access
    response = client.get("/ogc/openapi?f=json")
    assert response.status_code == 200
    document = json.loads(response.data)
    assert remote_references(document) == set()
    parameters = document["components"]["parameters"]
    assert parameters["featureId"]["in"] == "path"
    assert parameters["sortby"]["name"] == "sortby"
    assert parameters["tileRow"]["schema"] == {"type": "integer", "minimum": 0}
    assert "InvalidParameter" in document["components"]["responses"]


@pytest.mark.parametrize("sortby", ["", ",", "code,", ",-code"])
def test_empty_sort_key_is_a_400(client, sortby: str) -> None:  # type: ignore[no-untyped-def]
    # pygeoapi read the first character of each key: IndexError, 500
    for collection in ("admin_units", "datasets"):
        response = client.get(
            f"/ogc/collections/{collection}/items", query_string={"sortby": sortby}
        )
        assert response.status_code == 400
        assert "sortby" in description(response) and "empty sort key" in description(response)


def test_post_items_without_content_type_is_a_415(client) -> None:  # type: ignore[no-untyped-def]
    # pygeoapi's view returned nothing for a POST without Content-Type: TypeError, 500
    response = client.post("/ogc/collections/occurrences/items")
    assert response.status_code == 415
    assert "Content-Type" in description(response)


def test_integer_property_out_of_range_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    # was a DataError from PostgreSQL (integer out of range): 500
    response = client.get(
        "/ogc/collections/conservation_facilities/items",
        query_string={"dataset_id": str(INTEGER_MAX + 1), "established_year": "256"},
    )
    assert response.status_code == 400
    assert "dataset_id" in description(response) and "out of range" in description(response)
    ok = client.get(
        "/ogc/collections/conservation_facilities/items", query_string={"dataset_id": INTEGER_MAX}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("identifier", [str(INTEGER_MAX + 1), "9" * 30, "a%00b"])
def test_impossible_feature_id_is_a_404(client, identifier: str) -> None:  # type: ignore[no-untyped-def]
    for collection in ("admin_units", "occurrences", "datasets"):
        response = client.get(f"/ogc/collections/{collection}/items/{identifier}")
        assert response.status_code == 404


def test_nul_character_in_a_value_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL text cannot hold NUL: psycopg raised DataError, 500
    response = client.get("/ogc/collections/occurrences/items", query_string={"locality": "a\0b"})
    assert response.status_code == 400
    assert "locality" in description(response) and "NUL" in description(response)
    response = client.get("/ogc/collections/datasets/items", query_string={"q": "rừng\0"})
    assert response.status_code == 400
    assert "q=" in description(response)
    response = client.get(
        "/ogc/collections/occurrences/items", query_string={"filter": "locality = 'a\0b'"}
    )
    assert response.status_code == 400
    assert "NUL" in description(response)


@pytest.mark.parametrize(
    "cql, expected",
    [
        ("individual_count = 99999999999", "out of range"),
        ("individual_count LIKE 'x%'", "operator does not exist"),
        ("event_date > 5", "operator does not exist"),
    ],
)
def test_filter_values_of_the_wrong_type_are_a_400(client, cql: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/ogc/collections/occurrences/items", query_string={"filter": cql})
    assert response.status_code == 400
    assert expected in description(response)


@pytest.mark.parametrize("body", [b"[1]", b"1", b'"text"'])
def test_post_filter_that_is_not_a_condition_is_a_400(client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    # pygeofilter parses a bare JSON value as a filter; SQLAlchemy refused it as WHERE: 500
    response = client.post(
        "/ogc/collections/occurrences/items", data=body, content_type="application/query-cql-json"
    )
    assert response.status_code == 400
    assert "not a condition" in description(response)


def test_projected_bbox_outside_its_crs_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    # PostGIS: "transform: Point outside of projection domain" (XX000): 500
    response = client.get(
        "/ogc/collections/occurrences/items",
        query_string={
            "bbox": "1e300,1e300,1e301,1e301",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3405",
        },
    )
    assert response.status_code == 400
    assert "bbox" in description(response)


@pytest.mark.parametrize(
    "params, expected",
    [
        # the rasterio provider read bbox-crs with CRS.from_epsg: CRSError, 500
        ({"bbox": "104,21.6,104.01,21.61", "bbox-crs": "https://0.com"}, "bbox-crs"),
        ({"bbox": "104,21.6,104.01,21.61", "bbox-crs": "999999"}, "no such EPSG CRS"),
        # off the raster: rasterio's mask raised, pygeoapi answered "query error", 500
        ({"bbox": "0,0,0,0"}, "does not overlap the coverage"),
        # pygeoapi answers a malformed bbox of a coverage with a 500 itself
        ({"bbox": "104,21.6,104.01"}, "expected 4 numbers"),
        ({"bbox": "104,x,104.01,21.61"}, "must be numbers"),
        ({"bbox": "104,21.61,104.01,21.6"}, "minimum must not exceed"),
        # the provider unpacks exactly 4 numbers: ValueError, 500
        ({"bbox": "104,21.6,0,104.01,21.61,1"}, "4 numbers"),
    ],
)
def test_bad_coverage_bbox_is_a_400(client, params: dict[str, str], expected: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/ogc/collections/landcover/coverage", query_string={"f": "json", **params}
    )
    assert response.status_code == 400
    assert expected in description(response)


def test_coverage_bbox_crs_may_be_a_crs_uri(client) -> None:  # type: ignore[no-untyped-def]
    box = "104,21.6,104.01,21.61"
    for crs in (
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "4326",
    ):
        response = client.get(
            "/ogc/collections/landcover/coverage",
            query_string={"f": "json", "bbox": box, "bbox-crs": crs},
        )
        assert response.status_code == 200, crs
        assert response.get_json()["type"] == "Coverage"


@pytest.mark.parametrize(
    "body, expected",
    [
        # pygeoapi called .get on the body: AttributeError, 500
        (b"[null, null]", "must be a JSON object"),
        (b"1", "must be a JSON object"),
        (b'{"inputs": [1]}', "inputs of the execute request"),
        # not UTF-8: pygeoapi's json.loads raised UnicodeDecodeError, 500
        (b"\x80", "UTF-8"),
        # pygeoapi indexed the subscriber with ["successUri"]: TypeError, 500
        (b'{"inputs": {}, "subscriber": [null, null]}', "no callbacks"),
        # pygeoapi POSTed to the URLs from the server; one that did not answer was a 500
        (
            b'{"inputs": {"protected_area": "PA-CUC-PHUONG"},'
            b' "subscriber": {"successUri": "http://127.0.0.1:9/", "failedUri": "http://127.0.0.1:9/"}}',
            "no callbacks",
        ),
    ],
)
def test_bad_execute_request_is_a_400(client, body: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/ogc/processes/species-in-area/execution",
        data=body,
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 400
    assert expected in description(response)
