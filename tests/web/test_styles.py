"""MapLibre styles of the collections, validated by MapLibre's own style-spec validator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from vbis_geo.catalog import load_layers
from vbis_geo.db.base import Base
from vbis_geo.web.ogc import layers_dir

VALIDATOR = Path(__file__).parents[2] / "vbis_geo/web/static/node_modules/.bin/gl-style-validate"
LAYERS = [layer for layer in load_layers(layers_dir()) if layer.tiles]


def fields_used(expression: object) -> set[str]:
    """The feature properties a style expression reads (``["get", name]``, ``["has", name]``)."""
    if isinstance(expression, list):
        found = set()
        if len(expression) == 2 and expression[0] in ("get", "has"):
            found.add(expression[1])
        for part in expression:
            found |= fields_used(part)
        return found
    if isinstance(expression, dict):
        return set().union(*(fields_used(v) for v in expression.values()))
    return set()


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.id)
def test_each_layer_has_a_valid_maplibre_style(client, tmp_path, layer) -> None:  # type: ignore[no-untyped-def]
    import vbis_geo.db.models  # noqa: F401  (registers the tables)

    response = client.get(f"/ogc/collections/{layer.id}/styles/default?f=mapbox")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox.style+json"
    style = response.json
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style), encoding="utf-8")
    assert VALIDATOR.is_file(), "make setup installs the npm packages"
    checked = subprocess.run(
        [str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr

    # the source is the collection's TileJSON, and its vector layer is the style's source-layer
    tilejson_url = urlsplit(style["sources"][layer.id]["url"])
    tilejson = client.get(f"{tilejson_url.path}?{tilejson_url.query}").json
    assert {d["source-layer"] for d in style["layers"]} == {
        v["id"] for v in tilejson["vector_layers"]
    }
    # the style reads only what the tiles carry, and colours only values the column allows
    assert fields_used(style["layers"]) <= set(tilejson["vector_layers"][0]["fields"])
    hint = layer.style or {}
    if "by" in hint:
        column = Base.metadata.tables[layer.table].c[hint["by"]]
        allowed = {
            value
            for check in column.table.constraints
            if getattr(check, "name", "") and hint["by"] in str(getattr(check, "sqltext", ""))
            for value in str(check.sqltext).split("'")[1::2]
        }
        assert set(hint["colours"]) <= allowed and allowed, (hint["by"], allowed)
        legend = style["metadata"]["vbis-geo:legend"]
        assert [e["value"] for e in legend["entries"]] == list(hint["colours"])


def test_styles_listing_languages_and_errors(client) -> None:  # type: ignore[no-untyped-def]
    listing = client.get("/ogc/collections/protected_areas/styles").json
    (entry,) = listing["styles"]
    assert entry["id"] == "default" and entry["title"] == "Khu bảo tồn thiên nhiên"
    assert entry["links"][0]["href"].endswith(
        "/ogc/collections/protected_areas/styles/default?f=mapbox"
    )
    english = client.get("/ogc/collections/protected_areas/styles/default?lang=en").json
    assert english["name"] == "Protected areas"
    assert english["metadata"]["vbis-geo:legend"]["field"]["title"] == "Legal category"
    assert client.get("/ogc/collections/nowhere/styles/default").status_code == 404
    assert client.get("/ogc/collections/protected_areas/styles/dark").status_code == 404
    # pygeoapi's own collection routes are untouched
    assert client.get("/ogc/collections/protected_areas?f=json").status_code == 200
