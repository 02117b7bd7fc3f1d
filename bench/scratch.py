"""A scratch database for one benchmark run, on the configured server, dropped afterwards."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from vbis_geo.db.engine import make_engine
from vbis_geo.settings import Settings


@contextmanager
def scratch_database(settings: Settings, name: str) -> Iterator[tuple[sa.Engine, sa.URL]]:
    """An engine on a fresh database ``name`` (and its URL); the database is dropped after."""
    server = settings.database_url.set(database="postgres")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    engine = make_engine(dataclasses.replace(settings, database_url=url))
    try:
        yield engine, url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
