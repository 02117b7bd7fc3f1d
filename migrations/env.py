"""Alembic environment, wired with GeoAlchemy2's alembic helpers.

The database is the one of ``vbis_geo.settings`` unless the caller hands over a connection
(``config.attributes["connection"]``), which is how ``vbis_geo.db.migrate`` and the tests run it.
"""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import engine_from_config, pool

from vbis_geo.db import models  # noqa: F401  (registers every table on Base.metadata)
from vbis_geo.db.base import Base
from vbis_geo.db.migrate import include_name, include_object
from vbis_geo.settings import Settings

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_schemas=True,
        include_name=include_name,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        compare_server_default=False,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = Settings.from_env().database_url.render_as_string(hide_password=False)
    engine = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("vbis-geo migrations run online only (they create PostGIS extensions)")
run_migrations_online()
