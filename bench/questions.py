"""The spatial questions through the API against their own SQL (the floor) and geopandas, in one
run on one database (1 million occurrences, the real province boundaries, the protected areas).

    .venv/bin/python bench/questions.py --occurrences 1000000 --repeat 3

(a quick check: ``--occurrences 100000 --repeat 1``.)

Set-up, as ``ogc_providers.py``: a scratch database on the configured server (dropped after),
migrated, the real provinces (63 and 34) read from the shared data directory by the project's
loader, the demo data with ``--occurrences`` records. The record-to-area assignment, stale after
that bulk load, is rebuilt once before anything is timed (``ensure_current``); its time is the
price of a bulk load and is reported. Then ``VACUUM ANALYZE`` (what autovacuum does soon after).

Each question is measured three ways, interleaved round by round so that the machine's noise
falls on all three alike:

* **API**: the Flask application (``create_app(mount_ogc=False)`` on the scratch database) asked
  through its test client, in process: routing, argument parsing, the assignment's staleness
  check, the question's SQL, building the answer in Python, JSON/CSV serialisation; no socket;
* **function**: the analysis function called on a connection (no Flask, no serialisation);
* **floor**: the statements the API request ran (captured from its engine on a warm-up request,
  less the staleness check), replayed with the same parameters on one open psycopg connection,
  every row fetched, JSON columns as text (not parsed): the database's work and the transfer.

Peer: geopandas. Points, polygons and taxa are read once (the read is reported apart); then
richness per area is ``gpd.sjoin(points, polygons, predicate="intersects")`` and a groupby
(distinct species, threatened species, records), the taxa rolled up to species along their
accepted-name and parent chain in pandas; the species list of one area the same with one
polygon. ``predicate="within"`` (which geopandas answers with a tree on the points and prepared
polygons) is timed too: a well-informed geopandas user's choice.

Writes p50/p95 per case, the ratios and the issue's targets to ``bench/results/questions.md``,
keeping its hand-written "Reading these results" section.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from scratch import scratch_database  # bench/scratch.py

from vbis_geo.analysis.access import Audience
from vbis_geo.db.migrate import upgrade
from vbis_geo.demo.generate import DemoParameters
from vbis_geo.demo.loader import load_demo
from vbis_geo.ingest.admin_units import load_vietnam_provinces
from vbis_geo.settings import Settings

BENCH = Path(__file__).parent
RESULTS = BENCH / "results" / "questions.md"
#: the heading of the hand-written part of the results file, which a new run keeps
READING = "## Reading these results"
#: the issue's targets: API / floor, by kind of question; geopandas / API for all-area richness
TARGET = {"single": 1.3, "all": 1.5}
GEOPANDAS_TARGET = 10.0
#: what-is-here points (lon, lat); the inside of the largest protected area is added
POINTS = {
    "Hà Nội (Hoàn Kiếm)": (105.852, 21.029),
    "Huế": (107.585, 16.463),
    "TP Hồ Chí Minh": (106.700, 10.776),
    "at sea off Quy Nhơn (no area; nearest PA search)": (110.0, 13.5),
}
Timing = list[float] | str
#: the API is asked without credentials, as the public: its functions are timed for the same
#: audience; geopandas reads the exact points, so it is compared with the exact answers
PUBLIC, EXACT = Audience.PUBLIC, Audience.EXACT


# -- timing --------------------------------------------------------------------------------------
def interleaved(
    calls: dict[str, Callable[[], object]], repeat: int, timeout_s: float
) -> dict[str, Timing]:
    """Each call ``repeat`` times, round by round (a, b, c, a, b, c...); a call slower than
    ``timeout_s`` is not repeated; a failure is reported as its text."""
    out: dict[str, Timing] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            times = out[name]
            if isinstance(times, str) or (times and times[-1] > timeout_s):
                continue
            started = time.perf_counter()
            try:
                call()
            except Exception as exc:  # noqa: BLE001 (a failure is a result to report)
                out[name] = f"error: {exc!s:.80}"
                continue
            times.append(time.perf_counter() - started)
    return out


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _ms(value: float) -> str:
    return f"{value * 1000:,.1f}"


def _fmt(result: Timing | None) -> str:
    if result is None:
        return "n/a"
    if isinstance(result, str):
        return result
    return f"{_ms(p50(result))} / {_ms(p95(result))}"


def _ratio_value(a: Timing | None, b: Timing | None) -> float | None:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or not a or not b:
        return None
    return p50(a) / p50(b)


def _ratio(a: Timing | None, b: Timing | None) -> str:
    value = _ratio_value(a, b)
    return "-" if value is None else f"{value:.2f}"


# -- the floor: the statements an API request runs, replayed -------------------------------------
class Recorder:
    """Records the statements run on an engine while ``recording``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.recording = False
        self.statements: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if self.recording:
            self.statements.append((statement, parameters))

    def capture(self, call: Callable[[], object]) -> list[tuple[str, Any]]:
        self.statements, self.recording = [], True
        try:
            call()
        finally:
            self.recording = False
        # the assignment's staleness check (ensure_current) is the API's overhead, not the question
        return [(s, p) for s, p in self.statements if "FROM analysis.state" not in s]


