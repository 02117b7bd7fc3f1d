"""Test fixtures: a fresh PostGIS database per run, a rolled-back connection per test.

The database server is the one of the settings (the embedded cluster, started here if needed,
or ``VBIS_DATABASE_URL``'s server). Each run creates ``vbis_test_<random>``, migrates it, loads the
real provinces and a small demo dataset once, and drops it at the end. Tests that write use the
``conn`` fixture, whose transaction is rolled back, so each test sees the same database.

With ``VBIS_STRICT_TESTS=1`` (what ``make test`` and CI set) a skipped test fails the run: a
database test or a test of the shared data that cannot run is a failure, not a skip.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from vbis_geo.settings import Settings

STRICT = os.environ.get("VBIS_STRICT_TESTS") == "1"
#: size of the demo dataset the test database holds (the real demo has 200,000)
TEST_DEMO_OCCURRENCES = 20_000
LANDCOVER = "vn-landcover-chetao-cgls100m/LandCover.tif"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under VBIS_STRICT_TESTS=1 (a skip is a failure here): {reason}"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def shared_data(settings: Settings) -> Path:
    """The real geodata folder (../shared/data)."""
    if not settings.shared_data_dir.is_dir():
        pytest.skip(f"shared data not found at {settings.shared_data_dir}")
    return settings.shared_data_dir


@pytest.fixture(scope="session")
def server_url(settings: Settings) -> URL:
    """URL of the maintenance database of the server the tests run on (started if embedded)."""
    if settings.embedded_database:
        from vbis_geo.db.cluster import EmbeddedCluster

        EmbeddedCluster(settings).start()
    return settings.database_url.set(database="postgres")


def create_database(server_url: URL, prefix: str = "vbis_test") -> URL:
    """Create an empty database with a random name on the server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.set(database=name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drop_database(url: URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def test_settings(settings: Settings, server_url: URL, shared_data: Path) -> Iterator[Settings]:
    """Settings pointing at this run's database: migrated, provinces and a small demo loaded."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.db.migrate import upgrade
    from vbis_geo.demo.generate import DemoParameters
    from vbis_geo.demo.loader import load_demo
    from vbis_geo.ingest.admin_units import load_vietnam_provinces
    from vbis_geo.ingest.rasters import load_raster

    url = create_database(server_url)
    # the live server of the real-client tests listens here; pygeoapi writes it into its links
    test = dataclasses.replace(
        settings, database_url=url, public_url=f"http://127.0.0.1:{free_port()}"
    )
    engine = make_engine(test)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            load_vietnam_provinces(conn, shared_data)
            # the land-cover COG the coverage collection serves (under the var directory)
            load_raster(conn, test, "landcover", shared_data / LANDCOVER)
            load_demo(
                conn, DemoParameters(n_occurrences=TEST_DEMO_OCCURRENCES), echo=lambda _: None
            )
        yield test
    finally:
        engine.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def engine(test_settings: Settings) -> Iterator[Engine]:
    from vbis_geo.db.engine import make_engine

    eng = make_engine(test_settings)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="session")
def app(test_settings: Settings):  # type: ignore[no-untyped-def]
    """The whole application (portal, /api and pygeoapi at /ogc) on the test database."""
    from vbis_geo.web import create_app

    return create_app(test_settings)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app, test_settings: Settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The application served over real HTTP (for GDAL, OWSLib and browsers); its base URL."""
    from werkzeug.serving import make_server

    port = int(test_settings.public_url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield test_settings.public_url
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def make_account(engine: Engine):  # type: ignore[no-untyped-def]
    """Create accounts (committed, through the functions ``vbis-geo users add`` calls); they,
    their tokens and every failed-login count are deleted after the test."""
    from vbis_geo.auth.store import create_account

    created: list[str] = []

    def make(username: str, role: str = "national_admin", **kwargs):  # type: ignore[no-untyped-def]
        with engine.begin() as conn:
            account = create_account(conn, username, role=role, **kwargs)
        created.append(account.username)
        return account

    yield make
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM auth.accounts WHERE username = ANY(:names)"), {"names": created}
        )
        conn.execute(sa.text("DELETE FROM auth.login_failures"))


def make_token(engine: Engine, account_id: int, name: str = "test", days: int = 90) -> str:
    """A new API token of the account (committed); returns its secret."""
    from vbis_geo.auth.store import create_token

    with engine.begin() as conn:
        _, secret = create_token(conn, account_id, name, days)
    return secret
