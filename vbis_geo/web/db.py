"""One engine per application; a connection per request, released on teardown."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.engine import Connection, Engine

from vbis_geo.db.engine import make_engine
from vbis_geo.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["vbis_engine"] = make_engine(settings, pool_size=5, max_overflow=10)
    app.teardown_appcontext(_close_connection)


def engine() -> Engine:
    from flask import current_app

    return current_app.extensions["vbis_engine"]  # type: ignore[no-any-return]


def connection() -> Connection:
    """The request's database connection (opened on first use)."""
    if "vbis_conn" not in g:
        g.vbis_conn = engine().connect()
    return g.vbis_conn  # type: ignore[no-any-return]


def _close_connection(_exc: BaseException | None) -> None:
    conn = g.pop("vbis_conn", None)
    if conn is not None:
        conn.close()
