"""Exact row counts of the published tables in publish.layer_state, kept by statement triggers
with transition tables, so that an unfiltered numberMatched is exact and costs nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
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
    op.execute("ALTER TABLE publish.layer_state ADD COLUMN n_rows bigint NOT NULL DEFAULT 0")
    op.execute(
        """
        CREATE FUNCTION publish.count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(),
                n_rows = n_rows + (SELECT count(*) FROM new_rows)
            WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION publish.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(),
                n_rows = n_rows - (SELECT count(*) FROM old_rows)
            WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION publish.count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(), n_rows = 0
            WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    for table in PUBLISHED:
        # the one trigger of 0003 stays for updates; inserts, deletes and truncates count
        op.execute(f"DROP TRIGGER publish_version ON {table}")
        op.execute(
            f"CREATE TRIGGER publish_version AFTER UPDATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION publish.bump_layer_version()"
        )
        op.execute(
            f"CREATE TRIGGER publish_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
            "new_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.count_inserted()"
        )
        op.execute(
            f"CREATE TRIGGER publish_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
            "old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.count_deleted()"
        )
        op.execute(
            f"CREATE TRIGGER publish_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION publish.count_truncated()"
        )
        op.execute(
            f"UPDATE publish.layer_state SET n_rows = (SELECT count(*) FROM {table}) "  # noqa: S608
            f"WHERE layer = '{table}'"
        )


def downgrade() -> None:
    for table in PUBLISHED:
        for trigger in ("publish_inserted", "publish_deleted", "publish_truncated"):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        op.execute(f"DROP TRIGGER publish_version ON {table}")
        op.execute(
            f"CREATE TRIGGER publish_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION publish.bump_layer_version()"
        )
    for function in ("count_inserted", "count_deleted", "count_truncated"):
        op.execute(f"DROP FUNCTION publish.{function}()")
    op.execute("ALTER TABLE publish.layer_state DROP COLUMN n_rows")
