"""The OpenAPI document served at /ogc/openapi is the one checked into ogc_config/."""

from __future__ import annotations

import dataclasses

import yaml
from pygeoapi.util import yaml_load

from vbis_geo.publish.oas import remote_references
from vbis_geo.settings import PROJECT_DIR
from vbis_geo.web.ogc import _without_missing_rasters, config_path, openapi_path

CHECKED_IN = PROJECT_DIR / "ogc_config" / "openapi.yml"


def test_served_document_is_the_checked_in_one(client, test_settings) -> None:  # type: ignore[no-untyped-def]
    served = client.get("/ogc/openapi?f=json").get_json()
    checked_in = yaml.safe_load(CHECKED_IN.read_text(encoding="utf-8"))
    assert served["servers"][0]["url"] == test_settings.ogc_url  # ${VBIS_OGC_URL} substituted
    assert sorted(served["paths"]) == sorted(checked_in["paths"])
    assert "/collections/landcover/coverage" in served["paths"]  # the raster is loaded here
    for path in ("/collections/occurrences/items", "/collections/occurrences/items/{featureId}"):
        assert served["paths"][path] == checked_in["paths"][path]
    assert remote_references(served) == set()


def test_a_raster_not_loaded_leaves_its_collection_out_of_both_files(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    empty = dataclasses.replace(settings, var_dir=tmp_path)  # no var/rasters/landcover.tif
    cfg, oas = _without_missing_rasters(config_path(settings), openapi_path(settings), empty)
    assert cfg.parent == oas.parent == tmp_path / "ogc"
    served_config = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    assert "landcover" not in served_config["resources"]
    assert "occurrences" in served_config["resources"]
    document = yaml.safe_load(oas.read_text(encoding="utf-8"))
    assert not [p for p in document["paths"] if p.startswith("/collections/landcover")]
    assert "landcover" not in {t["name"] for t in document["tags"]}
    full = yaml.safe_load(CHECKED_IN.read_text(encoding="utf-8"))
    kept = {p for p in full["paths"] if not p.startswith("/collections/landcover")}
    assert set(document["paths"]) == kept
    # the same inputs give the same files (a second worker reuses them)
    assert _without_missing_rasters(config_path(settings), openapi_path(settings), empty) == (
        cfg,
        oas,
    )


def test_a_loaded_raster_serves_the_checked_in_files(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    loaded = dataclasses.replace(settings, var_dir=tmp_path)
    (tmp_path / "rasters").mkdir()
    (tmp_path / "rasters" / "landcover.tif").write_bytes(b"")  # only its presence is looked at
    assert _without_missing_rasters(config_path(settings), openapi_path(settings), loaded) == (
        config_path(settings),
        openapi_path(settings),
    )


def test_placeholders_are_substituted_as_pygeoapi_reads_the_document(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VBIS_OGC_URL", "https://vbis.example.vn/ogc")
    with CHECKED_IN.open(encoding="utf-8") as fh:
        document = yaml_load(fh)
    assert document["servers"][0]["url"] == "https://vbis.example.vn/ogc"
    assert "${" not in yaml.safe_dump(document)
