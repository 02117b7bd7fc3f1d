"""QGIS against the live server, as the analysts open the layers.

The issue: "QGIS is what our analysts use: the layers must open there (QGIS's OAPIF provider and
its vector-tile layer) with the right counts, attributes and CRS." QGIS 3.22 (Debian 12's
``python3-qgis``, for the system Python; ``make system`` installs it) runs
``tests/web/qgis_client.py`` in a subprocess, once for the module, with a throw-away profile,
HOME and temp directory (QGIS's network and OAPIF caches live there, so nothing carries over
between runs). What QGIS reports is compared here with the database and with what the server
publishes (the checked-in pygeoapi configuration and the providers it names).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from vbis_geo.catalog import load_layers
from vbis_geo.db.base import Base
from vbis_geo.db.models import SPATIAL_MODELS
from vbis_geo.publish.features import FeatureProvider
from vbis_geo.settings import PROJECT_DIR
from vbis_geo.web.ogc import config_path

pytestmark = pytest.mark.db

#: the interpreter python3-qgis is built for (not the project's venv)
QGIS_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).with_name("qgis_client.py")
#: the collections analysts open, every spatial table
COLLECTIONS = (
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "admin_units",
)
#: the fields that identify a row for an analyst (admin units: a code has two validity periods)
KEYS = {"occurrences": ("occurrence_id",), "admin_units": ("code", "valid_from")}
#: Vietnam with its islands, lon/lat: the country views of the tile layers cover it
VIETNAM = (102.14, 6.95, 117.0, 23.4)
#: an analyst's map view (Hà Nội and the Red River delta), lon/lat, for the bbox-limited read
MAP_VIEW = (105.0, 20.0, 106.5, 21.5)
#: the zoom of the close-up tile view
CLOSE_ZOOM = 12
HALF_WORLD_M = 20037508.342789244
#: a tile carries what lies within 64 of its 4096 pixels around it (tiles.py)
TILE_BUFFER = 64 / 4096
#: QGIS field types (QgsField.typeName() for the OAPIF provider) that fit a JSON schema type
QGIS_TYPES = {
    "integer": {"Integer", "Integer64"},
    "number": {"Real", "Integer", "Integer64"},
    "boolean": {"Boolean"},
    "date": {"Date"},
    "date-time": {"DateTime"},
    "array": {"StringList", "IntegerList", "Integer64List", "RealList", "JSON"},
    "string": {"String"},
}


def test_the_collections_are_the_spatial_tables():
    assert set(COLLECTIONS) == {m.__tablename__ for m in SPATIAL_MODELS}


# -- what the server publishes ----------------------------------------------------------------
@dataclass(frozen=True)
class Published:
    fields: dict[str, dict[str, str]]  # the feature provider's fields (pygeoapi's schema)
    tiles: dict[str, Any]  # the tile provider's options: layer, fields, zoom, grid_until_zoom
    geometry_type: str  # layers/<id>.yml


@pytest.fixture(scope="module")
def published(test_settings) -> dict[str, Published]:  # type: ignore[no-untyped-def]
    config = yaml.safe_load(config_path(test_settings).read_text(encoding="utf-8"))
    layers = {layer.id: layer for layer in load_layers(PROJECT_DIR / "layers")}
    out = {}
    for collection in COLLECTIONS:
        providers = {p["type"]: p for p in config["resources"][collection]["providers"]}
        out[collection] = Published(
            fields=FeatureProvider(providers["feature"]).fields,
            tiles=providers["tile"]["options"],
            geometry_type=layers[collection].geometry_type,
        )
    return out


# -- tiles ------------------------------------------------------------------------------------
def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_bounds(z: int, x0: int, y0: int, x1: int, y1: int, grow: float = 0.0) -> list[float]:
    """Web Mercator bounds of tiles x0..x1, y0..y1 at zoom z, grown by ``grow`` tile sides."""
    side = 2 * HALF_WORLD_M / 2**z
    return [
        -HALF_WORLD_M + (x0 - grow) * side,
        HALF_WORLD_M - (y1 + 1 + grow) * side,
        -HALF_WORLD_M + (x1 + 1 + grow) * side,
        HALF_WORLD_M - (y0 - grow) * side,
    ]


def view(collection: str, geometry: str, z: int, x0: int, y0: int, x1: int, y1: int) -> dict:  # type: ignore[type-arg]
    """A map view of exactly these tiles (inset by 1% of a tile, so no neighbour is drawn),
    256 pixels a tile, so that QGIS draws it at zoom z."""
    return {
        "name": f"z{z}/{y0}-{y1}/{x0}-{x1}",
        "zoom": z,
        "tiles": [x0, y0, x1, y1],
        "layer": collection,
        "geometry": geometry,
        "extent": tiles_bounds(z, x0, y0, x1, y1, grow=-0.01),
        "size": [256 * (x1 - x0 + 1), 256 * (y1 - y0 + 1)],
    }


# -- values as QGIS gives them ----------------------------------------------------------------
def plain(value: Any) -> Any:
    """A database value as qgis_client.plain() writes QGIS's (dates as ISO strings)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def same(qgis_value: Any, db_value: Any) -> bool:
    db_value = plain(db_value)
    if isinstance(db_value, dt.datetime):
        # the server writes timestamps in UTC (+00:00); QGIS 3.22 keeps the wall-clock time
        if not isinstance(qgis_value, dict):
            return False
        seen = dt.datetime.fromisoformat(qgis_value["iso"].removesuffix("Z"))
        expected = db_value.astimezone(dt.UTC).replace(tzinfo=None)
        return abs((seen - expected).total_seconds()) < 0.001
    if isinstance(db_value, float) or isinstance(qgis_value, float):
        return qgis_value is not None and math.isclose(qgis_value, db_value, rel_tol=1e-9)
    return bool(qgis_value == db_value)


