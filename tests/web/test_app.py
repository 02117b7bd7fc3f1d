"""The application shell: portal, /api/health and pygeoapi mounted at /ogc."""

import pytest

from vbis_geo.db.models import SPATIAL_MODELS

pytestmark = pytest.mark.db

SPATIAL_TABLES = {m.__tablename__ for m in SPATIAL_MODELS}


def test_health_reports_versions(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["version"] == __import__("vbis_geo").__version__
    assert body["postgresql"].startswith("15") or int(body["postgresql"].split(".")[0]) >= 13
    assert int(body["postgis"].split(".")[0]) >= 3


def test_every_spatial_table_is_a_collection_with_features(client):
    response = client.get("/ogc/collections?f=json")
    assert response.status_code == 200
    ids = {c["id"] for c in response.get_json()["collections"]}
    # and the records catalogue, and the land-cover coverage
    assert ids == SPATIAL_TABLES | {"datasets", "landcover"}
    for table in sorted(SPATIAL_TABLES):
        items = client.get(f"/ogc/collections/{table}/items?f=json&limit=2")
        assert items.status_code == 200, table
        body = items.get_json()
        assert body["type"] == "FeatureCollection"
        assert len(body["features"]) == 2, f"{table} has no features"
        assert body["features"][0]["geometry"]["type"] in ("Point", "MultiPolygon"), table


def test_collection_titles_are_bilingual(client):
    vi = client.get("/ogc/collections/protected_areas?f=json&lang=vi").get_json()
    en = client.get("/ogc/collections/protected_areas?f=json&lang=en").get_json()
    assert vi["title"] == "Khu bảo tồn thiên nhiên"
    assert en["title"] == "Protected areas"


def test_ogc_links_point_under_ogc(client, test_settings):
    landing = client.get("/ogc/?f=json").get_json()
    hrefs = [link["href"] for link in landing["links"]]
    assert any(h.startswith(f"{test_settings.public_url}/ogc/collections") for h in hrefs)


def test_portal_page_offers_the_layers(client):
    """The page and its configuration (the map itself: tests/web/test_portal.py)."""
    import json
    import re

    response = client.get("/", headers={"Accept-Language": "vi"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hệ thống thông tin đa dạng sinh học quốc gia" in page
    config = json.loads(re.search(r"window\.VBIS = (\{.*?\});</script>", page).group(1))
    assert {layer["id"] for layer in config["layers"]} == set(SPATIAL_TABLES)
    # MapLibre is served by the app itself (npm, at set-up), never from elsewhere
    assert "/static/node_modules/maplibre-gl/dist/maplibre-gl.js" in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "National Biodiversity Information System of Vietnam" in english


def test_health_says_503_when_the_database_is_gone(test_settings):
    import dataclasses

    from sqlalchemy.engine import make_url

    from vbis_geo.web import create_app

    broken = dataclasses.replace(
        test_settings, database_url=make_url("postgresql+psycopg://nobody@127.0.0.1:9/none")
    )
    app = create_app(broken, mount_ogc=False)
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "DatabaseUnavailable"
    assert "cannot connect" in body["description"]
