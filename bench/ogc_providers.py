"""Our OGC providers against pygeoapi's stock PostgreSQL providers, tipg and the raw-SQL floor,
in one run on one database (1 million occurrences, the real province polygons).

    .venv/bin/python bench/ogc_providers.py --occurrences 1000000 --repeat 5

Two ways of measuring, side by side in each table:

* in process: our providers and the stock ones are called directly (the same calls pygeoapi
  makes), so HTTP and pygeoapi's own request handling are left out;
* over HTTP: tipg (FastAPI + asyncpg; https://github.com/developmentseed/tipg, pinned in
  ``TIPG_REQUIREMENTS``) runs under uvicorn in its own virtualenv ``bench/.venv-tipg``, which this
  script creates on first use, and ours runs as the real Flask application (pygeoapi mounted at
  ``/ogc``) under gunicorn, one worker each, on free loopback ports. Both are asked the same
  requests with a new connection each (gunicorn's sync worker closes it anyway); the time of a
  request that touches no database (``/conformance``) is reported as each server's HTTP floor.

Cases:

* tiles z0-z14 along a path of tiles through the densest spot of occurrences, over Hà Nội for the
  63 provinces (complex polygons) and over the largest protected area: ours (cache off:
  the work of making a tile), the stock MVT-postgresql provider (a statement timeout of
  ``--timeout`` seconds; a timeout is reported as such), tipg and ours over HTTP, and the floor:
  our own tile SQL run directly;
* items pages of occurrences, limit 100 and 1,000: the first page, a deep page (offset n/2 for the
  stock provider and tipg; our keyset cursor to the same rows), with a bbox and with a CQL2 filter:
  ours, the stock PostgreSQL provider, tipg and ours over HTTP, and the floor: one SQL statement
  building the same page.

Writes p50/p95 per case and the ratios to ``bench/results/ogc_providers.md``. ``--no-http``
leaves out tipg and ours over HTTP (no servers, no virtualenv); ``--setup`` only creates the
virtualenv.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from scratch import scratch_database  # bench/scratch.py

from vbis_geo.catalog import load_layers
from vbis_geo.db.migrate import upgrade
from vbis_geo.demo.generate import DemoParameters
from vbis_geo.demo.loader import load_demo
from vbis_geo.ingest.admin_units import load_vietnam_provinces
from vbis_geo.settings import PROJECT_DIR, Settings

BENCH = Path(__file__).parent
RESULTS = BENCH / "results" / "ogc_providers.md"
HANOI = (105.85, 21.03)
#: tipg and its server, in their own virtualenv (created by ``ensure_tipg``): pinned, so a
#: rerun on a fresh machine measures the same code
TIPG_REQUIREMENTS = ("tipg==1.6.1", "uvicorn==0.54.0", "asyncpg==0.32.0")
TIPG_VENV = BENCH / ".venv-tipg"
#: the tables tipg publishes (its catalogue is restricted to these)
TIPG_TABLES = ("occurrences", "admin_units", "protected_areas")
#: the tile options each layer is served with (layers/<id>.yml: fields, zooms, grid, cap)
SERVED_TILES = {layer.id: dict(layer.tiles or {}) for layer in load_layers(PROJECT_DIR / "layers")}
#: the tile fields of our served configuration, asked of tipg too
TILE_FIELDS = {table: list(SERVED_TILES[table]["fields"]) for table in TIPG_TABLES}
#: tipg's cap of points per tile, set to ours so that both send the same points
MAX_FEATURES_PER_TILE = int(SERVED_TILES["occurrences"].get("max_features", 20000))
Timing = list[float] | str
#: the heading of the hand-written part of the results file, which a new run keeps
READING = "## Reading these results"
#: what tipg and ours do differently for the same request (written under the HTTP figures)
COMPARABILITY = [
    "## What tipg and ours do for the same request",
    "",
    "- **HTTP:** both servers run one worker process (tipg: uvicorn, asyncpg pool, catalogue "
    "refresh off; ours: the Flask application under gunicorn's sync worker, tile cache off as "
    "in process) on loopback; every request opens a new connection and asks for no "
    "compression. The HTTP floor above is what a request costs that reads no database.",
    "- **Point tiles:** tipg has no grid: a tile holds the first points by id that intersect it, "
    f"at most {MAX_FEATURES_PER_TILE:,} (tipg's own default is 10,000; raised to our cap), "
    "with the same three properties as ours. Ours does the same above the grid zooms, and "
    "up to z9 sends a 64 x 64 grid of counts of all the points instead, so at low zooms tipg "
    "sends a truncated sample tens to thousands of times larger (see the tile sizes) while "
    "ours summarises every point.",
    "- **Polygon tiles:** tipg clips and quantises each polygon (`ST_AsMVTGeom`) but does not "
    "simplify it; ours simplifies to the pixel size of the zoom (read from stored generalised "
    "geometries up to z12, simplified on the fly deeper). Both send the "
    "layer's tile fields of our served configuration (in process, ours sends only `code` "
    "and `name_vi` for provinces, as in earlier runs).",
    "- **Items:** both send every column as a property, as GeoJSON, ordered by id. tipg counts "
    "the matching rows exactly (`COUNT(*)`) for every page; ours takes an unfiltered count "
    "from the kept row counts, stops a filtered count at 10,000 and counts nothing on a page "
    "reached by a cursor. tipg reaches a deep page by `offset` (it has no other way), ours by "
    "the keyset cursor its next links carry; both return the same rows (checked: same "
    "number of features). tipg's bbox is `ST_Intersects`, ours the bounding-box test (the "
    "same answer for points). CQL2 goes to both as `filter-lang=cql2-text`.",
    "",
]


def tile_path(lon: float, lat: float, zooms: range) -> list[tuple[int, int, int]]:
    """(z, x, y) of the WebMercatorQuad tiles containing a point, one per zoom."""
    import math

    out = []
    for z in zooms:
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        out.append((z, x, y))
    return out


def timed(call: Callable[[], object], repeat: int, timeout_s: float) -> Timing:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            call()
        except Exception as exc:  # noqa: BLE001 (a peer's failure is a result to report)
            text = str(exc).lower()
            return "timeout" if "timeout" in text or "cancel" in text else f"error: {exc!s:.60}"
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        if elapsed > timeout_s:
            break
    return times


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--no-http", action="store_true",
                        help="leave out tipg and ours over HTTP")  # fmt: skip
    parser.add_argument("--setup", action="store_true",
                        help="only create bench/.venv-tipg and exit")  # fmt: skip
    parser.add_argument("--serve-ours", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(ensure_tipg())
        return
    if args.serve_ours:
        serve_ours(args.serve_ours, args.timeout)
        return
    settings = Settings.from_env()
    tipg_python = None if args.no_http else ensure_tipg()
    with scratch_database(settings, "vbis_bench_ogc") as (engine, url):
        upgrade(engine)
        with engine.begin() as conn:
            load_vietnam_provinces(conn, settings.shared_data_dir)
            load_demo(conn, DemoParameters(n_occurrences=args.occurrences), echo=lambda _: None)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        # the stock providers (psycopg2) and ours (psycopg) connect through libpq: PGOPTIONS
        # sets their timeout, in this process and in our server's
        os.environ["PGOPTIONS"] = f"-c statement_timeout={int(args.timeout * 1000)}"
        data = {
            "host": url.host, "port": url.port, "dbname": url.database,
            "user": url.username, "password": url.password or "", "search_path": ["public"],
        }  # fmt: skip
        with ExitStack() as stack:
            http = None
            if tipg_python is not None:
                http = Http(
                    ours=stack.enter_context(ours_server(url, args.timeout)),
                    tipg=stack.enter_context(tipg_server(tipg_python, url, args.timeout)),
                    timeout=args.timeout + 10,
                )
                http.warm_up()
            lines = bench_tiles(engine, data, args, http) + bench_items(engine, data, args, http)
            if http is not None:
                lines += http.floor_lines(args.repeat) + COMPARABILITY
    RESULTS.parent.mkdir(exist_ok=True)
    header = [
        "# OGC providers: vbis-geo against stock pygeoapi, tipg and the raw-SQL floor",
        "",
        f"`bench/ogc_providers.py --occurrences {args.occurrences} --repeat {args.repeat} "
        f"--timeout {args.timeout:g}{' --no-http' if args.no_http else ''}`, "
        f"{time.strftime('%Y-%m-%d')}, one run on one database. "
        "Times in milliseconds (p50 / p95); ratios of p50. In process: the provider called "
        "as pygeoapi calls it; HTTP: a GET to a server process on loopback "
        f"(tipg {TIPG_REQUIREMENTS[0].split('==')[1]} under uvicorn, ours under gunicorn, one "
        "worker each).",
        "",
    ]
    # the hand-written reading of the figures, if any, is kept (to be brought up to date)
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    reading = old[old.index(READING) :] if READING in old else ""
    RESULTS.write_text("\n".join(header + lines) + "\n" + reading, encoding="utf-8")
    print("\n".join(lines))


def _fmt(result: Timing | None) -> str:
    if result is None:
        return "n/a"
    if isinstance(result, str):
        return result
    return f"{p50(result) * 1000:,.1f} / {p95(result) * 1000:,.1f}"


def _ratio(a: Timing | None, b: Timing | None) -> str:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return "-"
    return f"{p50(a) / p50(b):.2f}"


# -- the servers measured over HTTP ------------------------------------------------------------
def ensure_tipg() -> Path:
    """The Python of ``bench/.venv-tipg``, with ``TIPG_REQUIREMENTS`` installed (once)."""
    python = TIPG_VENV / "bin" / "python"
    marker = TIPG_VENV / ".installed"
    wanted = "\n".join(TIPG_REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        return python
    print(f"installing {', '.join(TIPG_REQUIREMENTS)} into {TIPG_VENV}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(TIPG_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         *TIPG_REQUIREMENTS],
        check=True,
    )  # fmt: skip
    marker.write_text(wanted, encoding="utf-8")
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float) -> bytes:
    """The body of a GET (a new connection each time); failures raised with their text."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()[:300].decode("utf-8", "replace")
        raise RuntimeError(f"HTTP {exc.code}: {body}") from None
    except TimeoutError:
        raise RuntimeError("timeout (no HTTP response)") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise RuntimeError("timeout (no HTTP response)") from None
        raise