def raw_connection(engine: sa.Engine, json_as_text: bool) -> Any:
    """A psycopg connection of ``engine``'s settings; JSON and JSONB columns as text if asked."""
    import psycopg
    from psycopg.types.string import TextLoader

    url = engine.url
    conn = psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username,
        password=url.password or None, application_name="vbis-geo",
    )  # fmt: skip
    if json_as_text:
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
    return conn


def replay(conn: Any, statements: list[tuple[str, Any]]) -> int:
    """Run the statements in one transaction (rolled back, as a request's connection is), every
    row fetched; the number of rows."""
    rows = 0
    with conn.cursor() as cur:
        for statement, parameters in statements:
            cur.execute(statement, parameters)
            if cur.description is not None:
                rows += len(cur.fetchall())
    conn.rollback()
    return rows


# -- cases ---------------------------------------------------------------------------------------
@dataclass
class Case:
    label: str
    kind: str  # "single" or "all" (the target), "extra"
    #: the request through the test client: returns the response
    request: Callable[[Any], Any]
    #: the analysis function on a connection
    function: Callable[[sa.Connection], object]
    timings: dict[str, Timing] = field(default_factory=dict)
    body_kb: float = 0.0
    statements: int = 0
    rows: int = 0
    note: str = ""


def get(url: str) -> Callable[[Any], Any]:
    return lambda client: client.get(url)


