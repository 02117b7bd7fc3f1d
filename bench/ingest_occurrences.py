"""Occurrence ingest against ogr2ogr and the bare-COPY floor, in one run on one database.

    .venv/bin/python bench/ingest_occurrences.py --rows 1000000 --repeat 3

A Darwin Core CSV of ``--rows`` records (the demo generator's occurrences under their Darwin
Core names, with the backbone's classification) is loaded three ways, each until the rows are
queryable (geometry built, indexes, statistics):

* ours: ``vbis-geo ingest occurrences file.csv`` (read, map, validate every cell, match every
  name to the backbone, check every point is in Viet Nam, datasets entry; into the empty
  ``occurrences`` table, the file is read as a stream and each slice is checked while the one
  before is stored by COPY; then the table's primary key, unique key, four foreign keys, GiST
  index and four b-tree indexes are rebuilt, its CHECK rules and triggers having run, ANALYZE);
* ogr2ogr: GDAL's CSV -> PostgreSQL with ``PG_USE_COPY=YES``, a point geometry from the
  coordinate columns and its GiST index, then ANALYZE;
* the floor: a bare ``COPY`` of the same CSV file into an unindexed table of text columns.

Runs alternate between the three; medians and ratios are printed. Needs ../shared/data (the
provinces) and GDAL's ogr2ogr.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from scratch import scratch_database  # bench/scratch.py

from vbis_geo.db.migrate import upgrade
from vbis_geo.demo.generate import DemoParameters, generate
from vbis_geo.demo.loader import load_demo
from vbis_geo.ingest.admin_units import load_vietnam_provinces
from vbis_geo.ingest.load import IngestOptions, ingest_file
from vbis_geo.settings import Settings

DWC_COLUMNS = {
    "occurrence_id": "occurrenceID",
    "basis_of_record": "basisOfRecord",
    "event_date": "eventDate",
    "recorded_by": "recordedBy",
    "individual_count": "individualCount",
    "coordinate_uncertainty_m": "coordinateUncertaintyInMeters",
    "locality": "locality",
    "lon": "decimalLongitude",
    "lat": "decimalLatitude",
}
RANKS = ("kingdom", "phylum", "class", "order", "family", "genus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    with scratch_database(settings, "vbis_bench_ingest") as (engine, url):
        upgrade(engine)
        with engine.begin() as conn:
            load_vietnam_provinces(conn, settings.shared_data_dir)
            load_demo(conn, DemoParameters(n_occurrences=0), echo=lambda _: None)
        with tempfile.TemporaryDirectory(prefix="vbis-bench-") as tmp:
            csv = Path(tmp) / "occurrences_dwc.csv"
            write_dwc_csv(csv, args.rows)
            size_mb = csv.stat().st_size / 1e6
            times: dict[str, list[float]] = {"ours": [], "ogr2ogr": [], "floor": []}
            for _ in range(args.repeat):
                times["floor"].append(run_floor(engine, csv))
                times["ogr2ogr"].append(run_ogr2ogr(url, csv))
                times["ours"].append(run_ours(engine, csv, args.rows))
        medians = {k: statistics.median(v) for k, v in times.items()}
        print(f"{args.rows:,} Darwin Core rows ({size_mb:,.0f} MB CSV), median of {args.repeat}:")
        for key, label in (
            ("ours", "vbis-geo ingest (validate, match names, COPY, keys and indexes, ANALYZE)"),
            ("ogr2ogr", "ogr2ogr PG_USE_COPY (geometry, GiST index, ANALYZE)"),
            ("floor", "bare COPY into an unindexed table"),
        ):
            runs = ", ".join(f"{t:.1f}" for t in times[key])
            print(f"  {label}: {medians[key]:.1f} s  (runs: {runs})")
        print(f"ours / floor:   {medians['ours'] / medians['floor']:.2f}x (target <= 2.5x)")
        print(f"ours / ogr2ogr: {medians['ours'] / medians['ogr2ogr']:.2f}x (target < 1)")


def write_dwc_csv(path: Path, rows: int) -> None:
    """The demo generator's occurrences as a Darwin Core CSV with names and classification."""
    data = generate(DemoParameters(n_occurrences=rows))
    taxa = {t["key"]: t for t in data.taxa}

    def lineage(key: str) -> dict[str, str]:
        out: dict[str, str] = {}
        taxon: dict | None = taxa[key]
        while taxon is not None:
            if taxon["rank"] in RANKS:
                out[taxon["rank"]] = taxon["scientific_name"]
            taxon = taxa.get(taxon.get("parent_key") or "")
        return out

    keys = data.occurrences["taxon_key"].unique()
    names = pd.DataFrame(
        [{"taxon_key": k, "scientificName": taxa[k]["scientific_name"], **lineage(k)} for k in keys]
    )
    frame = data.occurrences.merge(names, on="taxon_key", how="left").drop(columns="taxon_key")
    frame = frame.rename(columns=DWC_COLUMNS)
    frame["taxonRank"] = "species"
    frame["geodeticDatum"] = "WGS84"
    frame["countryCode"] = "VN"
    frame.to_csv(path, index=False)


def run_floor(engine: sa.Engine, csv: Path) -> float:
    header = csv.open(encoding="utf-8").readline().strip().split(",")
    columns = ", ".join(f'"{c}" text' for c in header)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_floor"))
        conn.execute(sa.text(f"CREATE TABLE bench_floor ({columns})"))
    started = time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy("COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            with csv.open("rb") as fh:
                while block := fh.read(1 << 20):
                    copy.write(block)
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE bench_floor"))
    return elapsed


def run_ogr2ogr(url: sa.URL, csv: Path) -> float:
    pg = f"PG:host={url.host} port={url.port} dbname={url.database} user={url.username}" + (
        f" password={url.password}" if url.password else ""
    )
    env = {**os.environ, "PG_USE_COPY": "YES"}
    started = time.perf_counter()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            pg,
            str(csv),
            "-nln",
            "bench_ogr",
            "-overwrite",
            "-oo",
            "X_POSSIBLE_NAMES=decimalLongitude",
            "-oo",
            "Y_POSSIBLE_NAMES=decimalLatitude",
            "-a_srs",
            "EPSG:4326",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "SPATIAL_INDEX=GIST",
            "-gt",
            "65536",
        ],
        check=True,
        env=env,
    )
    subprocess.run(["psql", _psql_url(url), "-qc", "ANALYZE bench_ogr"], check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["psql", _psql_url(url), "-qc", "DROP TABLE bench_ogr"], check=True)
    return elapsed


def _psql_url(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run_ours(engine: sa.Engine, csv: Path, rows: int) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        report = ingest_file(conn, "occurrences", csv, IngestOptions())
    elapsed = time.perf_counter() - started
    assert report.written and report.n_inserted == rows, report.summary()
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE occurrences"))
        conn.execute(sa.text("DELETE FROM datasets WHERE code LIKE 'ingest:%'"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE occurrences"))
    return elapsed


if __name__ == "__main__":
    main()
