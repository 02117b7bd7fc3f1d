"""Publishing state: a version per published table, bumped by triggers on every change, and a
tile cache keyed by it (so an edit or a load is visible in tiles at once).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PUBLISHED = (
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "taxa",
    "taxon_statuses",
    "datasets",
)


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS publish")
    op.execute(
        "CREATE TABLE publish.layer_state (layer text PRIMARY KEY, version bigint NOT NULL "
        "DEFAULT 1, changed_at timestamptz NOT NULL DEFAULT now())"
    )
    op.execute(
        "CREATE UNLOGGED TABLE publish.tile_cache (layer text NOT NULL, version bigint NOT NULL, "
        "tms text NOT NULL, z int NOT NULL, x int NOT NULL, y int NOT NULL, tile bytea NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (layer, version, tms, z, x, y))"
    )
    op.execute(
        """
        CREATE FUNCTION publish.bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO publish.layer_state (layer, version, changed_at)
            VALUES (TG_TABLE_NAME, 1, now())
            ON CONFLICT (layer) DO UPDATE
            SET version = publish.layer_state.version + 1, changed_at = now();
            RETURN NULL;
        END $$
        """
    )
    for table in PUBLISHED:
        op.execute(f"INSERT INTO publish.layer_state (layer) VALUES ('{table}')")  # noqa: S608 (a constant table name)
        op.execute(
            f"CREATE TRIGGER publish_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION publish.bump_layer_version()"
        )


def downgrade() -> None:
    for table in PUBLISHED:
        op.execute(f"DROP TRIGGER IF EXISTS publish_version ON {table}")
    op.execute("DROP SCHEMA publish CASCADE")