def post_json(url: str, body: dict[str, Any]) -> Callable[[Any], Any]:
    data = json.dumps(body)
    return lambda client: client.post(url, data=data, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="a call slower than this (s) is not repeated")  # fmt: skip
    parser.add_argument("--no-geopandas", action="store_true", help="leave out the peer")
    args = parser.parse_args()
    settings = Settings.from_env()
    setup: dict[str, str] = {}
    with scratch_database(settings, "vbis_bench_questions") as (engine, url):
        upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            load_vietnam_provinces(conn, settings.shared_data_dir)
            load_demo(conn, DemoParameters(n_occurrences=args.occurrences), echo=lambda _: None)
        setup["load"] = f"{time.perf_counter() - started:.1f} s"
        _vacuum(engine)
        log(f"loaded in {setup['load']}; rebuilding the assignment")
        from vbis_geo.analysis.assignment import ensure_current, stale_parts

        with engine.connect() as conn:
            setup["stale"] = ", ".join(stale_parts(conn)) or "nothing"
        rebuild = ensure_current(engine, counts=True)  # the per-area species counts too
        setup["rebuild"] = f"{rebuild:.1f} s" if rebuild is not None else "not needed"
        _vacuum(engine)
        with engine.connect() as conn:
            setup["assignment"] = ", ".join(
                f"{layer} {n:,}"
                for layer, n in conn.execute(sa.text(
                    "SELECT layer, count(*) FROM analysis.occurrence_areas GROUP BY layer "
                    "ORDER BY count(*) DESC"
                ))
            )  # fmt: skip
        log(f"assignment rebuilt in {setup['rebuild']} ({setup['assignment']})")
        cases, subjects = build_cases(engine, settings, url)
        app = create_app_on(settings, url)
        lines = bench_cases(engine, app, cases, args) + fixed_costs(engine, app)
        peer_lines: list[str] = []
        if not args.no_geopandas:
            peer_lines = bench_geopandas(engine, cases, subjects, args)
    write_results(args, setup, subjects, lines + peer_lines)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _vacuum(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def create_app_on(settings: Settings, url: sa.URL) -> Any:
    from vbis_geo.web import create_app

    app = create_app(dataclasses.replace(settings, database_url=url), mount_ogc=False)
    app.add_url_rule("/bench-noop", "bench_noop", lambda: "")  # Flask's own cost (fixed_costs)
    return app


def build_cases(
    engine: sa.Engine, settings: Settings, url: sa.URL
) -> tuple[list[Case], dict[str, Any]]:
    """The questions asked, on subjects picked from the data: the largest protected area, a
    province of median area (the 63) for the area report, a handful of points."""
    from vbis_geo.analysis import gaps, places, report, richness
    from vbis_geo.analysis import species as species_q
    from vbis_geo.ingest.rasters import raster_path

    with engine.connect() as conn:
        pa = conn.execute(sa.text(
            "SELECT code, name_vi, round((ST_Area(geom::geography) / 1e6)::numeric) AS km2, "
            "ST_NPoints(geom) AS vertices, ST_X(ST_PointOnSurface(geom)) AS lon, "
            "ST_Y(ST_PointOnSurface(geom)) AS lat "
            "FROM protected_areas ORDER BY ST_Area(geom::geography) DESC, id LIMIT 1"
        )).one()  # fmt: skip
        province = conn.execute(sa.text(
            "WITH p AS (SELECT code, name_vi, geom, ST_Area(geom::geography) AS m2, "
            "ST_NPoints(geom) AS vertices FROM admin_units WHERE valid_to IS NOT NULL "
            "AND ST_NPoints(geom) <= 10000) "
            "SELECT code, name_vi, round((m2 / 1e6)::numeric) AS km2, vertices, "
            "ST_AsGeoJSON(geom, 7) AS geojson FROM p "
            "ORDER BY abs(m2 - (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY m2) FROM p)) "
            "LIMIT 1"
        )).one()  # fmt: skip
        outlines = conn.execute(sa.text(
            "SELECT count(*), sum(ST_NPoints(geom)) FROM admin_units WHERE valid_to IS NULL"
        )).one()  # fmt: skip
        pas = conn.execute(
            sa.text("SELECT count(*), sum(ST_NPoints(geom)) FROM protected_areas")
        ).one()
        counts = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM occurrences), (SELECT count(*) FROM taxa), "
            "(SELECT count(DISTINCT species_id) FROM analysis.taxon_species)"
        )).one()  # fmt: skip
    points = {**POINTS, f"inside the largest protected area ({pa.code})": (pa.lon, pa.lat)}
    polygon_geojson = json.loads(province.geojson)
    polygon = report.polygon_in_wgs84(report.parse_geometry(polygon_geojson)[0])
    today = dt.date.today()
    landcover_path = raster_path(settings, "landcover")
    landcover = None
    if landcover_path.is_file():
        from vbis_geo.ingest.rasters import raster_layers

        layers = {r.id: r for r in raster_layers(settings.project_dir / "layers")}
        landcover = (landcover_path, layers["landcover"].classes if "landcover" in layers else {})
    cases = [
        Case(
            f"species list of the largest protected area ({pa.code}, {pa.km2:,} km²), JSON",
            "single",
            get(f"/api/protected-areas/{pa.code}/species"),
            lambda c: species_q.species_in_area(
                c, species_q.protected_area(c, pa.code, None), audience=PUBLIC
            ),
        ),
        Case(
            f"species list of {pa.code}, CSV",
            "single",
            get(f"/api/protected-areas/{pa.code}/species?f=csv"),
            lambda c: species_q.species_in_area(
                c, species_q.protected_area(c, pa.code, None), audience=PUBLIC
            ),
        ),
    ]
    for by, what in (("protected_area", "protected area"), ("province", "province (the 34)")):
        for fmt in ("geojson", "csv"):
            cases.append(
                Case(
                    f"richness per {what}, {'GeoJSON' if fmt == 'geojson' else 'CSV'}",
                    "all",
                    get(f"/api/richness?by={by}&f={fmt}"),
                    lambda c, by=by, fmt=fmt: richness.richness(
                        c, by, audience=PUBLIC, geometry=fmt != "csv", geojson_text=True
                    ),
                )
            )
    cases.append(
        Case(
            "gap analysis, JSON",
            "all",
            get("/api/gap-analysis"),
            lambda c: gaps.gap_analysis(c, audience=PUBLIC),
        )
    )
    for name, (lon, lat) in points.items():
        cases.append(
            Case(
                f"what is here: {name}",
                "single",
                get(f"/api/whats-here?lon={lon:.6f}&lat={lat:.6f}"),
                lambda c, lon=lon, lat=lat: places.whats_here(
                    c, places.locate(float(f"{lon:.6f}"), float(f"{lat:.6f}")), today
                ),
            )
        )
    cases.append(
        Case(
            f"area report of a mid-size polygon ({province.name_vi} of the 63 provinces, "
            f"{province.km2:,} km², {province.vertices:,} vertices), JSON",
            "extra",
            post_json("/api/area-report", {"geometry": polygon_geojson}),
            lambda c: report.area_report(c, polygon, audience=PUBLIC, landcover=landcover),
            note="land cover from the raster" if landcover else "no land-cover raster",
        )
    )
    subjects = {
        "pa": pa,
        "province": province,
        "polygon": polygon,
        "landcover": landcover,
        "outlines": outlines,
        "pas": pas,
        "counts": counts,
        "points": points,
    }
    return cases, subjects


