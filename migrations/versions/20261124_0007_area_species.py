"""Species per area, counted once: what all-area questions (richness per protected area or
province) read instead of joining every record.

``analysis.area_species`` holds, per (area, species), the number of records and the first and
last record date, from ``analysis.occurrence_areas`` and ``analysis.taxon_species``. Any change
of occurrences, areas or taxa marks it stale (a statement trigger, no work per row), and the next
question recounts it (``analysis.rebuild_area_species``: about half a second per million
records), so an answer never misses a change. Questions *as of* a date still read the records,
since they filter by record date.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SOURCES = (
    "occurrences",
    "taxa",
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
)


def upgrade() -> None:
    op.execute(
        "CREATE TABLE analysis.area_species (layer text NOT NULL, area_id bigint NOT NULL, "
        "species_id bigint NOT NULL, records bigint NOT NULL, first_record date, "
        "last_record date, PRIMARY KEY (layer, area_id, species_id))"
    )
    op.execute("INSERT INTO analysis.state VALUES ('area_species', true)")
    op.execute(
        """
        CREATE FUNCTION analysis.area_species_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analysis.state SET stale = true WHERE name = 'area_species' AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION analysis.rebuild_area_species() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            TRUNCATE analysis.area_species;
            INSERT INTO analysis.area_species
            SELECT a.layer, a.area_id, ts.species_id, count(*), min(o.event_date),
                   max(o.event_date)
            FROM analysis.occurrence_areas a
            JOIN public.occurrences o ON o.id = a.occurrence_id
            JOIN analysis.taxon_species ts ON ts.taxon_id = o.taxon_id
            WHERE ts.species_id IS NOT NULL
            GROUP BY 1, 2, 3;
            UPDATE analysis.state SET stale = false WHERE name = 'area_species';
            ANALYZE analysis.area_species;
        END $$
        """
    )
    for table in SOURCES:
        op.execute(
            f"CREATE TRIGGER analysis_area_species AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION analysis.area_species_changed()"
        )


def downgrade() -> None:
    for table in SOURCES:
        op.execute(f"DROP TRIGGER IF EXISTS analysis_area_species ON {table}")
    op.execute("DROP FUNCTION IF EXISTS analysis.rebuild_area_species()")
    op.execute("DROP FUNCTION IF EXISTS analysis.area_species_changed()")
    op.execute("DELETE FROM analysis.state WHERE name = 'area_species'")
    op.execute("DROP TABLE IF EXISTS analysis.area_species")
