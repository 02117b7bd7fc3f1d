"""Migrations: up from empty, down to base, up again; models and migrations agree."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import create_database, drop_database
from vbis_geo.db import models  # noqa: F401
from vbis_geo.db.base import Base
from vbis_geo.db.migrate import (
    current_revision,
    downgrade,
    head_revision,
    include_name,
    include_object,
    upgrade,
)

pytestmark = pytest.mark.db

APP_TABLES = {
    "admin_units",
    "admin_unit_lineage",
    "protected_areas",
    "pa_designations",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "taxa",
    "taxon_statuses",
    "sensitivity_overrides",
    "occurrences",
    "datasets",
}
AUTH_TABLES = {"accounts", "account_scopes", "api_tokens", "login_failures", "public_contributions"}
#: one history table per editable table (migrations 0010, 0018)
HISTORY_TABLES = APP_TABLES - {"admin_unit_lineage", "datasets"}


@pytest.fixture
def empty_engine(server_url):
    url = create_database(server_url, "vbis_test_migrations")
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()
    drop_database(url)


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}


def test_up_down_up(empty_engine):
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert _tables(empty_engine) == APP_TABLES
    assert set(sa.inspect(empty_engine).get_table_names(schema="auth")) == AUTH_TABLES
    assert set(sa.inspect(empty_engine).get_table_names(schema="history")) == HISTORY_TABLES

    downgrade(empty_engine, "base")
    assert current_revision(empty_engine) is None
    assert _tables(empty_engine) == set()
    assert "auth" not in sa.inspect(empty_engine).get_schema_names()
    assert "history" not in sa.inspect(empty_engine).get_schema_names()

    upgrade(empty_engine)
    assert _tables(empty_engine) == APP_TABLES


def test_autogenerate_finds_no_difference(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": include_object,
                "include_schemas": True,  # auth as well as public
                "include_name": include_name,
                "compare_type": True,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_gist_index_on_every_geometry(engine):
    rows = (
        engine.connect()
        .execute(
            sa.text(
                """
            SELECT c.f_table_name, c.f_geometry_column, c.type, c.srid,
                   EXISTS (SELECT 1 FROM pg_indexes i WHERE i.tablename = c.f_table_name
                           AND i.indexdef ILIKE '%USING gist (' || c.f_geometry_column || ')%')
            FROM geometry_columns c WHERE c.f_table_schema = 'public'
            """
            )
        )
        .all()
    )
    assert {r[0] for r in rows} >= APP_TABLES - {
        "admin_unit_lineage",
        "pa_designations",
        "taxa",
        "taxon_statuses",
        "sensitivity_overrides",
    }
    for table, column, geometry_type, srid, has_gist in rows:
        assert srid == 4326, table
        assert geometry_type in ("POINT", "MULTIPOLYGON", "POLYGON"), table
        assert has_gist, f"{table}.{column} has no GiST index"
