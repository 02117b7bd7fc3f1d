"""Our OGC providers against pygeoapi's stock PostgreSQL providers and the raw-SQL floor, in one
run on one database (1 million occurrences, the real province polygons).

    .venv/bin/python bench/ogc_providers.py --occurrences 1000000 --repeat 5

Providers are called directly (the same calls pygeoapi makes), so HTTP and JSON serialisation,
which every server pays alike, are left out. Cases:

* tiles z0-z14 along a path of tiles over Hà Nội, for occurrences and for the 63 provinces (complex
  polygons): ours (cache off: the work of making a tile), the stock MVT-postgresql provider (a
  statement timeout of ``--timeout`` seconds; a timeout is reported as such), and the floor: our
  own tile SQL run directly;
* items pages of occurrences, limit 100 and 1,000: the first page, a deep page (offset 500,000 for
  the stock provider; our keyset cursor to the same rows), with a bbox and with a CQL2 filter:
  ours, the stock PostgreSQL provider, and the floor: one SQL statement building the same page.

Writes p50/p95 per case and the ratios to ``bench/results/ogc_providers.md``. tipg is not part
of this run yet (it needs its own server process); see the results file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from scratch import scratch_database  # bench/scratch.py

from vbis_geo.db.migrate import upgrade
from vbis_geo.demo.generate import DemoParameters
from vbis_geo.demo.loader import load_demo
from vbis_geo.ingest.admin_units import load_vietnam_provinces
from vbis_geo.settings import Settings

RESULTS = Path(__file__).parent / "results" / "ogc_providers.md"
HANOI = (105.85, 21.03)


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


def timed(call: Callable[[], object], repeat: int, timeout_s: float) -> list[float] | str:
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
    args = parser.parse_args()
    settings = Settings.from_env()
    with scratch_database(settings, "vbis_bench_ogc") as (engine, url):
        upgrade(engine)
        with engine.begin() as conn:
            load_vietnam_provinces(conn, settings.shared_data_dir)
            load_demo(conn, DemoParameters(n_occurrences=args.occurrences), echo=lambda _: None)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        # the stock providers connect through psycopg2/libpq: PGOPTIONS sets their timeout
        os.environ["PGOPTIONS"] = f"-c statement_timeout={int(args.timeout * 1000)}"
        data = {
            "host": url.host, "port": url.port, "dbname": url.database,
            "user": url.username, "password": url.password or "", "search_path": ["public"],
        }  # fmt: skip
        lines = bench_tiles(engine, data, args) + bench_items(engine, data, args)
    RESULTS.parent.mkdir(exist_ok=True)
    header = [
        "# OGC providers: vbis-geo against stock pygeoapi and the raw-SQL floor",
        "",
        f"`bench/ogc_providers.py --occurrences {args.occurrences} --repeat {args.repeat} "
        f"--timeout {args.timeout:g}`, {time.strftime('%Y-%m-%d')}, one run on one database. "
        "Times in milliseconds (p50 / p95); ratios of p50.",
        "",
    ]
    RESULTS.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _fmt(result: list[float] | str) -> str:
    if isinstance(result, str):
        return result
    return f"{p50(result) * 1000:,.1f} / {p95(result) * 1000:,.1f}"


def _ratio(a: list[float] | str, b: list[float] | str) -> str:
    if isinstance(a, str) or isinstance(b, str):
        return "-"
    return f"{p50(a) / p50(b):.2f}"


def bench_tiles(engine: sa.Engine, data: dict, args: argparse.Namespace) -> list[str]:  # type: ignore[type-arg]
    from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider

    import vbis_geo.publish.tiles as tiles

    tiles.CACHE_MAX_ZOOM = -1  # measure making tiles, not reading the cache
    lines = [
        "## Tiles (WebMercatorQuad, a path over Hà Nội)",
        "",
        "| layer | z | ours | floor (our SQL) | stock MVT-postgresql | ours/floor | stock/ours |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for table, options in (
        ("occurrences", {"fields": ["taxon_id", "basis_of_record", "event_date"],
                         "zoom": {"min": 0, "max": 18}, "grid_until_zoom": 9}),
        ("admin_units", {"fields": ["code", "name_vi"], "zoom": {"min": 0, "max": 14}}),
    ):  # fmt: skip
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
        for z, x, y in tile_path(*HANOI, range(0, 15)):
            mine = timed(partial(ours.get_tiles, None, "WebMercatorQuad", z, y, x), args.repeat,
                         args.timeout)  # fmt: skip
            raw = timed(partial(_run, engine, ours._statement(z, x, y)), args.repeat, args.timeout)
            if stock_timed_out:
                theirs: list[float] | str = "timeout (at a lower zoom; not retried)"
            else:
                theirs = timed(
                    partial(stock.get_tiles, table, "WebMercatorQuad", z, y, x),
                    1 if z < 6 else args.repeat, args.timeout,
                )  # fmt: skip
                stock_timed_out = theirs == "timeout"
            lines.append(
                f"| {table} | {z} | {_fmt(mine)} | {_fmt(raw)} | {_fmt(theirs)} | "
                f"{_ratio(mine, raw)} | {_ratio(theirs, mine)} |"
            )
    return lines + [""]


def bench_items(engine: sa.Engine, data: dict, args: argparse.Namespace) -> list[str]:  # type: ignore[type-arg]
    from pygeoapi.provider.sql import PostgreSQLProvider
    from pygeofilter.parsers.cql2_text import parse

    from vbis_geo.publish.features import FeatureProvider, _encode_cursor, _signature

    definition = {
        "name": "vbis", "type": "feature", "data": data, "table": "occurrences",
        "id_field": "id", "geom_field": "geom", "time_field": "event_date",
    }  # fmt: skip
    ours = FeatureProvider(definition)
    stock = PostgreSQLProvider({**definition, "name": "PostgreSQL"})
    bbox = [105.0, 20.0, 106.5, 21.5]
    cql = parse("basis_of_record = 'PreservedSpecimen' AND individual_count > 1")
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
        deep = min(500_000, n // 2)
        deep_id = conn.execute(
            sa.text("SELECT id FROM occurrences ORDER BY id OFFSET :o LIMIT 1"), {"o": deep}
        ).scalar()
    lines = [
        "## Items of occurrences",
        "",
        "| case | ours | floor (one SQL statement) | stock PostgreSQL | ours/floor | stock/ours |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    first_pages: dict[int, list[float] | str] = {}
    for limit in (100, 1000):
        cases: list[tuple[str, dict, str]] = [  # type: ignore[type-arg]
            ("first page", {}, "TRUE"),
            ("bbox", {"bbox": bbox}, "geom && ST_MakeEnvelope(105, 20, 106.5, 21.5, 4326)"),
            ("CQL2", {"filterq": cql},
             "basis_of_record = 'PreservedSpecimen' AND individual_count > 1"),
        ]  # fmt: skip
        for label, kwargs, where in cases:
            mine = timed(partial(ours.query, limit=limit, **kwargs), args.repeat, args.timeout)
            theirs = timed(partial(stock.query, limit=limit, **kwargs), args.repeat, args.timeout)
            raw = timed(partial(_floor, engine, where, limit), args.repeat, args.timeout)
            if label == "first page":
                first_pages[limit] = mine
            lines.append(
                f"| limit {limit}, {label} | {_fmt(mine)} | {_fmt(raw)} | {_fmt(theirs)} | "
                f"{_ratio(mine, raw)} | {_ratio(theirs, mine)} |"
            )
        # a deep page: the stock provider by offset, ours by the keyset the cursor carries
        deep_where = f"id > {int(deep_id)}"
        token = _encode_cursor([int(deep_id)], _signature("occurrences", None, None, None, [],
                                                          repr(None), None))  # fmt: skip
        mine = timed(partial(ours.query, limit=limit, cursor=token), args.repeat, args.timeout)
        theirs = timed(lambda: stock.query(offset=500_000, limit=limit), args.repeat, args.timeout)  # noqa: B023
        raw = timed(lambda: _floor(engine, deep_where, limit), args.repeat, args.timeout)  # noqa: B023
        lines.append(
            f"| limit {limit}, deep page (row {deep:,}) | {_fmt(mine)} | {_fmt(raw)} | "
            f"{_fmt(theirs)} | {_ratio(mine, raw)} | {_ratio(theirs, mine)} |"
        )
        lines.append(
            f"| limit {limit}: deep page / first page (ours) | {_ratio(mine, first_pages[limit])} "
            "| | | | |"
        )
    return lines + [""]


def _run(engine: sa.Engine, statement: sa.Select) -> object:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return conn.execute(statement).scalar()


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
