"""What spatial questions read: every occurrence's areas, and every taxon's species.

* ``analysis.area_parts``: each area (protected areas, zones, wetlands, ecosystems, planning
  zones, provinces of every date) cut by ``ST_Subdivide`` into parts of at most 128 vertices,
  so that a point-in-area test reads a small polygon whatever the area's complexity.
* ``analysis.occurrence_areas``: one row per (occurrence, area) where the point intersects the
  area -- a point on a boundary belongs to the area (``ST_Intersects``). Statement triggers keep
  it current: area changes recompute that area's rows, occurrence statements of up to
  ``DELTA_LIMIT`` rows add or remove theirs; a bigger statement (a bulk load) marks it stale in
  ``analysis.state``, and the next question rebuilds it (``analysis.rebuild_occurrence_areas``)
  before reading, so an answer never misses a change.
* ``analysis.taxon_species``: for each taxon, the species it counts as (synonyms through their
  accepted name, subspecies, varieties and forms through their parent species; NULL above the
  species rank) and the names of its class, order and family; a change of ``taxa`` marks it
  stale and the next question recomputes it (a fraction of a second).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

AREA_LAYERS = (
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
)
#: an occurrence statement changing more rows than this marks the assignment stale
DELTA_LIMIT = 50_000
#: vertices per subdivided part
PART_VERTICES = 128


def _parts(source: str, layer: str = "TG_TABLE_NAME") -> str:
    return f"""
        INSERT INTO analysis.area_parts (layer, area_id, geom)
        SELECT {layer}, r.id, ST_Subdivide(r.geom, {PART_VERTICES}) FROM {source} AS r
        WHERE r.geom IS NOT NULL;
    """


def _assign_areas(ids: str) -> str:
    """Assignment rows of the areas of this trigger's table whose ids ``ids`` selects."""
    return f"""
        INSERT INTO analysis.occurrence_areas (layer, area_id, occurrence_id)
        SELECT DISTINCT p.layer, p.area_id, o.id
        FROM analysis.area_parts AS p JOIN public.occurrences AS o ON ST_Intersects(p.geom, o.geom)
        WHERE p.layer = TG_TABLE_NAME AND p.area_id IN ({ids})
        ON CONFLICT DO NOTHING;
    """


def _assign_occurrences(source: str) -> str:
    return f"""
        INSERT INTO analysis.occurrence_areas (layer, area_id, occurrence_id)
        SELECT DISTINCT p.layer, p.area_id, o.id
        FROM {source} AS o JOIN analysis.area_parts AS p ON ST_Intersects(p.geom, o.geom)
        WHERE o.geom IS NOT NULL
        ON CONFLICT DO NOTHING;
    """


def _unassign_occurrences(source: str) -> str:
    return f"""
        DELETE FROM analysis.occurrence_areas AS a USING {source} AS o
        WHERE a.occurrence_id = o.id;
    """


def _big(source: str) -> str:
    return f"(SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT {DELTA_LIMIT + 1}) AS s) > {DELTA_LIMIT}"


def _occurrence_trigger(name: str, body: str, source: str) -> str:
    return f"""
        CREATE FUNCTION analysis.occurrences_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT stale FROM analysis.state WHERE name = 'occurrence_areas') THEN
                RETURN NULL;  -- the rebuild will assign these rows
            END IF;
            IF {_big(source)} THEN
                UPDATE analysis.state SET stale = true WHERE name = 'occurrence_areas';
                DELETE FROM analysis.occurrence_areas;
                RETURN NULL;
            END IF;
            {body}
            RETURN NULL;
        END $$
    """


