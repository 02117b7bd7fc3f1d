"""Demo load time against the raw COPY floor, in one run on one database.

    .venv/bin/python bench/demo_load.py --occurrences 200000 --repeat 3

Reports the median of each and their ratio. The floor is a bare ``COPY`` of the same occurrence
rows (already formatted) into an unindexed, unconstrained table: what PostgreSQL alone needs.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import time

import sqlalchemy as sa

from vbis_geo.db.engine import make_engine
from vbis_geo.db.migrate import upgrade
from vbis_geo.demo.generate import DemoParameters, generate
from vbis_geo.demo.loader import load_demo
from vbis_geo.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occurrences", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    server = settings.database_url.set(database="postgres")
    name = "vbis_bench_demo_load"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(dataclasses.replace(settings, database_url=server.set(database=name)))
    try:
        upgrade(engine)
        params = DemoParameters(n_occurrences=args.occurrences)
        ours, floor = [], []
        for _ in range(args.repeat):
            with engine.connect() as conn:
                trans = conn.begin()
                started = time.perf_counter()
                load_demo(conn, params, echo=lambda _: None)
                ours.append(time.perf_counter() - started)
                trans.rollback()
            csv_text = _occurrence_csv(params)
            with engine.connect() as conn:
                trans = conn.begin()
                conn.execute(
                    sa.text(
                        "CREATE TEMP TABLE floor (occurrence_id text, taxon text, basis text, "
                        "event_date date, recorded_by text, n int, unc float8, locality text, "
                        "lon float8, lat float8)"
                    )
                )
                cursor = conn.connection.driver_connection.cursor()
                started = time.perf_counter()
                with cursor.copy("COPY floor FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(csv_text)
                floor.append(time.perf_counter() - started)
                trans.rollback()
        m_ours, m_floor = statistics.median(ours), statistics.median(floor)
        print(
            f"demo load, {args.occurrences:,} occurrences + all other layers "
            f"(generate + insert + indexes), median of {args.repeat}: {m_ours:.2f} s"
        )
        print(f"floor, bare COPY of the same occurrence rows, median: {m_floor:.2f} s")
        print(f"ratio: {m_ours / m_floor:.1f}x the floor")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _occurrence_csv(params: DemoParameters) -> str:
    frame = generate(params).occurrences
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    return buffer.getvalue()


if __name__ == "__main__":
    main()