def bench_cases(
    engine: sa.Engine, app: Any, cases: list[Case], args: argparse.Namespace
) -> list[str]:
    client = app.test_client()
    recorder = Recorder(app.extensions["vbis_engine"])
    floor_conn = raw_connection(engine, json_as_text=True)
    parsed_conn = raw_connection(engine, json_as_text=False)
    breakdown: list[str] = []
    try:
        for case in cases:
            log(case.label)

            def api(case: Case = case) -> None:
                response = case.request(client)
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.data[:200]!r}")
                _ = response.data

            statements = recorder.capture(api)  # also the warm-up of the API
            case.statements = len(statements)
            case.body_kb = len(case.request(client).data) / 1000
            case.rows = replay(floor_conn, statements)

            def function(case: Case = case) -> object:
                with engine.connect() as conn:
                    return case.function(conn)

            calls: dict[str, Callable[[], object]] = {
                "api": api,
                "function": function,
                "floor": lambda s=statements: replay(floor_conn, s),
            }
            if case.kind == "all":
                calls["floor, JSON parsed"] = lambda s=statements: replay(parsed_conn, s)
            case.timings = interleaved(calls, args.repeat, args.timeout)
            if case.kind == "all":
                breakdown.append(_breakdown(case, engine, client))
    finally:
        floor_conn.close()
        parsed_conn.close()
    lines = [
        "## Through the API against the floor",
        "",
        "| question | kind | API (test client) | function (no Flask) | floor (its SQL) "
        "| API / floor | target | met | function / floor | statements | rows | answer kB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in cases:
        t = case.timings
        ratio = _ratio_value(t.get("api"), t.get("floor"))
        target = TARGET.get(case.kind)
        met = "-" if target is None or ratio is None else ("yes" if ratio <= target else "**no**")
        lines.append(
            f"| {case.label}{f' ({case.note})' if case.note else ''} | {case.kind} "
            f"| {_fmt(t.get('api'))} | {_fmt(t.get('function'))} | {_fmt(t.get('floor'))} "
            f"| {_ratio(t.get('api'), t.get('floor'))} | {f'{target:g}x' if target else '-'} "
            f"| {met} | {_ratio(t.get('function'), t.get('floor'))} | {case.statements} "
            f"| {case.rows:,} | {case.body_kb:,.1f} |"
        )
    lines += [
        "",
        "## Where the time of the all-area questions goes (p50, ms)",
        "",
        "| question | floor (JSON as text) | floor (JSON parsed by psycopg) | function "
        "| serialising the function's answer as the view does | API |",
        "| --- | --- | --- | --- | --- | --- |",
        *breakdown,
        "",
    ]
    return lines


def _breakdown(case: Case, engine: sa.Engine, client: Any) -> str:
    """The all-area question's times side by side, with the view's serialisation of its answer
    timed on its own (as ``/api/richness`` and ``/api/gap-analysis`` do it)."""
    from flask import jsonify

    from vbis_geo.web.questions import csv_response
    from vbis_geo.web.questions_stats import AREA_COLUMNS, geojson_response

    with engine.connect() as conn:
        answer: Any = case.function(conn)
    app = client.application

    def serialise() -> object:
        if "CSV" in case.label:
            rows = [f["properties"] for f in answer["features"]]
            with app.app_context():
                return csv_response(rows, AREA_COLUMNS, "x.csv").get_data()
        if "richness" in case.label:
            fresh = {**answer, "features": [dict(f) for f in answer["features"]]}
            return geojson_response(fresh).get_data()
        if "gap" in case.label:
            with app.app_context():
                return jsonify(answer).get_data()
        return None

    timing = interleaved({"serialise": serialise}, max(3, len(case.timings["api"])), 600)
    t = case.timings

    def ms(x: Timing | None) -> str:
        return "-" if x is None or isinstance(x, str) else _ms(p50(x))

    return (
        f"| {case.label} | {ms(t.get('floor'))} | {ms(t.get('floor, JSON parsed'))} "
        f"| {ms(t.get('function'))} | {ms(timing['serialise'])} | {ms(t.get('api'))} |"
    )


def fixed_costs(engine: sa.Engine, app: Any) -> list[str]:
    """What every API request pays whatever its question, timed 300 times each: the Flask
    request through the test client, a connection from the pool (pre-ping) and its rollback, a
    statement through SQLAlchemy against the same on the psycopg connection."""
    client = app.test_client()
    app_engine = app.extensions["vbis_engine"]
    raw = raw_connection(engine, json_as_text=True)

    def checkout() -> None:
        with app_engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).all()

    def raw_select() -> None:
        with raw.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()
        raw.rollback()

    open_conn = app_engine.connect()
    calls: dict[str, Callable[[], object]] = {
        "a Flask request through the test client (a route that returns an empty body)": (
            lambda: client.get("/bench-noop").data
        ),
        "a connection from the pool (pre-ping), `SELECT 1` through SQLAlchemy, rollback": checkout,
        "`SELECT 1` and rollback on an open psycopg connection (the floor's way)": raw_select,
        "`SELECT 1` through SQLAlchemy on an open connection": (
            lambda: open_conn.execute(sa.text("SELECT 1")).all()
        ),
    }
    try:
        for call in calls.values():  # warm-up
            call()
        timings = interleaved(calls, 300, 60)
    finally:
        open_conn.close()
        raw.close()
    lines = [
        "## What every request pays (p50 / p95, ms; 300 times each)",
        "",
        "| step | time |",
        "| --- | --- |",
    ]
    for name in calls:
        t = timings[name]
        shown = t if isinstance(t, str) else f"{p50(t) * 1000:.3f} / {p95(t) * 1000:.3f}"
        lines.append(f"| {name} | {shown} |")
    return lines + [""]


