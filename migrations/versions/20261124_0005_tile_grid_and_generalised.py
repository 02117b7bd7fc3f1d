"""What zoomed-out tiles read instead of whole tables: point counts on a grid pyramid and
polygons generalised per zoom band, both kept current by statement triggers.

``publish.point_cells`` counts the points of a layer per grid cell, for both tile matrix sets
(``tms`` 0 = WebMercatorQuad, 1 = WorldCRS84Quad) and every zoom 0..9, with 64 x 64 cells per
tile. A statement that changes up to ``DELTA_LIMIT`` rows applies its change to the counts; a
bigger one (a bulk load) marks the grid stale in ``publish.layer_state.grid_stale`` instead, and
the tile provider rebuilds it once (``publish.rebuild_point_cells``) before it is read again. A
stale grid is never served, so an edit or a load is visible at once either way.

``publish.generalised`` holds each polygon simplified to the pixel size of zoom bands 2, 4, ...,
12 in Web Mercator (``BANDS``); a tile of zoom z reads the first band >= z.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: point layers counted on the grid
GRID_LAYERS = ("occurrences",)
#: polygon layers generalised per zoom band
POLYGON_LAYERS = (
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
)
#: the deepest zoom of the grid: its cells are 2**-(9+6) of the world's width
GRID_MAX_ZOOM = 9
#: a statement changing more rows than this marks the grid stale instead of updating it
DELTA_LIMIT = 50_000
#: Web Mercator metres per tile at zoom 0 and pixels per tile side (as in publish/tiles.py)
WORLD_M = 40075016.685578488
EXTENT = 4096

#: zoom bands of the generalised polygons (tiles of zoom z read the first band >= z)
BANDS = tuple(range(2, 13, 2))

CELLS = 2 ** (GRID_MAX_ZOOM + 6)  # cells across the world at the deepest zoom, per tile row


def _finest_keys(source: str) -> str:
    """SELECT (tms, ix, iy) at the deepest zoom for every point of ``source``.

    Web Mercator cells follow the slippy-map tile formula (the same cells ``ST_TileEnvelope``
    bounds); CRS84 cells divide 360 x 180 degrees into 2 x 1 tiles at zoom 0.
    """
    lat = "greatest(-85.0511287798, least(85.0511287798, ST_Y(geom)))"
    mercator_y = f"(1 - ln(tan(radians({lat})) + 1 / cos(radians({lat}))) / pi()) / 2"
    return f"""
        SELECT 0::smallint AS tms,
               least({CELLS - 1}, greatest(0, floor((ST_X(geom) + 180) / 360 * {CELLS})))::int AS ix,
               least({CELLS - 1}, greatest(0, floor({mercator_y} * {CELLS})))::int AS iy
        FROM {source} WHERE geom IS NOT NULL
        UNION ALL
        SELECT 1::smallint,
               least({2 * CELLS - 1}, greatest(0, floor((ST_X(geom) + 180) / 360 * {2 * CELLS})))::int,
               least({CELLS - 1}, greatest(0, floor((90 - ST_Y(geom)) / 180 * {CELLS})))::int
        FROM {source} WHERE geom IS NOT NULL
    """


def _apply(source: str, sign: int) -> str:
    """Add (``sign`` 1) or remove (-1) the points of a transition table at every zoom."""
    return f"""
        INSERT INTO publish.point_cells AS c (layer, tms, z, ix, iy, n)
        SELECT TG_TABLE_NAME, k.tms, l.z, k.ix >> ({GRID_MAX_ZOOM} - l.z),
               k.iy >> ({GRID_MAX_ZOOM} - l.z), {sign} * count(*)
        FROM ({_finest_keys(source)}) AS k CROSS JOIN generate_series(0, {GRID_MAX_ZOOM}) AS l(z)
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (layer, tms, z, ix, iy) DO UPDATE SET n = c.n + excluded.n;
    """


def _grid_trigger(name: str, body: str, sources: tuple[str, ...]) -> str:
    big = " OR ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {s} LIMIT {DELTA_LIMIT + 1}) AS s) > {DELTA_LIMIT}"
        for s in sources
    )
    return f"""
        CREATE FUNCTION publish.{name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT grid_stale FROM publish.layer_state WHERE layer = TG_TABLE_NAME) THEN
                RETURN NULL;  -- the rebuild will count these rows
            END IF;
            IF {big} THEN
                UPDATE publish.layer_state SET grid_stale = true WHERE layer = TG_TABLE_NAME;
                DELETE FROM publish.point_cells WHERE layer = TG_TABLE_NAME;
                RETURN NULL;
            END IF;
            {body}
            DELETE FROM publish.point_cells WHERE layer = TG_TABLE_NAME AND n <= 0;
            RETURN NULL;
        END $$
    """


def _generalise(source: str, layer: str = "TG_TABLE_NAME") -> str:
    """Every polygon of ``source`` simplified to the pixel size of each band."""
    bands = ", ".join(str(b) for b in BANDS)
    return f"""
        INSERT INTO publish.generalised (layer, id, band, geom)
        SELECT {layer}, r.id, b.band,
               ST_SimplifyPreserveTopology(ST_Transform(r.geom, 3857),
                                           {WORLD_M} / (2 ^ b.band) / {EXTENT})
        FROM {source} AS r CROSS JOIN unnest(ARRAY[{bands}]) AS b(band)
        WHERE r.geom IS NOT NULL;
    """


def upgrade() -> None:
    op.execute(
        "ALTER TABLE publish.layer_state ADD COLUMN grid_stale boolean NOT NULL DEFAULT false"
    )
    op.execute(
        "CREATE TABLE publish.point_cells (layer text NOT NULL, tms smallint NOT NULL, "
        "z smallint NOT NULL, ix int NOT NULL, iy int NOT NULL, n bigint NOT NULL, "
        "PRIMARY KEY (layer, tms, z, ix, iy))"
    )
    # cells emptied by deletes are found without a scan
    op.execute("CREATE INDEX ix_point_cells_empty ON publish.point_cells (layer) WHERE n <= 0")
    op.execute(
        "CREATE TABLE publish.generalised (layer text NOT NULL, id bigint NOT NULL, "
        "band smallint NOT NULL, geom geometry(Geometry, 3857) NOT NULL, "
        "PRIMARY KEY (layer, band, id))"
    )
    op.execute("CREATE INDEX ix_generalised_geom ON publish.generalised USING gist (geom)")

    op.execute(_grid_trigger("point_cells_inserted", _apply("new_rows", 1), ("new_rows",)))
    op.execute(_grid_trigger("point_cells_deleted", _apply("old_rows", -1), ("old_rows",)))
    op.execute(
        _grid_trigger(
            "point_cells_updated",
            _apply("old_rows", -1) + _apply("new_rows", 1),
            ("old_rows",),
        )
    )
    op.execute(
        """
        CREATE FUNCTION publish.point_cells_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.point_cells WHERE layer = TG_TABLE_NAME;
            UPDATE publish.layer_state SET grid_stale = false WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    # the whole grid of a layer, recounted under a lock that lets readers on and holds writers
    # back, so that no change is counted twice or missed
    op.execute(
        f"""
        CREATE FUNCTION publish.rebuild_point_cells(layer_name text) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('LOCK TABLE public.%I IN SHARE MODE', layer_name);
            DELETE FROM publish.point_cells WHERE layer = layer_name;
            EXECUTE format(
                'INSERT INTO publish.point_cells (layer, tms, z, ix, iy, n) '
                'SELECT %L, tms, {GRID_MAX_ZOOM}, ix, iy, count(*) FROM (%s) AS k GROUP BY 2, 4, 5',
                layer_name,
                replace($q${_finest_keys("__source__")}$q$, '__source__',
                        format('public.%I', layer_name)));
            FOR level IN REVERSE {GRID_MAX_ZOOM - 1}..0 LOOP
                INSERT INTO publish.point_cells (layer, tms, z, ix, iy, n)
                SELECT layer, tms, level, ix >> 1, iy >> 1, sum(n) FROM publish.point_cells
                WHERE layer = layer_name AND z = level + 1 GROUP BY 1, 2, 4, 5;
            END LOOP;
            UPDATE publish.layer_state SET grid_stale = false WHERE layer = layer_name;
        END $$
        """
    )
    for table in GRID_LAYERS:
        for event, name, ref in (
            ("INSERT", "inserted", "NEW TABLE AS new_rows"),
            ("DELETE", "deleted", "OLD TABLE AS old_rows"),
            ("UPDATE", "updated", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER publish_cells_{name} AFTER {event} ON {table} REFERENCING {ref} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION publish.point_cells_{name}()"
            )
        op.execute(
            f"CREATE TRIGGER publish_cells_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION publish.point_cells_truncated()"
        )
        # rows already there are counted by the first tile that needs the grid
        op.execute(f"UPDATE publish.layer_state SET grid_stale = true WHERE layer = '{table}'")

    op.execute(
        f"""
        CREATE FUNCTION publish.generalised_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {_generalise("new_rows")} RETURN NULL; END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION publish.generalised_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.generalised AS g USING old_rows AS o
            WHERE g.layer = TG_TABLE_NAME AND g.id = o.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION publish.generalised_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.generalised AS g USING old_rows AS o
            WHERE g.layer = TG_TABLE_NAME AND g.id = o.id;
            {_generalise("new_rows")}
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION publish.generalised_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM publish.generalised WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END $$
        """
    )
    for table in POLYGON_LAYERS:
        for event, name, ref in (
            ("INSERT", "inserted", "REFERENCING NEW TABLE AS new_rows"),
            ("DELETE", "deleted", "REFERENCING OLD TABLE AS old_rows"),
            ("UPDATE", "updated", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("TRUNCATE", "truncated", ""),
        ):
            op.execute(
                f"CREATE TRIGGER publish_generalised_{name} AFTER {event} ON {table} {ref} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION publish.generalised_{name}()"
            )
        op.execute(_generalise(table, f"'{table}'"))


def downgrade() -> None:
    for table in GRID_LAYERS:
        for name in ("inserted", "deleted", "updated", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS publish_cells_{name} ON {table}")
    for table in POLYGON_LAYERS:
        for name in ("inserted", "deleted", "updated", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS publish_generalised_{name} ON {table}")
    for name in ("inserted", "deleted", "updated", "truncated"):
        op.execute(f"DROP FUNCTION IF EXISTS publish.point_cells_{name}()")
        op.execute(f"DROP FUNCTION IF EXISTS publish.generalised_{name}()")
    op.execute("DROP FUNCTION IF EXISTS publish.rebuild_point_cells(text)")
    op.execute("DROP TABLE IF EXISTS publish.generalised")
    op.execute("DROP TABLE IF EXISTS publish.point_cells")
    op.execute("ALTER TABLE publish.layer_state DROP COLUMN grid_stale")
