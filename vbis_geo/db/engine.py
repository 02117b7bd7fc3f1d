"""Engine creation and the checks that turn connection failures into one clear message."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError

from vbis_geo.errors import DatabaseUnavailable, PostGISMissing
from vbis_geo.settings import Settings


def make_engine(settings: Settings, **kwargs: object) -> Engine:
    """Return an engine for the configured database (no connection is made yet)."""
    return sa.create_engine(
        settings.database_url,
        pool_pre_ping=True,
        connect_args={"application_name": "vbis-geo", "connect_timeout": 5},
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class ServerInfo:
    """Versions reported by ``/api/health`` and ``vbis-geo db status``."""

    postgresql: str
    postgis: str


def server_info(engine: Engine) -> ServerInfo:
    """Return the PostgreSQL and PostGIS versions of the database behind ``engine``.

    Raises :class:`DatabaseUnavailable` if it cannot be reached and :class:`PostGISMissing` if
    the PostGIS extension is not installed in that database.
    """
    try:
        with engine.connect() as conn:
            pg = conn.execute(sa.text("SHOW server_version")).scalar_one()
            postgis = conn.execute(
                sa.text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar()
    except OperationalError as exc:
        raise database_unavailable(engine.url, exc) from None
    if postgis is None:
        raise PostGISMissing(
            f"the database {engine.url.database!r} has no PostGIS extension",
            hint="run `vbis-geo db upgrade` (it creates the extension), or as a superuser: "
            "CREATE EXTENSION postgis; on Debian install it with "
            "`apt-get install postgresql-15-postgis-3`",
        )
    return ServerInfo(postgresql=str(pg).split(" ")[0], postgis=str(postgis))


def database_unavailable(url: URL, exc: Exception) -> DatabaseUnavailable:
    """Build the one-line error for a failed connection, naming the likely cause."""
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    where = url.render_as_string(hide_password=True)
    if "does not exist" in detail and "database" in detail:
        hint = f"create the database {url.database!r} or fix VBIS_DATABASE_URL"
    elif "password authentication failed" in detail or "role" in detail:
        hint = "check the user and password in VBIS_DATABASE_URL"
    else:
        hint = (
            "start the embedded database with `make db` (or `vbis-geo db start`), "
            "or set VBIS_DATABASE_URL to a reachable PostgreSQL server"
        )
    return DatabaseUnavailable(f"cannot connect to {where}: {detail}", hint=hint)
