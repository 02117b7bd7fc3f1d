"""Review of contributed rows, and the locations the public sees of sensitive species' records.

**Review.** The layers people contribute to (occurrences and the area and facility layers) get
``review_status`` (draft, published, rejected), ``submitted_by``, ``reviewed_by``,
``reviewed_at`` and ``review_reason`` (a rejection must give one). Existing rows, and rows loaded
or edited by those who publish directly, are ``published``; contributions by experts and the
public go in as ``draft`` (vbis_geo/auth/SECURITY.md). The public reads published rows only.
Their history tables take the new columns (``history.enable``).

**Public locations.** A record of a taxon with a sensitivity level (migration 0009: 1, 10 or 25
km) is shown to those without the right to exact locations at the centre of its cell in an
equal-area grid of that size (EPSG:6933, WGS 84 / NSIDC EASE-Grid 2.0 Global, so that a cell is
the same area anywhere in Vietnam): ``publish.cell_centre(geom, km)``. A record's level is its
taxon's override in the province its point lies in (``sensitivity_overrides`` with a province;
the override of the taxon's species counts for its synonyms and infraspecific taxa), else its
taxon's national level (``analysis.taxon_sensitivity``). Where a point lies in several units
with overrides (a unit of the 63 and one of the 34), the highest level wins.

``publish.occurrence_public (id, level_km, geom)`` holds the generalised point of every
sensitive record, and only those (a few per cent of the rows), with a GiST index, so that a bbox
or a spatial filter on the generalised points is an index search like one on the exact points.
It is kept like ``analysis.occurrence_areas`` (migration 0006): statement triggers on
``occurrences`` add and remove the rows a statement of up to ``DELTA_LIMIT`` rows changes; a
bigger statement, a change of sensitivity (statuses, overrides, taxa) or of the provinces marks
it stale in ``analysis.state`` (``occurrence_public``), and
:func:`vbis_geo.analysis.assignment.ensure_current` rebuilds it
(``publish.rebuild_occurrence_public()``) before any read for the public. So a taxon whose
status changes takes its records with it at once.

``publish.public_occurrences`` is what the public sees: the published records, each at its exact
point if its level is 0, else at its generalised point with ``locality`` and
``occurrence_remarks`` withheld (they may name the spot) and ``coordinate_uncertainty_m`` at
least the distance from the cell's centre to its corner; ``generalised_km`` says which. It is a
UNION ALL of the two kinds, so a filter on ``geom`` reaches the GiST index of each. It refuses to
answer (SQLSTATE 55000) while the generalised points or the levels they come from are stale, so
a read path that did not bring them current first fails rather than show an exact location.
``publish.published_occurrences``, with the same columns, is what those with the right to exact
locations read: every published record at its exact point. A migration
that changes the columns of ``occurrences`` recreates the view (PostgreSQL refuses to drop a
column a view reads).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: the tables whose rows are contributed and reviewed
REVIEWED = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
)
#: a statement changing more rows than this marks the public points stale (as in 0005, 0006)
DELTA_LIMIT = 50_000

#: the columns of occurrences the view passes through unchanged
PASSED = (
    "id",
    "occurrence_id",
    "taxon_id",
    "basis_of_record",
    "event_date",
    "event_date_end",
    "recorded_by",
    "individual_count",
    "verbatim_scientific_name",
    "dataset_id",
    "created_at",
    "updated_at",
)


def _public_rows(source: str) -> str:
    """SELECT (id, level_km, geom) of the sensitive records of ``source``, generalised."""
    return f"""
        SELECT r.id, l.level_km, publish.cell_centre(r.geom, l.level_km)
        FROM {source} AS r
        JOIN analysis.taxon_sensitivity AS s ON s.taxon_id = r.taxon_id
        CROSS JOIN LATERAL (
            SELECT coalesce((
                SELECT max(v.level_km)
                FROM public.sensitivity_overrides AS v
                JOIN public.admin_units AS a ON a.code = v.province_code
                WHERE v.province_code IS NOT NULL
                  AND (v.taxon_id = r.taxon_id OR v.taxon_id = (
                        SELECT ts.species_id FROM analysis.taxon_species AS ts
                        WHERE ts.taxon_id = r.taxon_id))
                  AND ST_Intersects(a.geom, r.geom)
            ), s.level_km) AS level_km
        ) AS l
        WHERE l.level_km > 0
    """


_STALE_INPUTS = (
    "(SELECT bool_or(stale) FROM analysis.state "
    "WHERE name IN ('occurrence_public', 'taxon_sensitivity', 'taxon_species'))"
)


def _trigger(name: str, body: str, big_source: str | None) -> str:
    big = (
        f"""
            IF (SELECT count(*) FROM (SELECT 1 FROM {big_source} LIMIT {DELTA_LIMIT + 1}) AS s)
               > {DELTA_LIMIT} THEN
                UPDATE analysis.state SET stale = true WHERE name = 'occurrence_public';
                RETURN NULL;
            END IF;"""
        if big_source
        else ""
    )
    return f"""
        CREATE FUNCTION publish.occurrence_public_{name}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
        BEGIN
            IF {_STALE_INPUTS} THEN
                -- the levels it would read may be out of date: the rebuild will place these rows
                UPDATE analysis.state SET stale = true WHERE name = 'occurrence_public';
                RETURN NULL;
            END IF;{big}
            {body}
            RETURN NULL;
        END $$
    """


def _delete(source: str) -> str:
    return f"DELETE FROM publish.occurrence_public AS p USING {source} AS o WHERE p.id = o.id;"


def _insert(source: str) -> str:
    return f"INSERT INTO publish.occurrence_public (id, level_km, geom) {_public_rows(source)};"


def upgrade() -> None:
    for table in REVIEWED:
        op.add_column(
            table,
            sa.Column("review_status", sa.String(10), server_default="published", nullable=False),
        )
        op.add_column(table, sa.Column("reviewed_at", sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column("review_reason", sa.Text))
        for column in ("submitted_by", "reviewed_by"):
            op.add_column(table, sa.Column(column, sa.Integer))
            op.create_foreign_key(
                op.f(f"fk_{table}_{column}_accounts"),
                table,
                "accounts",
                [column],
                ["id"],
                referent_schema="auth",
                ondelete="SET NULL",
            )
        op.create_check_constraint(
            op.f(f"ck_{table}_review_status_allowed"),
            table,
            "review_status IN ('draft', 'published', 'rejected')",
        )
        op.create_check_constraint(
            op.f(f"ck_{table}_rejection_reason_given"),
            table,
            "review_status <> 'rejected' OR char_length(btrim(review_reason)) > 0",
        )
        op.create_index(op.f(f"ix_{table}_review_status"), table, ["review_status"])
        op.execute(f"SELECT history.enable('{table}')")  # noqa: S608 (a constant table name)

    op.execute(
        """
        CREATE FUNCTION publish.cell_centre(g geometry, km integer) RETURNS geometry
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT ST_Transform(ST_SetSRID(ST_MakePoint(
                       (floor(ST_X(p) / (km * 1000.0)) + 0.5) * km * 1000.0,
                       (floor(ST_Y(p) / (km * 1000.0)) + 0.5) * km * 1000.0), 6933), 4326)
            FROM ST_Transform(g, 6933) AS p
        $$
        """
    )
    op.execute(
        "CREATE TABLE publish.occurrence_public (id bigint PRIMARY KEY, "
        "level_km smallint NOT NULL, geom geometry(Point, 4326) NOT NULL)"
    )
    op.execute(
        "CREATE INDEX ix_occurrence_public_geom ON publish.occurrence_public USING gist (geom)"
    )
    # the rows already there are placed by the first read for the public
    op.execute("INSERT INTO analysis.state VALUES ('occurrence_public', true)")

    op.execute(_trigger("inserted", _insert("new_rows"), "new_rows"))
    op.execute(_trigger("deleted", _delete("old_rows"), None))
    op.execute(_trigger("updated", _delete("old_rows") + _insert("new_rows"), "new_rows"))
    op.execute(
        """
        CREATE FUNCTION publish.occurrence_public_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.occurrence_public;
            RETURN NULL;
        END $$
        """
    )
    # named so that they fire before the publish_* triggers (AFTER triggers of one event fire
    # in the order of their names), which may read the public points
    for event, name, ref in (
        ("INSERT", "inserted", "REFERENCING NEW TABLE AS new_rows"),
        ("DELETE", "deleted", "REFERENCING OLD TABLE AS old_rows"),
        ("UPDATE", "updated", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("TRUNCATE", "truncated", ""),
    ):
        op.execute(
            f"CREATE TRIGGER public_points_{name} AFTER {event} ON occurrences {ref} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION publish.occurrence_public_{name}()"
        )

    # a change of sensitivity (statuses, overrides, taxa) makes the public points stale with
    # the levels; so does a change of the provinces (provincial overrides)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION analysis.taxon_sensitivity_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analysis.state SET stale = true
            WHERE name IN ('taxon_sensitivity', 'occurrence_public') AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION publish.occurrence_public_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analysis.state SET stale = true WHERE name = 'occurrence_public' AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER public_points_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON admin_units FOR EACH STATEMENT EXECUTE FUNCTION publish.occurrence_public_changed()"
    )
    # the whole set, rebuilt under a lock that lets readers on and holds writers back
    op.execute(
        f"""
        CREATE FUNCTION publish.rebuild_occurrence_public() RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
        BEGIN
            LOCK TABLE public.occurrences IN SHARE MODE;
            DELETE FROM publish.occurrence_public;
            {_insert("public.occurrences")}
            UPDATE analysis.state SET stale = false WHERE name = 'occurrence_public';
            ANALYZE publish.occurrence_public;
        END $$
        """
    )

    # the view refuses to answer while the generalised points may be out of date, so that a
    # read path that forgot ensure_current fails instead of showing an exact location
    op.execute(
        """
        CREATE FUNCTION publish.public_points_current() RETURNS boolean
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM analysis.state WHERE stale AND name IN
                       ('occurrence_public', 'taxon_sensitivity', 'taxon_species')) THEN
                RAISE EXCEPTION 'the public locations of sensitive records are out of date'
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'bring them current (vbis_geo.analysis.assignment.'
                                 'ensure_current) before reading publish.public_occurrences';
            END IF;
            RETURN true;
        END $$
        """
    )
    passed = ", ".join(f"o.{c}" for c in PASSED)
    # the distance from a cell's centre to its corner, in metres: km * 1000 * sqrt(2) / 2
    op.execute(
        f"""
        CREATE VIEW publish.public_occurrences AS
        SELECT {passed}, o.coordinate_uncertainty_m, o.locality, o.occurrence_remarks, o.geom,
               0::smallint AS generalised_km
        FROM public.occurrences AS o
        WHERE publish.public_points_current() AND o.review_status = 'published'
          AND NOT EXISTS (SELECT 1 FROM publish.occurrence_public AS p WHERE p.id = o.id)
        UNION ALL
        SELECT {passed},
               greatest(o.coordinate_uncertainty_m, ceil(p.level_km * 707.1068))::double precision,
               NULL::text, NULL::text, p.geom, p.level_km
        FROM public.occurrences AS o
        JOIN publish.occurrence_public AS p ON p.id = o.id
        WHERE publish.public_points_current() AND o.review_status = 'published'
        """
    )

    # what those with the right to exact locations read: the same columns, every published
    # record at its exact point
    op.execute(
        f"""
        CREATE VIEW publish.published_occurrences AS
        SELECT {passed}, o.coordinate_uncertainty_m, o.locality, o.occurrence_remarks, o.geom,
               0::smallint AS generalised_km
        FROM public.occurrences AS o
        WHERE o.review_status = 'published'
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS publish.published_occurrences")
    op.execute("DROP VIEW IF EXISTS publish.public_occurrences")
    op.execute("DROP FUNCTION IF EXISTS publish.public_points_current()")
    op.execute("DROP TRIGGER IF EXISTS public_points_changed ON admin_units")
    for name in ("inserted", "deleted", "updated", "truncated"):
        op.execute(f"DROP TRIGGER IF EXISTS public_points_{name} ON occurrences")
        op.execute(f"DROP FUNCTION IF EXISTS publish.occurrence_public_{name}()")
    op.execute("DROP FUNCTION IF EXISTS publish.occurrence_public_changed()")
    op.execute("DROP FUNCTION IF EXISTS publish.rebuild_occurrence_public()")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION analysis.taxon_sensitivity_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analysis.state SET stale = true WHERE name = 'taxon_sensitivity' AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute("DELETE FROM analysis.state WHERE name = 'occurrence_public'")
    op.execute("DROP TABLE IF EXISTS publish.occurrence_public")
    op.execute("DROP FUNCTION IF EXISTS publish.cell_centre(geometry, integer)")
    for table in REVIEWED:
        op.execute(f"DROP TRIGGER IF EXISTS history_update ON {table}")  # it reads the columns
        op.drop_index(op.f(f"ix_{table}_review_status"), table_name=table)
        for column in ("review_status", "reviewed_at", "review_reason"):
            op.drop_column(table, column)
        for column in ("submitted_by", "reviewed_by"):
            op.drop_column(table, column)
        # the trigger again, on the remaining columns; the history table keeps the review
        # columns' values of past versions
        op.execute(f"SELECT history.enable('{table}')")  # noqa: S608 (a constant table name)
