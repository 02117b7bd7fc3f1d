"""What each audience reads of the derived publishing tables: point grids, tile cache and row
counts follow the review and the public locations of migration 0011.

**Grids per audience.** ``publish.point_cells`` gets an ``audience`` column (``exact``,
``public``: :class:`vbis_geo.analysis.access.Audience`) and holds one pyramid of counts for each:

* ``exact`` counts the published records at their points (``publish.published_occurrences``);
* ``public`` counts the published records where the public sees them
  (``publish.public_occurrences``): a sensitive record at the centre of its cell, so that no
  zoom of the public grid places it more precisely than its cell.

Drafts and rejected rows are in neither. Whether a grid must be recounted before it is read is
kept per audience in ``publish.grid_state`` (it replaces ``publish.layer_state.grid_stale``);
``publish.rebuild_point_cells(layer, audience)`` recounts one grid from its audience's view.

**Keeping the public grid current, and the trigger order.** AFTER statement triggers of one
event fire in the order of their names, so the ``public_points_*`` triggers (which keep
``publish.occurrence_public``) run before ``publish_cells_*``; by then, after an UPDATE or a
DELETE, the old rows' generalised points are gone, and where those rows were counted in the
public grid could no longer be told. So the public grid is kept inside the ``public_points_*``
trigger functions, which are replaced here: each subtracts the old rows at their public places
(``coalesce(generalised point, exact point)``) *before* it deletes their generalised points, and
adds the new rows at theirs *after* it has inserted their new points. The ``publish_cells_*``
functions keep only the exact grid, now of published rows only. The invariant: a public grid
that is not stale counts every published record at its generalised point if
``publish.occurrence_public`` has one, else at its exact point.

Whenever the public points are not placed by the statement itself, the public grid is marked
stale (and emptied) instead of kept, and the first public tile that needs it recounts it from
the view after the points are current again: a statement while the sensitivity levels are stale,
one of more than ``DELTA_LIMIT`` rows, and every rebuild of the public points
(``publish.rebuild_occurrence_public``, after a change of status, override or provinces). That
rebuild also bumps the occurrences' version in ``publish.layer_state``, so that no tile cached
before it is served after it. ``publish.rebuild_point_cells`` of the public grid and
``publish.rebuild_occurrence_public`` lock ``publish.occurrence_public`` in conflicting modes
(after ``occurrences``, always in that order): a grid is never counted from points being
replaced.

**Tile cache per audience.** ``publish.tile_cache`` gets ``audience`` in its key: a tile made
for one audience is never served to the other.

**Counts of what the audiences see.** ``publish.layer_state.n_published`` counts the published
rows of the reviewed tables (NULL for the others, whose every row is published), kept by the
same statement triggers that keep ``n_rows`` (their functions are replaced for those tables;
an UPDATE now counts the rows whose review status changed). Both audiences see every published
record (the public some of them moved), so this one count is each audience's unfiltered
``numberMatched``.

**The two parts of the public view.** ``publish.public_occurrences`` (migration 0011) is the
UNION ALL of the records the public sees at their point and those it sees at their cell's
centre, so that a spatial filter reaches the GiST index of each; but PostgreSQL cannot carry an
order through such a union (its arms are joins, planned apart), and sorted the whole view for
every page (``ORDER BY id LIMIT 100``: 55 ms at 100,000 records, growing with them). The arms
are therefore also views of their own, with the view's columns and rows (a test checks that
their union is the view), and the providers take a page from each, ordered and limited there,
and merge the two:

* ``publish.public_occurrences_at_point``: the published records without a generalised point,
  read in order from the occurrences' indexes;
* ``publish.public_occurrences_in_cell``: the published records with one, read from
  ``publish.occurrence_public`` alone, which now holds a copy of each sensitive record's columns
  (``COPIED``) and its public uncertainty beside its point. Joined to the occurrences instead, a
  filter on an attribute made the planner scan every occurrence (or look each one up), where
  there are a few per cent as many sensitive records. The copy is exact because the triggers
  that keep the points replace a record's row on every statement that changes it (0011), or mark
  the whole stale for a rebuild before any public read.

The grids are recounted by the first tile that reads them after this migration.

Revision ID: 0012
Revises: 0013
Create Date: 2026-11-24
"""

from __future__ import annotations

from types import ModuleType

from alembic import op

from vbis_geo.db.migrate import earlier_migration as _earlier

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None