@contextmanager
def _process(
    name: str, argv: list[str], env: dict[str, str], base: str, ready: str
) -> Iterator[str]:
    """Run a server until the block ends; yields ``base`` once ``base + ready`` answers."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as cwd:  # no stray .env read
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}); see {log.name}")
                try:
                    http_get(base + ready, 5)
                    break
                except (RuntimeError, OSError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not answer; see {log.name}") from None
                    time.sleep(0.5)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
    os.unlink(log.name)


@contextmanager
def tipg_server(python: Path, url: sa.URL, timeout_s: float) -> Iterator[str]:
    port = _free_port()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "PG"))},
        # asyncpg reads no PGOPTIONS: the DSN's extra query arguments become server settings
        "DATABASE_URL": f"{dsn}?statement_timeout={int(timeout_s * 1000)}",
        "TIPG_DB_SCHEMAS": json.dumps(["public"]),
        "TIPG_DB_TABLES": json.dumps([f"public.{t}" for t in TIPG_TABLES]),
        "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": json.dumps(["public"]),
        "TIPG_CATALOG_TTL": "0",  # no catalogue refresh in the middle of a timed request
        "TIPG_MAX_FEATURES_PER_TILE": str(MAX_FEATURES_PER_TILE),
    }
    argv = [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
            str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]  # fmt: skip
    with _process("tipg", argv, env, f"http://127.0.0.1:{port}", "/conformance") as base:
        yield base


@contextmanager
def ours_server(url: sa.URL, timeout_s: float) -> Iterator[str]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-ours-var-") as var_dir:
        env = {
            **os.environ,
            "VBIS_DATABASE_URL": url.render_as_string(hide_password=False),
            "VBIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "VBIS_VAR_DIR": var_dir,  # pygeoapi's generated files, away from the project's var/
        }
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve-ours", str(port),
                "--timeout", str(timeout_s)]  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        with _process("vbis-geo", argv, env, base, "/ogc/conformance?f=json"):
            yield base


def serve_ours(port: int, timeout_s: float) -> None:
    """The Flask application under gunicorn, one sync worker, the tile cache off (as in process):
    what ``vbis-geo serve`` runs, less the access log."""
    from gunicorn.app.base import BaseApplication

    import vbis_geo.publish.tiles as tiles
    from vbis_geo.web import create_app

    tiles.CACHE_MAX_ZOOM = -1  # the worker forks from this process and keeps the setting
    settings = Settings.from_env()

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {"bind": f"127.0.0.1:{port}", "workers": 1,
                       "timeout": int(timeout_s) + 60, "loglevel": "warning"}  # fmt: skip
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(settings)

    _App().run()


@dataclass
class Http:
    """The two servers measured over HTTP: ``ours`` (pygeoapi at /ogc) and ``tipg``."""

    ours: str
    tipg: str
    timeout: float

    def get(self, url: str) -> bytes:
        return http_get(url, self.timeout)

    def ours_tile(self, table: str, z: int, x: int, y: int) -> str:
        return f"{self.ours}/ogc/collections/{table}/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"

    def tipg_tile(self, table: str, z: int, x: int, y: int) -> str:
        query = {"properties": ",".join(TILE_FIELDS[table])}
        if table == "occurrences":
            query["limit"] = str(MAX_FEATURES_PER_TILE)
        return (f"{self.tipg}/collections/public.{table}/tiles/WebMercatorQuad/{z}/{x}/{y}?"
                + urllib.parse.urlencode(query))  # fmt: skip

    def ours_items(self, **query: object) -> str:
        return f"{self.ours}/ogc/collections/occurrences/items?" + urllib.parse.urlencode(
            {"f": "json", **query}
        )

    def tipg_items(self, **query: object) -> str:
        return f"{self.tipg}/collections/public.occurrences/items?" + urllib.parse.urlencode(
            {"f": "geojson", **query}
        )

    def warm_up(self) -> None:
        """One request of each kind to each server before timing (imports, pools, plans)."""
        for url in (self.ours_tile("occurrences", 14, 0, 0), self.ours_items(limit=1),
                    self.tipg_tile("occurrences", 14, 0, 0), self.tipg_items(limit=1)):  # fmt: skip
            self.get(url)

    def deep_cursor(self, deep_id: int) -> str:
        """A cursor of our server's to the rows after ``deep_id``: the signature of an unfiltered
        page taken from a real next link, the key set to ``deep_id``."""
        from vbis_geo.publish.features import _encode_cursor

        page = json.loads(self.get(self.ours_items(limit=1)))
        href = next(link["href"] for link in page["links"] if link.get("rel") == "next")
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["cursor"][0]
        signature = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["h"]
        return _encode_cursor([deep_id], signature)

    def floor_lines(self, repeat: int) -> list[str]:
        n = max(repeat, 5)
        ours = timed(partial(self.get, f"{self.ours}/ogc/conformance?f=json"), n, self.timeout)
        tipg = timed(partial(self.get, f"{self.tipg}/conformance?f=json"), n, self.timeout)
        return [
            "## HTTP floor (a request that reads no database: `/conformance`)",
            "",
            "| server | HTTP p50 / p95 |",
            "| --- | --- |",
            f"| ours (Flask + pygeoapi, gunicorn sync worker) | {_fmt(ours)} |",
            f"| tipg (FastAPI, uvicorn) | {_fmt(tipg)} |",
            "",
        ]


def _features_returned(body: bytes) -> int:
    return len(json.loads(body).get("features", []))


# -- tiles ---------------------------------------------------------------------------------------
def bench_tiles(
    engine: sa.Engine, data: dict[str, object], args: argparse.Namespace, http: Http | None
) -> list[str]:
    from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider

    import vbis_geo.publish.tiles as tiles

    tiles.CACHE_MAX_ZOOM = -1  # measure making tiles, not reading the cache
    with engine.connect() as conn:
        # paths whose deep tiles are not empty: for occurrences through the densest cell of
        # about a z14 tile (0.02 degrees), for protected areas through the largest one
        dense = tuple(conn.execute(sa.text(
            "SELECT avg(ST_X(geom)), avg(ST_Y(geom)) FROM occurrences GROUP BY "
            "floor(ST_X(geom) / 0.02), floor(ST_Y(geom) / 0.02) ORDER BY count(*) DESC LIMIT 1"
        )).one())  # fmt: skip
        pa_code, pa_lon, pa_lat = conn.execute(sa.text(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM "
            "protected_areas ORDER BY ST_Area(geom::geography) DESC, id LIMIT 1) AS a"
        )).one()  # fmt: skip
    lines = [
        "## Tiles (WebMercatorQuad)",
        "",
        f"One tile per zoom along a path: for occurrences through their densest 0.02-degree "
        f"cell (at {dense[0]:.3f}, {dense[1]:.3f}), for the provinces over Hà Nội, for protected "
        f"areas over the largest one ({pa_code}, at {pa_lon:.2f}, {pa_lat:.2f}).",
        "",
        "| layer | z | ours (in process) | floor (our SQL) | stock MVT-postgresql (in process) "
        "| ours (HTTP) | tipg (HTTP) | ours/floor | stock/ours | tipg/ours (HTTP) "
        "| tile kB ours / tipg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    # each layer's tile options as served (layers/<id>.yml: fields, zooms, grid, max_features)
    for table, centre, options in (
        ("occurrences", dense, SERVED_TILES["occurrences"]),
        ("admin_units", HANOI, SERVED_TILES["admin_units"]),
        ("protected_areas", (pa_lon, pa_lat), SERVED_TILES["protected_areas"]),
    ):
        definition = {
            "name": "vbis", "type": "tile", "data": data, "table": table, "id_field": "id",
            "geom_field": "geom", "format": {"name": "mvt", "mimetype": "application/x"},
            "options": {"layer": table, **options},
        }  # fmt: skip
        ours = tiles.TileProvider(definition)
        stock = MVTPostgreSQLProvider(
            {**definition, "name": "MVT-postgresql", "options": {"zoom": {"min": 0, "max": 22}}}
        )
        stock_timed_out = False
        for z, x, y in tile_path(*centre, range(0, 15)):
            mine = timed(partial(ours.get_tiles, None, "WebMercatorQuad", z, y, x), args.repeat,
                         args.timeout)  # fmt: skip
            raw = timed(partial(_tile_floor, engine, ours, z, x, y), args.repeat, args.timeout)
            if stock_timed_out:
                theirs: Timing = "timeout (at a lower zoom; not retried)"
            else:
                theirs = timed(
                    partial(stock.get_tiles, table, "WebMercatorQuad", z, y, x),
                    1 if z < 6 else args.repeat, args.timeout,
                )  # fmt: skip
                stock_timed_out = theirs == "timeout"
            mine_http: Timing | None = None
            tipg: Timing | None = None
            sizes = "n/a"
            if http is not None:
                try:  # what each returns (once, outside the timings)
                    sizes = " / ".join(
                        f"{len(http.get(url)) / 1000:,.1f}"
                        for url in (http.ours_tile(table, z, x, y), http.tipg_tile(table, z, x, y))
                    )
                except RuntimeError:
                    sizes = "-"
                mine_http = timed(partial(http.get, http.ours_tile(table, z, x, y)), args.repeat,
                                  args.timeout)  # fmt: skip
                tipg = timed(partial(http.get, http.tipg_tile(table, z, x, y)), args.repeat,
                             args.timeout)  # fmt: skip
            lines.append(
                f"| {table} | {z} | {_fmt(mine)} | {_fmt(raw)} | {_fmt(theirs)} | "
                f"{_fmt(mine_http)} | {_fmt(tipg)} | {_ratio(mine, raw)} | {_ratio(theirs, mine)} "
                f"| {_ratio(tipg, mine_http)} | {sizes} |"
            )
    return lines + [""]


# -- items ---------------------------------------------------------------------------------------
def bench_items(
    engine: sa.Engine, data: dict[str, object], args: argparse.Namespace, http: Http | None
) -> list[str]:
    from pygeoapi.provider.sql import PostgreSQLProvider
    from pygeofilter.parsers.cql2_text import parse

    from vbis_geo.analysis.access import Audience
    from vbis_geo.publish.features import FeatureProvider, _encode_cursor, _signature

    definition = {
        "name": "vbis", "type": "feature", "data": data, "table": "occurrences",
        "id_field": "id", "geom_field": "geom", "time_field": "event_date",
    }  # fmt: skip
    ours = FeatureProvider(definition)
    stock = PostgreSQLProvider({**definition, "name": "PostgreSQL"})
    bbox = [105.0, 20.0, 106.5, 21.5]
    cql_text = "basis_of_record = 'PreservedSpecimen' AND individual_count > 1"
    cql = parse(cql_text)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
        deep = min(500_000, n // 2)
        deep_id = conn.execute(
            sa.text("SELECT id FROM occurrences ORDER BY id OFFSET :o LIMIT 1"), {"o": deep}
        ).scalar()
    http_cursor = http.deep_cursor(int(deep_id)) if http is not None else ""
    lines = [
        "## Items of occurrences",
        "",
        "| case | ours (in process) | floor (one SQL statement) | stock PostgreSQL (in process) "
        "| ours (HTTP) | tipg (HTTP) | ours/floor | stock/ours | tipg/ours (HTTP) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    mismatches: list[str] = []

    def over_http(label: str, ours_url: str, tipg_url: str) -> tuple[Timing | None, Timing | None]:
        if http is None:
            return None, None
        # the same page from both? (counted once, outside the timings)
        a, b = _features_returned(http.get(ours_url)), _features_returned(http.get(tipg_url))
        if a != b:
            mismatches.append(f"{label}: ours {a} features, tipg {b}")
        return (timed(partial(http.get, ours_url), args.repeat, args.timeout),
                timed(partial(http.get, tipg_url), args.repeat, args.timeout))  # fmt: skip

    first_pages: dict[int, Timing] = {}
    for limit in (100, 1000):
        cases: list[tuple[str, dict, dict, str]] = [  # type: ignore[type-arg]
            ("first page", {}, {}, "TRUE"),
            ("bbox", {"bbox": bbox}, {"bbox": ",".join(f"{v:g}" for v in bbox)},
             "geom && ST_MakeEnvelope(105, 20, 106.5, 21.5, 4326)"),
            ("CQL2", {"filterq": cql}, {"filter": cql_text, "filter-lang": "cql2-text"}, cql_text),
        ]  # fmt: skip
        for label, kwargs, query, where in cases:
            mine = timed(partial(ours.query, limit=limit, **kwargs), args.repeat, args.timeout)
            theirs = timed(partial(stock.query, limit=limit, **kwargs), args.repeat, args.timeout)
            raw = timed(partial(_floor, engine, where, limit), args.repeat, args.timeout)
            mine_http, tipg = (None, None) if http is None else over_http(
                f"limit {limit}, {label}", http.ours_items(limit=limit, **query),
                http.tipg_items(limit=limit, **query),
            )  # fmt: skip
            if label == "first page":
                first_pages[limit] = mine
            lines.append(
                f"| limit {limit}, {label} | {_fmt(mine)} | {_fmt(raw)} | {_fmt(theirs)} | "
                f"{_fmt(mine_http)} | {_fmt(tipg)} | {_ratio(mine, raw)} | "
                f"{_ratio(theirs, mine)} | {_ratio(tipg, mine_http)} |"
            )
        # a deep page: the stock provider and tipg by offset, ours by the keyset the cursor carries
        deep_where = f"id > {int(deep_id)}"
        # (a cursor is signed for its audience: the public, as a provider called directly)
        signature = _signature(
            "occurrences", Audience.PUBLIC, None, None, None, [], repr(None), None
        )
        token = _encode_cursor([int(deep_id)], signature)
        mine = timed(partial(ours.query, limit=limit, cursor=token), args.repeat, args.timeout)
        theirs = timed(partial(stock.query, offset=deep + 1, limit=limit), args.repeat,
                       args.timeout)  # fmt: skip
        raw = timed(partial(_floor, engine, deep_where, limit), args.repeat, args.timeout)
        mine_http, tipg = (None, None) if http is None else over_http(
            f"limit {limit}, deep page", http.ours_items(limit=limit, cursor=http_cursor),
            http.tipg_items(limit=limit, offset=deep + 1),
        )  # fmt: skip
        lines.append(
            f"| limit {limit}, deep page (row {deep:,}) | {_fmt(mine)} | {_fmt(raw)} | "
            f"{_fmt(theirs)} | {_fmt(mine_http)} | {_fmt(tipg)} | {_ratio(mine, raw)} | "
            f"{_ratio(theirs, mine)} | {_ratio(tipg, mine_http)} |"
        )
        lines.append(
            f"| limit {limit}: deep page / first page (ours) | {_ratio(mine, first_pages[limit])} "
            "| | | | | | | |"
        )
    lines.append("")
    if mismatches:
        lines += ["Pages that differed in size between ours and tipg: " + "; ".join(mismatches), ""]
    return lines


def _tile_floor(engine: sa.Engine, provider: object, z: int, x: int, y: int) -> object:
    """Our tile's SQL run directly: no cache lookup, no pygeoapi."""
    import vbis_geo.publish.tiles as tiles

    with engine.connect() as conn:
        conn.execute(sa.text("SET jit = off"))  # as our reader runs it
        if hasattr(provider, "_statement"):  # one statement per tile, before the stored grid
            return conn.execute(provider._statement(z, x, y)).scalar()
        return provider._render(conn, tiles.MATRIX_SETS["WebMercatorQuad"], z, x, y)  # type: ignore[attr-defined]


def _floor(engine: sa.Engine, where: str, limit: int) -> object:
    """The page as one plain SQL statement: the least any server must do."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', "  # noqa: S608
                "ST_AsGeoJSON(geom)::json, 'properties', json_build_object('occurrence_id', "
                "occurrence_id, 'taxon_id', taxon_id, 'event_date', event_date)) "
                f"FROM occurrences WHERE {where} ORDER BY id LIMIT :limit"
            ),
            {"limit": limit},
        ).all()


if __name__ == "__main__":
    main()