# -- geopandas -----------------------------------------------------------------------------------
def bench_geopandas(
    engine: sa.Engine, cases: list[Case], subjects: dict[str, Any], args: argparse.Namespace
) -> list[str]:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    log("geopandas: reading")
    today = dt.date.today()
    reads: dict[str, float] = {}
    started = time.perf_counter()
    points = gpd.read_postgis(
        "SELECT id, taxon_id, event_date, geom FROM occurrences", engine, geom_col="geom"
    )
    reads["occurrences"] = time.perf_counter() - started
    in_force = (
        "(valid_from IS NULL OR valid_from <= %(d)s) AND (valid_to IS NULL OR valid_to >= %(d)s)"
    )
    started = time.perf_counter()
    provinces = gpd.read_postgis(
        f"SELECT code, geom FROM admin_units WHERE {in_force}",  # noqa: S608 (fixed text)
        engine, geom_col="geom", params={"d": today},
    )  # fmt: skip
    pas = gpd.read_postgis(
        f"SELECT code, geom FROM protected_areas WHERE {in_force}",  # noqa: S608 (fixed text)
        engine, geom_col="geom", params={"d": today},
    )  # fmt: skip
    reads["polygons"] = time.perf_counter() - started
    started = time.perf_counter()
    taxa = pd.read_sql("SELECT id, rank, parent_id, accepted_id FROM taxa", engine)
    statuses = pd.read_sql("SELECT taxon_id, list, category FROM taxon_statuses", engine)
    reads["taxa"] = time.perf_counter() - started
    threatened = set(
        statuses.loc[
            statuses["list"].isin(["iucn_red_list", "vn_red_data_book"])
            & statuses["category"].isin(["CR", "EN", "VU"]),
            "taxon_id",
        ]
    )
    pa_code = subjects["pa"].code
    one_pa = pas[pas["code"] == pa_code]

    def species_of(taxa: pd.DataFrame) -> pd.Series:
        """taxon id -> species id (its accepted name, then up the parents to the species rank;
        NaN above it), a step of the chain at a time for all taxa at once."""
        ids = taxa["id"].to_numpy()
        rank = pd.Series(taxa["rank"].to_numpy(), index=ids)
        parent = pd.Series(taxa["parent_id"].to_numpy(dtype="float64"), index=ids)
        current = pd.Series(taxa["accepted_id"].fillna(taxa["id"]).to_numpy("float64"), index=ids)
        species = pd.Series(np.nan, index=ids)
        for _ in range(40):
            open_ = species.isna() & current.notna()
            if not open_.any():
                break
            at = current[open_]
            hit = (rank.reindex(at.to_numpy()) == "species").to_numpy()
            species[at.index[hit]] = at.to_numpy()[hit]
            up = parent.reindex(at.to_numpy()).to_numpy(copy=True)
            up[hit] = np.nan
            current[open_] = up
        return species

    def with_species() -> gpd.GeoDataFrame:
        mapping = species_of(taxa)
        kept = points.assign(species=points["taxon_id"].map(mapping))
        return kept[kept["species"].notna()]

    def richness(polygons: gpd.GeoDataFrame, predicate: str) -> pd.DataFrame:
        kept = with_species()
        joined = gpd.sjoin(kept, polygons[["code", "geom"]], predicate=predicate)
        groups = joined.groupby("code")
        out = pd.DataFrame({
            "species": groups["species"].nunique(),
            "threatened_species": joined[joined["species"].isin(threatened)]
            .groupby("code")["species"].nunique(),
            "records": groups.size(),
        })  # fmt: skip
        return out.reindex(polygons["code"]).fillna(0).astype("int64")

    def species_list(predicate: str) -> pd.DataFrame:
        kept = with_species()
        joined = gpd.sjoin(kept, one_pa[["code", "geom"]], predicate=predicate)
        return joined.groupby("species").agg(
            records=("id", "size"), first=("event_date", "min"), last=("event_date", "max")
        )

    api = {c.label: c.timings.get("api") for c in cases}
    # the answers the API gives, to check the peer's against
    from vbis_geo.analysis import richness as richness_q
    from vbis_geo.analysis import species as species_q

    with engine.connect() as conn:
        ours = {
            by: {
                f["properties"]["code"]: (
                    f["properties"]["species"], f["properties"]["threatened_species"],
                    f["properties"]["records"],
                )
                for f in richness_q.richness(conn, by, audience=EXACT, geometry=False)["features"]
            }
            for by in ("province", "protected_area")
        }  # fmt: skip
        our_list = species_q.species_in_area(
            conn, species_q.protected_area(conn, pa_code, None), audience=EXACT
        )
    our_species = {r["taxon_id"]: r["records"] for r in our_list["species"]}

    lines = [
        "## Against geopandas",
        "",
        f"Read once before timing: occurrences {reads['occurrences']:.1f} s "
        f"(`gpd.read_postgis`, {len(points):,} points), polygons {reads['polygons']:.1f} s "
        f"({len(provinces)} provinces, {len(pas)} protected areas in force today), taxa and "
        f"statuses {reads['taxa']:.2f} s. Each timing below is the roll-up of taxa to species in "
        "pandas, the spatial join and the groupby; the API's answer is the full response.",
        "",
        "| question | geopandas | API (its GeoJSON / JSON answer) | geopandas / API "
        "| API (CSV) | geopandas / API (CSV) | target | met | same answer as the API |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for by, polygons, what in (
        ("province", provinces, "province (the 34)"),
        ("protected_area", pas, "protected area"),
    ):
        for predicate in ("intersects", "within"):
            log(f"geopandas: richness per {by}, {predicate}")
            answer: dict[str, pd.DataFrame] = {}

            def run(
                polygons: gpd.GeoDataFrame = polygons, predicate: str = predicate, answer=answer
            ) -> None:
                answer["last"] = richness(polygons, predicate)

            timing = interleaved({"peer": run}, args.repeat, args.timeout)["peer"]
            same = "-"
            if "last" in answer:
                theirs = {
                    code: tuple(int(v) for v in row)
                    for code, row in answer["last"][
                        ["species", "threatened_species", "records"]
                    ].iterrows()
                }
                differ = [code for code in ours[by] if ours[by][code] != theirs.get(code)]
                same = "yes" if not differ else f"no: {len(differ)} of {len(ours[by])} areas differ"
            geo = api.get(f"richness per {what}, GeoJSON")
            csv_ = api.get(f"richness per {what}, CSV")
            ratio = _ratio_value(timing, geo)
            met, target = "-", "-"
            if predicate == "intersects":
                target = f"{GEOPANDAS_TARGET:g}x"
            if predicate == "intersects" and ratio is not None:
                met = "yes" if ratio >= GEOPANDAS_TARGET else "**no**"
            lines.append(
                f'| richness per {what}: `sjoin(predicate="{predicate}")` + groupby '
                f"| {_fmt(timing)} | {_fmt(geo)} | {_ratio(timing, geo)} | {_fmt(csv_)} "
                f"| {_ratio(timing, csv_)} | {target} "
                f"| {met} | {same} |"
            )
    for predicate in ("intersects", "within"):
        log(f"geopandas: species list, {predicate}")
        answer = {}

        def run_list(predicate: str = predicate, answer=answer) -> None:
            answer["last"] = species_list(predicate)

        timing = interleaved({"peer": run_list}, args.repeat, args.timeout)["peer"]
        same = "-"
        if "last" in answer:
            theirs = {int(k): int(v) for k, v in answer["last"]["records"].items()}
            same = "yes" if theirs == our_species else "no"
        label = f"species list of {pa_code}"
        geo = api.get(next(c.label for c in cases if c.label.startswith("species list of the")))
        csv_ = api.get(f"{label}, CSV")
        lines.append(
            f'| {label}: `sjoin(predicate="{predicate}")` with its polygon + groupby '
            f"| {_fmt(timing)} | {_fmt(geo)} | {_ratio(timing, geo)} | {_fmt(csv_)} "
            f"| {_ratio(timing, csv_)} | - | - | {same} |"
        )
    return lines + [""]