#: the tables whose rows are reviewed (migration 0011)
REVIEWED = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
)
#: point layers counted on the grids (migration 0005)
GRID_LAYERS = ("occurrences",)
#: the audiences of vbis_geo.analysis.access.Audience
AUDIENCES = ("exact", "public")
#: as in migrations 0005 and 0011: a statement changing more rows marks a grid stale
DELTA_LIMIT = 50_000
GRID_MAX_ZOOM = 9


#: what ``publish.occurrence_public`` holds of each sensitive record besides its generalised
#: point (name, type): a copy of the columns its public view shows
COPIED = (
    ("occurrence_id", "text"),
    ("taxon_id", "integer"),
    ("basis_of_record", "varchar(30)"),
    ("event_date", "date"),
    ("event_date_end", "date"),
    ("recorded_by", "text"),
    ("individual_count", "integer"),
    ("verbatim_scientific_name", "text"),
    ("dataset_id", "integer"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("review_status", "varchar(10)"),
)
#: 0011's choice of the generalised point, the first line of its ``_public_rows``
_POINT = "SELECT r.id, l.level_km, publish.cell_centre(r.geom, l.level_km)"


def _insert_public(m0011: ModuleType, source: str) -> str:
    """Migration 0011's insert of the generalised points of ``source``'s sensitive records
    (their levels chosen as it chose them), with the copy of their columns and their public
    uncertainty (at least the distance from the cell's centre to its corner)."""
    rows = m0011._public_rows(source)
    assert _POINT in rows, "migration 0011's _public_rows changed"
    copied = ", ".join(f"r.{name}" for name, _ in COPIED)
    rows = rows.replace(
        _POINT,
        f"{_POINT}, {copied}, "
        "greatest(r.coordinate_uncertainty_m, ceil(l.level_km * 707.1068))::double precision",
        1,
    )
    names = ", ".join(name for name, _ in COPIED)
    return (
        "INSERT INTO publish.occurrence_public "
        f"(id, level_km, geom, {names}, coordinate_uncertainty_m) {rows};"
    )


def _published(rows: str) -> str:
    """The published rows of ``rows`` at their exact points."""
    return f"(SELECT r.geom FROM {rows} AS r WHERE r.review_status = 'published') AS s"


def _public(rows: str) -> str:
    """The published rows of ``rows`` where the public sees them (as publish.occurrence_public
    holds them when this runs)."""
    return (
        f"(SELECT coalesce(p.geom, r.geom) AS geom FROM {rows} AS r "
        "LEFT JOIN publish.occurrence_public AS p ON p.id = r.id "
        "WHERE r.review_status = 'published') AS s"
    )


def _apply(keys: str, sign: int, audience: str) -> str:
    """Add (``sign`` 1) or remove (-1) points at every zoom of one audience's grid; ``keys``
    selects their (tms, ix, iy) at the deepest zoom (migration 0005's ``_finest_keys``)."""
    return f"""
        INSERT INTO publish.point_cells AS c (layer, audience, tms, z, ix, iy, n)
        SELECT TG_TABLE_NAME, '{audience}', k.tms, l.z, k.ix >> ({GRID_MAX_ZOOM} - l.z),
               k.iy >> ({GRID_MAX_ZOOM} - l.z), {sign} * count(*)
        FROM ({keys}) AS k CROSS JOIN generate_series(0, {GRID_MAX_ZOOM}) AS l(z)
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (layer, audience, tms, z, ix, iy) DO UPDATE SET n = c.n + excluded.n;
    """


def _prune(audience: str) -> str:
    return (
        "DELETE FROM publish.point_cells "
        f"WHERE layer = TG_TABLE_NAME AND audience = '{audience}' AND n <= 0;"
    )


def _big(source: str) -> str:
    return (
        f"(SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT {DELTA_LIMIT + 1}) AS b) "
        f"> {DELTA_LIMIT}"
    )


def _exact_grid_trigger(name: str, body: str, big_source: str) -> str:
    """A ``publish_cells_*`` function: the exact grid, of published rows only."""
    return f"""
        CREATE OR REPLACE FUNCTION publish.point_cells_{name}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT stale FROM publish.grid_state
                WHERE layer = TG_TABLE_NAME AND audience = 'exact') THEN
                RETURN NULL;  -- the rebuild will count these rows
            END IF;
            IF {_big(big_source)} THEN
                PERFORM publish.point_cells_stale(TG_TABLE_NAME, 'exact');
                RETURN NULL;
            END IF;
            {body}
            {_prune("exact")}
            RETURN NULL;
        END $$
    """


def _public_points_trigger(name: str, body: str) -> str:
    """A ``public_points_*`` function (migration 0011's, which it replaces), keeping the public
    grid too while that is current."""
    return f"""
        CREATE OR REPLACE FUNCTION publish.occurrence_public_{name}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
        DECLARE
            grid_current boolean := NOT coalesce((SELECT stale FROM publish.grid_state
                WHERE layer = TG_TABLE_NAME AND audience = 'public'), true);
        BEGIN
            {body}
            RETURN NULL;
        END $$
    """


def _public_points_stale() -> str:
    """The statement's rows are left to the rebuild of the public points, and the public grid
    to a recount after it."""
    return """
        UPDATE analysis.state SET stale = true WHERE name = 'occurrence_public';
        PERFORM publish.point_cells_stale(TG_TABLE_NAME, 'public');
        RETURN NULL;
    """


def _count_trigger(name: str, body: str) -> str:
    return f"""
        CREATE FUNCTION publish.count_reviewed_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END $$
    """


def upgrade() -> None:
    m0005, m0011 = _earlier("0005"), _earlier("0011")
    keys = m0005._finest_keys

    # -- grids per audience --------------------------------------------------------------------
    op.execute(
        "CREATE TABLE publish.grid_state (layer text NOT NULL, audience text NOT NULL, "
        "stale boolean NOT NULL, PRIMARY KEY (layer, audience), "
        "CONSTRAINT grid_state_audience CHECK (audience IN ('exact', 'public')))"
    )
    for layer in GRID_LAYERS:
        for audience in AUDIENCES:
            # counted by the first tile that reads them
            op.execute(f"INSERT INTO publish.grid_state VALUES ('{layer}', '{audience}', true)")
    op.execute("ALTER TABLE publish.layer_state DROP COLUMN grid_stale")
    op.execute("DELETE FROM publish.point_cells")
    op.execute(
        "ALTER TABLE publish.point_cells ADD COLUMN audience text NOT NULL "
        "CONSTRAINT point_cells_audience CHECK (audience IN ('exact', 'public'))"
    )
    op.execute(
        "ALTER TABLE publish.point_cells DROP CONSTRAINT point_cells_pkey, "
        "ADD PRIMARY KEY (layer, audience, tms, z, ix, iy)"
    )
    op.execute(
        """
        CREATE FUNCTION publish.point_cells_stale(layer_name text, grid_audience text)
        RETURNS void LANGUAGE sql AS $$
            UPDATE publish.grid_state SET stale = true
            WHERE layer = layer_name AND audience = grid_audience AND NOT stale;
            DELETE FROM publish.point_cells WHERE layer = layer_name AND audience = grid_audience;
        $$
        """
    )
    op.execute("DROP FUNCTION publish.rebuild_point_cells(text)")
    op.execute(
        f"""
        CREATE FUNCTION publish.rebuild_point_cells(layer_name text, grid_audience text)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF grid_audience NOT IN ('exact', 'public') THEN
                RAISE EXCEPTION 'no grid audience %', grid_audience;
            END IF;
            EXECUTE format('LOCK TABLE public.%I IN SHARE MODE', layer_name);
            IF grid_audience = 'public' THEN
                -- counted from the public points: not while they are being replaced
                LOCK TABLE publish.occurrence_public IN SHARE MODE;
            END IF;
            DELETE FROM publish.point_cells WHERE layer = layer_name AND audience = grid_audience;
            EXECUTE format(
                'INSERT INTO publish.point_cells (layer, audience, tms, z, ix, iy, n) '
                'SELECT %L, %L, tms, {GRID_MAX_ZOOM}, ix, iy, count(*) FROM (%s) AS k '
                'GROUP BY 3, 5, 6',
                layer_name, grid_audience,
                -- the audience's view: publish.published_<layer> or publish.public_<layer>
                replace($q${keys("__source__")}$q$, '__source__',
                        format('publish.%s_%I',
                               CASE grid_audience WHEN 'public' THEN 'public'
                                    ELSE 'published' END, layer_name)));
            FOR level IN REVERSE {GRID_MAX_ZOOM - 1}..0 LOOP
                INSERT INTO publish.point_cells (layer, audience, tms, z, ix, iy, n)
                SELECT layer, audience, tms, level, ix >> 1, iy >> 1, sum(n)
                FROM publish.point_cells
                WHERE layer = layer_name AND audience = grid_audience AND z = level + 1
                GROUP BY 1, 2, 3, 5, 6;
            END LOOP;
            UPDATE publish.grid_state SET stale = false
            WHERE layer = layer_name AND audience = grid_audience;
        END $$
        """
    )

    # the exact grid: published rows only
    op.execute(
        _exact_grid_trigger(
            "inserted", _apply(keys(_published("new_rows")), 1, "exact"), "new_rows"
        )
    )
    op.execute(
        _exact_grid_trigger(
            "deleted", _apply(keys(_published("old_rows")), -1, "exact"), "old_rows"
        )
    )
    op.execute(
        _exact_grid_trigger(
            "updated",
            _apply(keys(_published("old_rows")), -1, "exact")
            + _apply(keys(_published("new_rows")), 1, "exact"),
            "old_rows",
        )
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION publish.point_cells_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.point_cells WHERE layer = TG_TABLE_NAME;
            UPDATE publish.grid_state SET stale = false WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )

    # the public grid, kept where the public points are (see the module docstring)
    stale_inputs = m0011._STALE_INPUTS
    op.execute(
        _public_points_trigger(
            "inserted",
            f"""
            IF {stale_inputs} OR {_big("new_rows")} THEN
                {_public_points_stale()}
            END IF;
            {_insert_public(m0011, "new_rows")}
            IF grid_current THEN
                {_apply(keys(_public("new_rows")), 1, "public")}
            END IF;
            """,
        )
    )
    op.execute(
        _public_points_trigger(
            "deleted",
            f"""
            IF {stale_inputs} THEN
                {_public_points_stale()}
            END IF;
            IF grid_current THEN  -- at their public places, before those are deleted
                IF {_big("old_rows")} THEN
                    PERFORM publish.point_cells_stale(TG_TABLE_NAME, 'public');
                ELSE
                    {_apply(keys(_public("old_rows")), -1, "public")}
                    {_prune("public")}
                END IF;
            END IF;
            {m0011._delete("old_rows")}
            """,
        )
    )
    op.execute(
        _public_points_trigger(
            "updated",
            f"""
            IF {stale_inputs} OR {_big("new_rows")} THEN
                {_public_points_stale()}
            END IF;
            IF grid_current THEN  -- the old rows at their public places, before those change
                {_apply(keys(_public("old_rows")), -1, "public")}
            END IF;
            {m0011._delete("old_rows")}
            {_insert_public(m0011, "new_rows")}
            IF grid_current THEN
                {_apply(keys(_public("new_rows")), 1, "public")}
                {_prune("public")}
            END IF;
            """,
        )
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION publish.rebuild_occurrence_public() RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
        BEGIN
            LOCK TABLE public.occurrences IN SHARE MODE;
            -- not while the public grid is being counted from the points
            LOCK TABLE publish.occurrence_public IN SHARE ROW EXCLUSIVE MODE;
            DELETE FROM publish.occurrence_public;
            {_insert_public(m0011, "public.occurrences")}
            UPDATE analysis.state SET stale = false WHERE name = 'occurrence_public';
            -- the public grid is recounted from the new points by the first tile that needs
            -- it, and the new version keeps every tile cached before from being served
            PERFORM publish.point_cells_stale('occurrences', 'public');
            UPDATE publish.layer_state SET version = version + 1, changed_at = now()
            WHERE layer = 'occurrences';
            ANALYZE publish.occurrence_public;
        END $$
        """
    )

    # -- the public copy of sensitive records, and the two parts of the public view --------------
    for name, kind in (*COPIED, ("coordinate_uncertainty_m", "double precision")):
        op.execute(f"ALTER TABLE publish.occurrence_public ADD COLUMN {name} {kind}")
    # the points there have no copy yet: the first read for the public rebuilds them
    op.execute("UPDATE analysis.state SET stale = true WHERE name = 'occurrence_public'")
    passed = ", ".join(f"o.{c}" for c in m0011.PASSED)
    op.execute(
        f"""
        CREATE VIEW publish.public_occurrences_at_point AS
        SELECT {passed}, o.coordinate_uncertainty_m, o.locality, o.occurrence_remarks, o.geom,
               0::smallint AS generalised_km
        FROM public.occurrences AS o
        WHERE publish.public_points_current() AND o.review_status = 'published'
          AND NOT EXISTS (SELECT 1 FROM publish.occurrence_public AS p WHERE p.id = o.id)
        """
    )
    op.execute(
        f"""
        CREATE VIEW publish.public_occurrences_in_cell AS
        SELECT p.id, {", ".join(f"p.{c}" for c in m0011.PASSED if c != "id")},
               p.coordinate_uncertainty_m, NULL::text AS locality,
               NULL::text AS occurrence_remarks, p.geom, p.level_km AS generalised_km
        FROM publish.occurrence_public AS p
        WHERE publish.public_points_current() AND p.review_status = 'published'
        """
    )

    # -- tile cache per audience ---------------------------------------------------------------
    op.execute("DELETE FROM publish.tile_cache")
    op.execute(
        "ALTER TABLE publish.tile_cache ADD COLUMN audience text NOT NULL "
        "CONSTRAINT tile_cache_audience CHECK (audience IN ('exact', 'public'))"
    )
    op.execute(
        "ALTER TABLE publish.tile_cache DROP CONSTRAINT tile_cache_pkey, "
        "ADD PRIMARY KEY (layer, audience, version, tms, z, x, y)"
    )

    # -- counts of published rows --------------------------------------------------------------
    op.execute("ALTER TABLE publish.layer_state ADD COLUMN n_published bigint")
    counts = "SELECT count(*) AS n, count(*) FILTER (WHERE review_status = 'published') AS p"
    op.execute(
        _count_trigger(
            "inserted",
            f"""
            UPDATE publish.layer_state AS s SET version = s.version + 1, changed_at = now(),
                n_rows = s.n_rows + c.n, n_published = s.n_published + c.p
            FROM ({counts} FROM new_rows) AS c WHERE s.layer = TG_TABLE_NAME;
            """,
        )
    )
    op.execute(
        _count_trigger(
            "deleted",
            f"""
            UPDATE publish.layer_state AS s SET version = s.version + 1, changed_at = now(),
                n_rows = s.n_rows - c.n, n_published = s.n_published - c.p
            FROM ({counts} FROM old_rows) AS c WHERE s.layer = TG_TABLE_NAME;
            """,
        )
    )
    op.execute(
        _count_trigger(
            "updated",
            """
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(),
                n_published = n_published
                    + (SELECT count(*) FROM new_rows WHERE review_status = 'published')
                    - (SELECT count(*) FROM old_rows WHERE review_status = 'published')
            WHERE layer = TG_TABLE_NAME;
            """,
        )
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION publish.count_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(), n_rows = 0,
                n_published = CASE WHEN n_published IS NOT NULL THEN 0 END
            WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    for table in REVIEWED:
        for trigger in ("publish_inserted", "publish_deleted", "publish_version"):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for trigger, event, ref, name in (
            ("publish_inserted", "INSERT", "NEW TABLE AS new_rows", "inserted"),
            ("publish_deleted", "DELETE", "OLD TABLE AS old_rows", "deleted"),
            ("publish_version", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "updated"),
        ):
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {ref} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION publish.count_reviewed_{name}()"
            )
        op.execute(
            "UPDATE publish.layer_state SET n_published = "  # noqa: S608 (a constant table name)
            f"(SELECT count(*) FROM {table} WHERE review_status = 'published') "
            f"WHERE layer = '{table}'"
        )
    # the trigger functions this migration replaced or added on the editable tables run as
    # their owner again (migration 0014: the writer role has no right on publish or analysis)
    op.execute("SELECT auth.secure_trigger_functions()")


def downgrade() -> None:
    m0005, m0011 = _earlier("0005"), _earlier("0011")

    # counts: the triggers of 0004
    for table in REVIEWED:
        for trigger in ("publish_inserted", "publish_deleted", "publish_version"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
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
    for name in ("inserted", "deleted", "updated"):
        op.execute(f"DROP FUNCTION IF EXISTS publish.count_reviewed_{name}()")
    op.execute(  # 0004's
        """
        CREATE OR REPLACE FUNCTION publish.count_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE publish.layer_state SET version = version + 1, changed_at = now(), n_rows = 0
            WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    op.execute("ALTER TABLE publish.layer_state DROP COLUMN n_published")

    op.execute("DROP VIEW IF EXISTS publish.public_occurrences_in_cell")
    op.execute("DROP VIEW IF EXISTS publish.public_occurrences_at_point")
    for name, _ in (*COPIED, ("coordinate_uncertainty_m", "")):
        op.execute(f"ALTER TABLE publish.occurrence_public DROP COLUMN IF EXISTS {name}")

    # tile cache: one key for everyone
    op.execute("DELETE FROM publish.tile_cache")
    op.execute(
        "ALTER TABLE publish.tile_cache DROP CONSTRAINT tile_cache_pkey, "
        "ADD PRIMARY KEY (layer, version, tms, z, x, y)"
    )
    op.execute("ALTER TABLE publish.tile_cache DROP COLUMN audience")

    # the public points as 0011 kept them
    def replaced(sql: str) -> str:
        return sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)

    op.execute(replaced(m0011._trigger("inserted", m0011._insert("new_rows"), "new_rows")))
    op.execute(replaced(m0011._trigger("deleted", m0011._delete("old_rows"), None)))
    op.execute(
        replaced(
            m0011._trigger(
                "updated", m0011._delete("old_rows") + m0011._insert("new_rows"), "new_rows"
            )
        )
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION publish.rebuild_occurrence_public() RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
        BEGIN
            LOCK TABLE public.occurrences IN SHARE MODE;
            DELETE FROM publish.occurrence_public;
            {m0011._insert("public.occurrences")}
            UPDATE analysis.state SET stale = false WHERE name = 'occurrence_public';
            ANALYZE publish.occurrence_public;
        END $$
        """
    )

    # one grid of every row, as 0005 kept it
    op.execute("DROP FUNCTION publish.rebuild_point_cells(text, text)")
    op.execute("DROP FUNCTION publish.point_cells_stale(text, text)")
    op.execute("DELETE FROM publish.point_cells")
    op.execute(
        "ALTER TABLE publish.point_cells DROP CONSTRAINT point_cells_pkey, "
        "ADD PRIMARY KEY (layer, tms, z, ix, iy)"
    )
    op.execute("ALTER TABLE publish.point_cells DROP COLUMN audience")
    op.execute(
        "ALTER TABLE publish.layer_state ADD COLUMN grid_stale boolean NOT NULL DEFAULT false"
    )
    for layer in GRID_LAYERS:
        op.execute(f"UPDATE publish.layer_state SET grid_stale = true WHERE layer = '{layer}'")
    op.execute("DROP TABLE publish.grid_state")
    op.execute(
        replaced(
            m0005._grid_trigger("point_cells_inserted", m0005._apply("new_rows", 1), ("new_rows",))
        )
    )
    op.execute(
        replaced(
            m0005._grid_trigger("point_cells_deleted", m0005._apply("old_rows", -1), ("old_rows",))
        )
    )
    op.execute(
        replaced(
            m0005._grid_trigger(
                "point_cells_updated",
                m0005._apply("old_rows", -1) + m0005._apply("new_rows", 1),
                ("old_rows",),
            )
        )
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION publish.point_cells_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.point_cells WHERE layer = TG_TABLE_NAME;
            UPDATE publish.layer_state SET grid_stale = false WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    op.execute(_rebuild_point_cells_0005(m0005))


def _rebuild_point_cells_0005(m0005: ModuleType) -> str:
    """Migration 0005's ``publish.rebuild_point_cells(text)`` (written inline in its upgrade)."""
    keys = m0005._finest_keys("__source__")
    zoom = m0005.GRID_MAX_ZOOM
    return f"""
        CREATE FUNCTION publish.rebuild_point_cells(layer_name text) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('LOCK TABLE public.%I IN SHARE MODE', layer_name);
            DELETE FROM publish.point_cells WHERE layer = layer_name;
            EXECUTE format(
                'INSERT INTO publish.point_cells (layer, tms, z, ix, iy, n) '
                'SELECT %L, tms, {zoom}, ix, iy, count(*) FROM (%s) AS k GROUP BY 2, 4, 5',
                layer_name,
                replace($q${keys}$q$, '__source__',
                        format('public.%I', layer_name)));
            FOR level IN REVERSE {zoom - 1}..0 LOOP
                INSERT INTO publish.point_cells (layer, tms, z, ix, iy, n)
                SELECT layer, tms, level, ix >> 1, iy >> 1, sum(n) FROM publish.point_cells
                WHERE layer = layer_name AND z = level + 1 GROUP BY 1, 2, 4, 5;
            END LOOP;
            UPDATE publish.layer_state SET grid_stale = false WHERE layer = layer_name;
        END $$
    """
