"""Real clients against the live server: GDAL's OGC API Features driver and OWSLib."""

import json
import re
import shutil
import subprocess

import pytest

from vbis_geo.db.base import REVIEW_COLUMNS
from vbis_geo.db.models import SPATIAL_MODELS

pytestmark = pytest.mark.db

SPATIAL_TABLES = sorted(m.__tablename__ for m in SPATIAL_MODELS)


def test_gdal_oapif_driver_lists_every_layer(live_server):
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "gdal-bin is part of the set-up (make system)"
    result = subprocess.run(
        [ogrinfo, "-ro", "-q", f"OAPIF:{live_server}/ogc"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # GDAL 3.6 (Debian 12) reads every collection as features, even one we mark
    # itemType: coverage, and its probe of the land-cover raster's /items is refused (400):
    # the only error allowed
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert all("HTTP error code : 400" in e or "Invalid provider type" in e for e in errors)
    assert len(errors) <= 2, result.stderr
    # lines such as "1: admin_units (title: Đơn vị hành chính cấp tỉnh)"
    layers = dict(re.findall(r"^\d+: (\w+) \(title: ([^)]+)\)", result.stdout, re.MULTILINE))
    # the spatial tables, the records catalogue and the land-cover coverage
    assert set(layers) == set(SPATIAL_TABLES) | {"datasets", "landcover"}
    assert layers["protected_areas"] == "Khu bảo tồn thiên nhiên"


def test_gdal_reads_features_of_a_layer(live_server):
    result = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GeoJSON",
            "/vsistdout/",
            f"OAPIF:{live_server}/ogc",
            "conservation_facilities",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    features = json.loads(result.stdout)["features"]
    assert len(features) >= 10
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert any("Cúc Phương" in f["properties"]["name_vi"] for f in features)


def test_owslib_features_client(live_server):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/ogc")
    collections = {c["id"] for c in api.collections()["collections"]}
    assert collections == set(SPATIAL_TABLES) | {"datasets", "landcover"}
    items = api.collection_items("protected_areas", limit=5)
    assert len(items["features"]) == 5
    assert {"code", "name_vi", "legal_category"} <= set(items["features"][0]["properties"])


@pytest.mark.parametrize("table", SPATIAL_TABLES)
def test_gdal_reads_every_collection_completely(live_server, engine, tmp_path, table):
    """GDAL's OAPIF driver follows our `next` links to the end: every row, once, with its id."""
    import sqlalchemy as sa

    target = tmp_path / f"{table}.geojson"
    result = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{live_server}/ogc", table,
         "-oo", "PAGE_SIZE=2000", "-preserve_fid"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    features = json.loads(target.read_text(encoding="utf-8"))["features"]
    with engine.connect() as conn:
        ids = conn.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()  # noqa: S608
    assert len(features) == len(ids) > 0
    assert sorted(f["id"] for f in features) == sorted(ids)
    assert all(f["geometry"] is not None for f in features)
    # every published column arrives as an attribute (all but the id, the geometry and the
    # review columns)
    hidden = {"id", "geom", *REVIEW_COLUMNS}
    columns = {c["name"] for c in sa.inspect(engine).get_columns(table)} - hidden
    if table == "occurrences":  # and how far the public's view moved each point
        columns.add("generalised_km")
    assert set(features[0]["properties"]) == columns
