"""The SLD of a map, loaded by QGIS (PyQGIS, as "Load Style..." does) onto the collection opened
through QGIS's OAPIF provider, draws every feature in the colour the composed map gave it, and
leaves out what the map's filter leaves out."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.db

CLIENT = Path(__file__).with_name("qgis_style_client.py")
QGIS_PYTHON = "/usr/bin/python3"
CASES = {
    "category": ("protected_areas_by_category", "protected_areas", ""),
    "richness": ("species_richness_by_province", "admin_units", "date=2025-07-01"),
    "density": ("threatened_species_density", None, ""),
}


@pytest.fixture(scope="module")
def qgis_result(app, live_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    client = app.test_client()
    work = tmp_path_factory.mktemp("qgis-style")
    styles = []
    for name, (map_id, collection, query) in CASES.items():
        sld = client.get(f"/maps/{map_id}.sld?{query}")
        assert sld.status_code == 200, sld.get_data(as_text=True)
        (work / f"{name}.sld").write_bytes(sld.data)
        entry = {"name": name, "sld": str(work / f"{name}.sld")}
        if collection:
            entry["collection"] = collection
        else:  # the density cells: the GeoJSON the maps API makes, keyed by the cell's id
            entry.update(geojson=f"/maps/{map_id}/layers/density.geojson", key="id")
        styles.append(entry)
    (work / "spec.json").write_text(json.dumps({"base": live_server, "styles": styles}))
    home = work / "home"
    home.mkdir(mode=0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
        "NO_PROXY": "*",
        "PYTHONFAULTHANDLER": "1",
    }
    run = subprocess.run(
        [QGIS_PYTHON, str(CLIENT), str(work / "spec.json"), str(work / "result.json")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
        cwd=work,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((work / "result.json").read_text(encoding="utf-8"))


def expected_colours(client, map_id: str, layer_id: str, query: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """code -> colour, as the composed map's style gives them."""
    style = client.get(f"/maps/{map_id}/style.json?{query}").json
    fill = next(layer for layer in style["layers"] if layer["id"] == f"{layer_id}-fill")
    geo = client.get(f"/maps/{map_id}/layers/{layer_id}.geojson?{query}").json
    expression = fill["paint"]["fill-color"]
    out = {}
    if expression[0] == "step":  # density: classes of the count, as steps
        for feature in geo["features"]:
            count, colour = feature["properties"]["count"], expression[2]
            for stop, stop_colour in zip(expression[3::2], expression[4::2], strict=True):
                if count >= stop:
                    colour = stop_colour
            out[str(feature["id"])] = colour
        return out
    for feature in geo["features"]:
        props = feature["properties"]
        if expression[1] == ["get", "id"]:
            pairs = dict(zip(expression[2:-1:2], expression[3:-1:2], strict=True))
            out[props["code"]] = pairs[feature["id"]]
        else:
            field = expression[1][1][1]
            pairs = dict(zip(expression[2:-1:2], expression[3:-1:2], strict=True))
            out[props["code"]] = pairs[str(props[field])]
    return out


@pytest.mark.parametrize("case", CASES)
def test_qgis_draws_each_feature_in_the_maps_colour(qgis_result, client, case):  # type: ignore[no-untyped-def]
    map_id, _, query = CASES[case]
    got = qgis_result[case]
    assert got["valid"] and got["loaded"], got
    assert got["renderer"] == "RuleRenderer"
    layer_id = {"category": "protected_areas", "richness": "richness", "density": "density"}[case]
    want = expected_colours(client, map_id, layer_id, query)
    drawn = {code: colours for code, colours in got["colours"].items() if colours}
    assert set(drawn) == set(want)  # the map's filter: the others are not drawn
    for code, colour in want.items():
        assert [c.lower() for c in drawn[code]] == [colour.lower()], code
    assert got["labels"] == (case != "density")