def key_of(values: list[Any]) -> str:
    return json.dumps([plain(v) for v in values], ensure_ascii=False)


def tile_value(value: Any) -> str | None:
    """A tile attribute compared as text (MVT carries dates as strings, ids as integers)."""
    value = plain(value)
    return None if value is None else str(value)


# -- the QGIS session --------------------------------------------------------------------------
@dataclass
class Session:
    spec: dict[str, Any]
    result: dict[str, Any]
    #: what the live server answered while QGIS ran: (method, path and query, status)
    requests: list[tuple[str, str, int]]
    stderr: str


def table(collection: str) -> sa.Table:
    """What QGIS, as the public, reads of ``collection``: the table, or for occurrences the
    public's view of it (sensitive records at their cell's centre; migration 0011)."""
    from vbis_geo.analysis.access import Audience
    from vbis_geo.publish.features import relation

    return relation(Base.metadata.tables[collection], Audience.PUBLIC).source


def build_spec(base: str, engine: Engine, published: dict[str, Published]) -> dict[str, Any]:
    spec: dict[str, Any] = {"base": base, "timeout_ms": 30000, "features": [], "tiles": []}
    with engine.connect() as conn:
        for collection in COLLECTIONS:
            t = table(collection)
            key = KEYS.get(collection, ("code",))
            ids = conn.execute(sa.select(t.c.id).order_by(t.c.id)).scalars().all()
            # three rows compared attribute by attribute: the first, the middle, the last
            picked = [ids[0], ids[len(ids) // 2], ids[-1]]
            rows = conn.execute(sa.select(*[t.c[k] for k in key]).where(t.c.id.in_(picked)))
            spec["features"].append(
                {
                    "id": collection,
                    "collection": collection,
                    "key": list(key),
                    "sample": [key_of(list(r)) for r in rows],
                }
            )

            tiles = published[collection].tiles
            zmin, zmax = int(tiles["zoom"]["min"]), int(tiles["zoom"]["max"])
            geometry = "point" if "Point" in published[collection].geometry_type else "polygon"
            z = max(5, zmin)
            x0, y0 = tile_of(VIETNAM[0], VIETNAM[3], z)
            x1, y1 = tile_of(VIETNAM[2], VIETNAM[1], z)
            # the close-up: the tile holding the first row (a point inside it)
            lon, lat = conn.execute(
                sa.select(
                    sa.func.ST_X(sa.func.ST_PointOnSurface(t.c.geom)),
                    sa.func.ST_Y(sa.func.ST_PointOnSurface(t.c.geom)),
                ).where(t.c.id == ids[0])
            ).one()
            cx, cy = tile_of(lon, lat, CLOSE_ZOOM)
            assert zmin <= z <= zmax and zmin <= CLOSE_ZOOM <= zmax
            spec["tiles"].append(
                {
                    "collection": collection,
                    # the layer as an analyst adds it: all zooms from 0 to 14
                    "zmin": 0,
                    "zmax": 14,
                    "fields": list(tiles.get("fields") or [])
                    + (["count"] if int(tiles.get("grid_until_zoom", -1)) >= 0 else []),
                    "views": [
                        view(collection, geometry, z, x0, y0, x1, y1),
                        view(collection, geometry, CLOSE_ZOOM, cx, cy, cx, cy),
                    ],
                }
            )
    # the occurrences of an analyst's map view only ("Only request features overlapping the
    # view extent", restrictToRequestBBOX): QGIS sends bbox= and pages through it
    spec["features"].append(
        {
            "id": "occurrences@map-view",
            "collection": "occurrences",
            "key": ["occurrence_id"],
            "bbox": list(MAP_VIEW),
            "uri_extra": " restrictToRequestBBOX='1'",
        }
    )
    return spec


@pytest.fixture(scope="module")
def qgis(live_server, app, engine, published, tmp_path_factory) -> Session:  # type: ignore[no-untyped-def]
    probe = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    if probe.returncode != 0:
        pytest.skip(f"PyQGIS not importable by {QGIS_PYTHON} (make system): {probe.stderr[-300:]}")
    work = tmp_path_factory.mktemp("qgis")
    home = work / "home"
    runtime = work / "runtime"
    for d in (home, runtime, work / "tmp"):
        d.mkdir(mode=0o700)
    spec = build_spec(live_server, engine, published)
    (work / "spec.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(work / "tmp"),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "QT_QPA_PLATFORM": "offscreen",
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "PYTHONFAULTHANDLER": "1",
        "NO_PROXY": "*",
    }
    requests: list[tuple[str, str, int]] = []

    def record(sender: object, response: flask.Response, **extra: object) -> None:
        requests.append((flask.request.method, flask.request.full_path, response.status_code))

    flask.request_finished.connect(record, app)
    try:
        run = subprocess.run(
            [QGIS_PYTHON, str(CLIENT), str(work / "spec.json"), str(work / "result.json")],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=env,
            cwd=work,
        )
    finally:
        flask.request_finished.disconnect(record, app)
    assert run.returncode == 0, f"QGIS client failed ({run.returncode}):\n{run.stderr[-4000:]}"
    result = json.loads((work / "result.json").read_text(encoding="utf-8"))
    return Session(spec, result, requests, run.stderr)


# -- OGC API Features: QGIS's OAPIF provider --------------------------------------------------
@pytest.mark.parametrize("collection", COLLECTIONS)
def test_oapif_layer_opens_with_the_right_features(qgis, engine, published, collection):
    got = qgis.result["features"][collection]
    t = table(collection)
    key = KEYS.get(collection, ("code",))
    assert got["valid"], got
    assert got["error"] == "" and got["provider_error"] == "", got
    assert got["log"] == [], f"QGIS logged warnings or errors: {got['log'][:5]}"

    # CRS: the collection's storage CRS is CRS84 (lon/lat); QGIS 3.22 names it EPSG:4326
    assert got["crs"] in ("EPSG:4326", "OGC:CRS84"), got["crs"]
    assert got["crs_is_geographic"]
    assert got["wkb_type"] == published[collection].geometry_type

    # the attribute table: the published fields, in order, each with a fitting type
    fields = published[collection].fields
    assert [f["name"] for f in got["fields"]] == list(fields)
    with engine.connect() as conn:
        db_count = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        db_keys = conn.execute(sa.select(*[t.c[k] for k in key])).all()
        extent = conn.execute(
            sa.select(
                sa.func.ST_XMin(sa.func.ST_Extent(t.c.geom)),
                sa.func.ST_YMin(sa.func.ST_Extent(t.c.geom)),
                sa.func.ST_XMax(sa.func.ST_Extent(t.c.geom)),
                sa.func.ST_YMax(sa.func.ST_Extent(t.c.geom)),
            )
        ).one()
        columns = [n for n in fields if n in t.c]
        filled = conn.execute(
            sa.select(*[sa.func.count(t.c[n]) for n in columns]).select_from(t)
        ).one()
        sample_keys = next(f["sample"] for f in qgis.spec["features"] if f["id"] == collection)
        first = [json.loads(k)[0] for k in sample_keys]
        samples = {
            key_of([row._mapping[k] for k in key]): row._mapping
            for row in conn.execute(sa.select(t).where(t.c[key[0]].in_(first))).all()
            if key_of([row._mapping[k] for k in key]) in sample_keys
        }
    types = {f["name"]: f["type"] for f in got["fields"]}
    for name, count in zip(columns, filled, strict=True):
        if count == db_count:  # a field with a value in every row: QGIS types it from them
            schema = fields[name]
            kind = schema.get("format") if schema.get("format") in ("date", "date-time") else None
            fitting = QGIS_TYPES[kind or schema["type"]]
            assert types[name] in fitting, (name, schema, types[name])

    # every row once, whatever the pages: the count the server announces and the rows read
    assert db_count > 0
    assert got["feature_count"] == db_count, "the layer's feature count (numberMatched)"
    read = Counter(key_of(k) for k in got["keys"])
    expected = Counter(key_of(list(k)) for k in db_keys)
    assert read == expected, (
        f"QGIS read {got['features_read']} features of {db_count}; "
        f"missing {list(expected - read)[:5]}, extra or repeated {list(read - expected)[:5]}"
    )
    assert got["empty_geometries"] == 0
    # lon/lat in that order, the data's own extent
    assert got["extent"] == pytest.approx(list(extent), abs=1e-6)

    # three rows attribute by attribute
    assert sorted(got["samples"]) == sorted(sample_keys)
    assert sorted(samples) == sorted(sample_keys)
    for sample_key, row in samples.items():
        assert got["samples"][sample_key]["geometry_type"] == published[collection].geometry_type
        attributes = got["samples"][sample_key]["attributes"]
        differ = {
            n: (attributes[n], plain(row[n])) for n in columns if not same(attributes[n], row[n])
        }
        assert not differ, f"{collection} {sample_key}: QGIS value vs database value {differ}"


def test_oapif_pages_through_the_cursor_links(qgis):
    """QGIS read the 20,000 occurrences page by page, following the server's next links."""
    pages = [
        (path, status)
        for method, path, status in qgis.requests
        if path.startswith("/ogc/collections/occurrences/items") and "bbox=" not in path
    ]
    assert all(status == 200 for _, status in pages), pages
    assert sum("cursor=" in path for path, _ in pages) >= 10, pages[:5]


def test_oapif_map_view_reads_only_its_bbox(qgis, engine):
    """With "only features overlapping the view extent", QGIS asks the server with bbox= and
    gets the view's occurrences, each once."""
    got = qgis.result["features"]["occurrences@map-view"]
    assert got["valid"] and got["log"] == [], got
    t = table("occurrences")
    with engine.connect() as conn:
        db_keys = (
            conn.execute(
                sa.select(t.c.occurrence_id).where(
                    sa.func.ST_Intersects(t.c.geom, sa.func.ST_MakeEnvelope(*MAP_VIEW, 4326))
                )
            )
            .scalars()
            .all()
        )
    assert 0 < len(db_keys) < 20_000
    read, expected = Counter(k[0] for k in got["keys"]), Counter(db_keys)
    assert read == expected, (
        f"QGIS read {len(got['keys'])} of the view's {len(db_keys)} occurrences; missing "
        f"{list(expected - read)[:5]}, extra or repeated {list(read - expected)[:5]}"
    )
    bbox_pages = [p for _, p, _ in qgis.requests if "/occurrences/items" in p and "bbox=" in p]
    assert bbox_pages, "QGIS did not send the view's bbox to the server"


# -- OGC API Tiles: QGIS's vector-tile layer --------------------------------------------------
def tile_region(tiles: list[int], zoom: int, grow: float) -> Any:
    """The tiles' bounds (grown by ``grow`` tile sides) as a Web Mercator envelope."""
    return sa.func.ST_MakeEnvelope(*tiles_bounds(zoom, *tiles, grow=grow), 3857)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_vector_tile_layer_opens_and_decodes(qgis, engine, published, collection):
    got = qgis.result["tiles"][collection]
    template = (
        f"{qgis.spec['base']}/ogc/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
        "?f=mvt"
    )
    assert got["valid"], got
    assert got["error"] == "" and got["log"] == [], got
    assert got["crs"] == "EPSG:3857"
    assert (got["source_type"], got["source_path"]) == ("xyz", template)
    assert (got["min_zoom"], got["max_zoom"]) == (0, 14)

    tiles = published[collection].tiles
    fields = list(tiles.get("fields") or [])
    grid_until = int(tiles.get("grid_until_zoom", -1))
    is_point = "Point" in published[collection].geometry_type
    t = table(collection)
    mercator = sa.func.ST_Transform(t.c.geom, 3857)
    for v in got["views"]:
        where = f"{collection} {v['name']}"
        assert v["valid"] and v["errors"] == [] and v["log"] == [], (where, v)
        decoded = {f["id"]: f for f in v["features"]}  # a feature passes the filter once a style
        assert decoded, f"{where}: QGIS decoded no feature (MVT layer named {collection!r}?)"
        assert v["drawn_pixels"] > 0, f"{where}: QGIS drew nothing"
        assert {f["geometry_type"] for f in decoded.values()} == {
            "Point" if is_point else "Polygon"
        }, where
        region = tile_region(v["tiles"], v["zoom"], 0.0)
        around = tile_region(v["tiles"], v["zoom"], TILE_BUFFER)
        x0, y0, x1, y1 = tiles_bounds(v["zoom"], *v["tiles"], grow=TILE_BUFFER)
        for f in decoded.values():
            x, y = f["point"]
            assert x0 <= x <= x1 and y0 <= y <= y1, (where, f)
        with engine.connect() as conn:
            if is_point and v["zoom"] <= grid_until:
                # counted on a grid: each cell a point with the number of points in it
                # (QGIS 3.22 gives every field the style asks for, NULL when a tile lacks it)
                carried = {n for f in decoded.values() for n, x in f["attributes"].items() if x}
                assert carried == {"count"}, (where, carried)
                in_tiles = conn.execute(
                    sa.select(sa.func.count()).where(sa.func.ST_Intersects(mercator, region))
                ).scalar_one()
                counted = sum(int(f["attributes"]["count"]) for f in decoded.values())
                assert counted == in_tiles, f"{where}: cells count {counted}, database {in_tiles}"
                continue
            # features: their tile fields as QGIS decoded them, against the database's
            columns = [t.c[n] for n in fields]
            if is_point:
                inside = sa.func.ST_Intersects(mercator, region)
            else:
                inside = sa.func.ST_Intersects(
                    sa.func.ST_Transform(sa.func.ST_PointOnSurface(t.c.geom), 3857), region
                )
            must = conn.execute(sa.select(*columns).where(inside)).all()
            may = conn.execute(sa.select(*columns).where(mercator.op("&&")(around))).all()
        seen = [tuple(tile_value(f["attributes"].get(n)) for n in fields) for f in decoded.values()]
        must_keys = [tuple(tile_value(x) for x in row) for row in must]
        may_keys = [tuple(tile_value(x) for x in row) for row in may]
        assert must_keys, f"{where}: the view should hold features"
        if is_point and v["tiles"][0] == v["tiles"][2] and v["tiles"][1] == v["tiles"][3]:
            # one tile: each point once
            missing = Counter(must_keys) - Counter(seen)
            extra = Counter(seen) - Counter(may_keys)
        else:
            # a polygon (or a point near an edge) is in every tile it touches
            missing = Counter(set(must_keys) - set(seen))
            extra = Counter(set(seen) - set(may_keys))
        assert not missing, f"{where}: in the database, not decoded by QGIS: {list(missing)[:5]}"
        assert not extra, f"{where}: decoded by QGIS, not in the database: {list(extra)[:5]}"


def test_qgis_met_no_server_error(qgis):
    """Every request QGIS made was answered without an error."""
    failed = [(m, p, s) for m, p, s in qgis.requests if s >= 400]
    assert qgis.requests and not failed, failed[:10]