# -- the results file ----------------------------------------------------------------------------
def write_results(
    args: argparse.Namespace, setup: dict[str, str], subjects: dict[str, Any], lines: list[str]
) -> None:
    outlines, pas, counts = subjects["outlines"], subjects["pas"], subjects["counts"]
    header = [
        "# Spatial questions: the API against its SQL floor and geopandas",
        "",
        f"`bench/questions.py --occurrences {args.occurrences} --repeat {args.repeat}`, "
        f"{time.strftime('%Y-%m-%d')}, one run on one database (2 shared cores). Times in "
        "milliseconds (p50 / p95), ratios of p50; the API, the function and the floor of a "
        "question were timed round by round, interleaved.",
        "",
        f"Data: {counts[0]:,} occurrences of {counts[1]:,} taxa ({counts[2]:,} species); the real "
        f"provinces (34 in force today: {outlines[1]:,} vertices; the 63 of before 2025-07-01 "
        f"are in the assignment too); {pas[0]} demo protected areas ({pas[1]:,} vertices).",
        "",
        f"- Demo load (provinces and demo data, one transaction): {setup['load']}.",
        f"- **Rebuild of the record-to-area assignment after that bulk load "
        f"(`ensure_current`, stale: {setup['stale']}): {setup['rebuild']}**; rows: "
        f"{setup['assignment']}.",
        "- API: the Flask application (`create_app(mount_ogc=False)`) through its test client, "
        "in process, no socket: routing, arguments, the staleness check of the assignment, the "
        "SQL, the answer built in Python, JSON or CSV.",
        "- Function: the analysis function on a connection (SQL and the answer in Python).",
        "- Floor: the statements the API request ran (captured on a warm-up request, less the "
        "staleness check), replayed with the same parameters on one open psycopg connection, "
        "every row fetched, JSON columns left as text: the database's work and the transfer.",
        "",
    ]
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    reading = old[old.index(READING) :] if READING in old else ""
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(header + lines) + "\n" + reading, encoding="utf-8")
    print("\n".join(header + lines))


if __name__ == "__main__":
    main()