def upgrade() -> None:
    op.execute("CREATE SCHEMA analysis")
    op.execute("CREATE TABLE analysis.state (name text PRIMARY KEY, stale boolean NOT NULL)")
    op.execute("INSERT INTO analysis.state VALUES ('occurrence_areas', true)")
    op.execute("INSERT INTO analysis.state VALUES ('taxon_species', false)")
    op.execute(
        "CREATE TABLE analysis.area_parts (layer text NOT NULL, area_id bigint NOT NULL, "
        "geom geometry(Polygon, 4326) NOT NULL)"
    )
    op.execute("CREATE INDEX ix_area_parts_geom ON analysis.area_parts USING gist (geom)")
    op.execute("CREATE INDEX ix_area_parts_area ON analysis.area_parts (layer, area_id)")
    op.execute(
        "CREATE TABLE analysis.occurrence_areas (layer text NOT NULL, area_id bigint NOT NULL, "
        "occurrence_id bigint NOT NULL, PRIMARY KEY (layer, area_id, occurrence_id))"
    )
    op.execute(
        "CREATE INDEX ix_occurrence_areas_occurrence ON analysis.occurrence_areas (occurrence_id)"
    )

    # -- areas: their parts and their occurrences follow every change -------------------------
    op.execute(
        f"""
        CREATE FUNCTION analysis.areas_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_parts("new_rows")}
            IF NOT (SELECT stale FROM analysis.state WHERE name = 'occurrence_areas') THEN
                {_assign_areas("SELECT id FROM new_rows")}
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION analysis.areas_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM analysis.area_parts AS p USING old_rows AS o
            WHERE p.layer = TG_TABLE_NAME AND p.area_id = o.id;
            DELETE FROM analysis.occurrence_areas AS a USING old_rows AS o
            WHERE a.layer = TG_TABLE_NAME AND a.area_id = o.id;
            RETURN NULL;
        END $$
        """
    )
    # only areas whose geometry (or id) changed are recomputed: an edit of a name costs nothing
    moved = (
        "SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id "
        "WHERE ST_AsEWKB(n.geom) IS DISTINCT FROM ST_AsEWKB(o.geom) "
        "UNION SELECT o.id FROM old_rows AS o WHERE o.id NOT IN (SELECT id FROM new_rows) "
        "UNION SELECT n.id FROM new_rows AS n WHERE n.id NOT IN (SELECT id FROM old_rows)"
    )
    op.execute(
        f"""
        CREATE FUNCTION analysis.areas_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM analysis.area_parts AS p
            WHERE p.layer = TG_TABLE_NAME AND p.area_id IN ({moved});
            DELETE FROM analysis.occurrence_areas AS a
            WHERE a.layer = TG_TABLE_NAME AND a.area_id IN ({moved});
            {_parts(f"(SELECT * FROM new_rows WHERE id IN ({moved}))")}
            IF NOT (SELECT stale FROM analysis.state WHERE name = 'occurrence_areas') THEN
                {_assign_areas(moved)}
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION analysis.areas_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM analysis.area_parts WHERE layer = TG_TABLE_NAME;
            DELETE FROM analysis.occurrence_areas WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    for table in AREA_LAYERS:
        for event, name, ref in (
            ("INSERT", "inserted", "REFERENCING NEW TABLE AS new_rows"),
            ("DELETE", "deleted", "REFERENCING OLD TABLE AS old_rows"),
            ("UPDATE", "updated", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("TRUNCATE", "truncated", ""),
        ):
            op.execute(
                f"CREATE TRIGGER analysis_{name} AFTER {event} ON {table} {ref} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION analysis.areas_{name}()"
            )
        op.execute(_parts(table, f"'{table}'"))

    # -- occurrences: their areas follow every change -----------------------------------------
    op.execute(_occurrence_trigger("inserted", _assign_occurrences("new_rows"), "new_rows"))
    op.execute(_occurrence_trigger("deleted", _unassign_occurrences("old_rows"), "old_rows"))
    op.execute(
        _occurrence_trigger(
            "updated",
            _unassign_occurrences("old_rows") + _assign_occurrences("new_rows"),
            "old_rows",
        )
    )
    op.execute(
        """
        CREATE FUNCTION analysis.occurrences_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM analysis.occurrence_areas;
            UPDATE analysis.state SET stale = false WHERE name = 'occurrence_areas';
            RETURN NULL;
        END $$
        """
    )
    for event, name, ref in (
        ("INSERT", "inserted", "REFERENCING NEW TABLE AS new_rows"),
        ("DELETE", "deleted", "REFERENCING OLD TABLE AS old_rows"),
        ("UPDATE", "updated", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("TRUNCATE", "truncated", ""),
    ):
        op.execute(
            f"CREATE TRIGGER analysis_{name} AFTER {event} ON occurrences {ref} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION analysis.occurrences_{name}()"
        )
    # the whole assignment, recomputed under locks that let readers on and hold writers of
    # occurrences and areas back, so that no change is assigned twice or missed
    tables = ", ".join(f"public.{t}" for t in ("occurrences", *AREA_LAYERS))
    op.execute(
        f"""
        CREATE FUNCTION analysis.rebuild_occurrence_areas() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            LOCK TABLE {tables} IN SHARE MODE;
            -- a new table filled by one (parallel) CREATE TABLE AS and indexed afterwards,
            -- then swapped in: twice as fast as inserting into the indexed table
            CREATE TABLE analysis.occurrence_areas_new AS
            SELECT DISTINCT p.layer, p.area_id, o.id AS occurrence_id
            FROM analysis.area_parts AS p JOIN public.occurrences AS o
              ON ST_Intersects(p.geom, o.geom);
            ALTER TABLE analysis.occurrence_areas_new
              ALTER COLUMN layer SET NOT NULL, ALTER COLUMN area_id SET NOT NULL,
              ALTER COLUMN occurrence_id SET NOT NULL;
            DROP TABLE analysis.occurrence_areas;
            ALTER TABLE analysis.occurrence_areas_new RENAME TO occurrence_areas;
            ALTER TABLE analysis.occurrence_areas
              ADD CONSTRAINT occurrence_areas_pkey PRIMARY KEY (layer, area_id, occurrence_id);
            CREATE INDEX ix_occurrence_areas_occurrence
              ON analysis.occurrence_areas (occurrence_id);
            UPDATE analysis.state SET stale = false WHERE name = 'occurrence_areas';
            ANALYZE analysis.occurrence_areas;
        END $$
        """
    )

    # -- taxa: the species each taxon counts as ---------------------------------------------
    op.execute(
        "CREATE TABLE analysis.taxon_species (taxon_id bigint PRIMARY KEY, species_id bigint, "
        'kingdom text, phylum text, class text, "order" text, family text)'
    )
    op.execute("CREATE INDEX ix_taxon_species_species ON analysis.taxon_species (species_id)")
    op.execute(
        """
        CREATE FUNCTION analysis.refresh_taxon_species() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- recomputed before the next question reads it: loads insert taxa a statement
            -- at a time (parents first), and a recount per statement would be quadratic
            UPDATE analysis.state SET stale = true WHERE name = 'taxon_species' AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION analysis.recompute_taxon_species() RETURNS void LANGUAGE sql AS $$
            UPDATE analysis.state SET stale = false WHERE name = 'taxon_species';
            DELETE FROM analysis.taxon_species;
            -- each taxon's accepted taxon, then the chain of its ancestors
            WITH RECURSIVE accepted AS (
                SELECT t.id AS taxon_id, coalesce(t.accepted_id, t.id) AS accepted_id FROM taxa t
            ), chain AS (
                SELECT a.taxon_id, t.id AS ancestor_id, t.rank, t.scientific_name, t.parent_id,
                       0 AS depth
                FROM accepted a JOIN taxa t ON t.id = a.accepted_id
                UNION ALL
                SELECT c.taxon_id, p.id, p.rank, p.scientific_name, p.parent_id, c.depth + 1
                FROM chain c JOIN taxa p ON p.id = c.parent_id
                WHERE c.depth < 40
            )
            INSERT INTO analysis.taxon_species
            SELECT taxon_id,
                   max(ancestor_id) FILTER (WHERE rank = 'species'),
                   max(scientific_name) FILTER (WHERE rank = 'kingdom'),
                   max(scientific_name) FILTER (WHERE rank = 'phylum'),
                   max(scientific_name) FILTER (WHERE rank = 'class'),
                   max(scientific_name) FILTER (WHERE rank = 'order'),
                   max(scientific_name) FILTER (WHERE rank = 'family')
            FROM chain GROUP BY taxon_id;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER analysis_taxon_species AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON taxa FOR EACH STATEMENT EXECUTE FUNCTION analysis.refresh_taxon_species()"
    )
    op.execute("SELECT analysis.recompute_taxon_species()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS analysis_taxon_species ON taxa")
    for table in ("occurrences", *AREA_LAYERS):
        for name in ("inserted", "deleted", "updated", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS analysis_{name} ON {table}")
    op.execute("DROP SCHEMA analysis CASCADE")
