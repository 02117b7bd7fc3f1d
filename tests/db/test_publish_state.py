"""publish.layer_state: a version bumped by every change and an exact row count (triggers)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db


def state(conn, table: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return tuple(  # type: ignore[return-value]
        conn.execute(
            sa.text("SELECT version, n_rows FROM publish.layer_state WHERE layer = :t"),
            {"t": table},
        ).one()
    )


def count(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_counts_and_versions_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    for table in ("occurrences", "protected_areas", "taxa", "datasets"):
        assert state(conn, table)[1] == count(conn, table), table
    version, _ = state(conn, "occurrences")
    conn.execute(
        sa.text(
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
            "SELECT 'state:' || id, taxon_id, basis_of_record, geom FROM occurrences LIMIT 25"
        )
    )
    assert state(conn, "occurrences") == (version + 1, count(conn, "occurrences"))
    conn.execute(
        sa.text("UPDATE occurrences SET individual_count = 3 WHERE occurrence_id LIKE 'state:%'")
    )
    assert state(conn, "occurrences") == (version + 2, count(conn, "occurrences"))
    conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'state:%'"))
    assert state(conn, "occurrences") == (version + 3, count(conn, "occurrences"))
    conn.execute(sa.text("TRUNCATE occurrences"))
    assert state(conn, "occurrences") == (version + 4, 0)


def grid(conn) -> dict[tuple[int, int, int, int], int]:  # type: ignore[no-untyped-def]
    rows = conn.execute(
        sa.text("SELECT tms, z, ix, iy, n FROM publish.point_cells WHERE layer = 'occurrences'")
    )
    return {(tms, z, ix, iy): n for tms, z, ix, iy, n in rows}


def stale(conn) -> bool:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text("SELECT grid_stale FROM publish.layer_state WHERE layer = 'occurrences'")
    ).scalar_one()


def test_the_occurrence_grid_follows_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    """Small statements update the counts in place; the result equals a full recount."""
    conn.execute(sa.text("SELECT publish.rebuild_point_cells('occurrences')"))
    before = grid(conn)
    assert not stale(conn)
    assert sum(n for (tms, z, _, _), n in before.items() if tms == 0 and z == 0) == count(
        conn, "occurrences"
    )
    changes = (
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
        "SELECT 'grid:' || id, taxon_id, basis_of_record, geom FROM occurrences LIMIT 40",
        # moved 30 km: most change cell at the deeper zooms
        "UPDATE occurrences SET geom = ST_Translate(geom, 0.3, -0.2) "
        "WHERE occurrence_id LIKE 'grid:%'",
        "DELETE FROM occurrences WHERE occurrence_id IN "
        "(SELECT occurrence_id FROM occurrences WHERE occurrence_id LIKE 'grid:%' LIMIT 15)",
    )
    for statement in changes:
        conn.execute(sa.text(statement))
        assert not stale(conn), statement
        in_place = grid(conn)
        conn.execute(sa.text("SELECT publish.rebuild_point_cells('occurrences')"))
        assert in_place == grid(conn), statement
    assert grid(conn) != before
    conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'grid:%'"))
    assert grid(conn) == before  # emptied cells are gone


def test_a_bulk_statement_marks_the_grid_stale(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(sa.text("SELECT publish.rebuild_point_cells('occurrences')"))
    conn.execute(
        sa.text(
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
            "SELECT 'bulk:' || i, o.taxon_id, o.basis_of_record, "
            "ST_SetSRID(ST_MakePoint(105 + (i % 100) / 100.0, 20 + i / 100000.0), 4326) "
            "FROM generate_series(1, 50001) AS i, (SELECT * FROM occurrences LIMIT 1) AS o"
        )
    )
    assert stale(conn) and grid(conn) == {}  # never served: the provider rebuilds it first
    conn.execute(sa.text("SELECT publish.rebuild_point_cells('occurrences')"))
    assert not stale(conn)
    z0 = sum(n for (tms, z, _, _), n in grid(conn).items() if tms == 1 and z == 0)
    assert z0 == count(conn, "occurrences")


POLYGON_TABLES = (
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
)


def test_generalised_polygons_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.db.models import SPATIAL_MODELS
    from vbis_geo.publish.tiles import BANDS

    polygon_tables = {
        m.__tablename__
        for m in SPATIAL_MODELS
        if m.__table__.c.geom.type.geometry_type != "POINT"  # type: ignore[attr-defined]
    }
    assert polygon_tables == set(POLYGON_TABLES)  # a new polygon layer needs its triggers

    def generalised(table: str) -> int:
        return conn.execute(
            sa.text("SELECT count(*) FROM publish.generalised WHERE layer = :t"), {"t": table}
        ).scalar_one()

    for table in POLYGON_TABLES:
        assert generalised(table) == len(BANDS) * count(conn, table), table
    code = conn.execute(sa.text("SELECT code FROM protected_areas LIMIT 1")).scalar_one()
    conn.execute(
        sa.text(
            "UPDATE protected_areas SET geom = ST_Multi(ST_Buffer(geom, 0.01)) WHERE code = :c"
        ),
        {"c": code},
    )
    # the finest band (zoom 12, pixels of 2.4 m) is the new shape, 1 km wider than the old one
    offset_m = conn.execute(
        sa.text(
            "SELECT ST_HausdorffDistance(g.geom, ST_Transform(p.geom, 3857)) "
            "FROM publish.generalised g JOIN protected_areas p ON p.id = g.id "
            "WHERE g.layer = 'protected_areas' AND g.band = 12 AND p.code = :c"
        ),
        {"c": code},
    ).scalar_one()
    assert offset_m < 5
    conn.execute(sa.text("DELETE FROM pa_zones"))
    assert generalised("pa_zones") == 0
    assert generalised("protected_areas") == len(BANDS) * count(conn, "protected_areas")
