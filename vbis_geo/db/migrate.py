"""Run the Alembic migrations in ``migrations/`` against the configured database."""

from __future__ import annotations

import functools
from types import ModuleType

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from vbis_geo.db.engine import database_unavailable
from vbis_geo.settings import PROJECT_DIR

MIGRATIONS_DIR = PROJECT_DIR / "migrations"
#: PostGIS and its extensions own these tables; they are never part of vbis-geo's schema
FOREIGN_TABLES = {"spatial_ref_sys", "topology", "layer"}
#: the schemas the models describe (None: the default one); ``analysis``, ``publish`` and
#: ``history`` (copies of the editable tables, migration 0010) are written by their migrations
#: alone
MODEL_SCHEMAS = {None, "auth"}


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Autogenerate filter: compare the schemas the models describe, no others."""
    if type_ == "schema":
        return name in MODEL_SCHEMAS
    return True


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Autogenerate filter: vbis-geo's objects only, geometry indexes as GeoAlchemy2 sees them."""
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def alembic_config() -> Config:
    """The Alembic configuration of ``migrations/`` (the same file the alembic CLI reads)."""
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def earlier_migration(revision_id: str) -> ModuleType:
    """The module of an earlier migration, for the SQL it wrote: a later one builds on it, and
    its downgrade restores exactly that."""
    script = _scripts().get_revision(revision_id)
    assert script is not None, revision_id
    return script.module


@functools.cache
def _scripts() -> ScriptDirectory:
    """The migrations of ``migrations/``, each file read once per process (a full upgrade asks
    for earlier migrations eight times)."""
    return ScriptDirectory.from_config(alembic_config())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` up to ``revision`` (in one transaction)."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise database_unavailable(engine.url, exc) from None


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(engine: Engine, fn, revision: str) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            fn(config, revision)
    except OperationalError as exc:
        raise database_unavailable(engine.url, exc) from None
