"""publish.layer_state: a version bumped by every change and exact row counts (triggers); the
point grids of each audience (migrations 0005, 0012)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.db.test_public_locations import CUC_PHUONG, add_record, bring_current
from tests.db.test_sensitivity import add_taxon

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


def published(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text(f"SELECT count(*) FROM {table} WHERE review_status = 'published'")  # noqa: S608
    ).scalar_one()


def n_published(conn, table: str) -> int | None:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text("SELECT n_published FROM publish.layer_state WHERE layer = :t"), {"t": table}
    ).scalar_one()


REVIEWED = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
)


def test_published_counts_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    """n_published (migration 0012) counts the published rows of the reviewed tables, drafts
    and rejections left out, through inserts, review, deletes and truncation."""
    for table in REVIEWED:
        assert n_published(conn, table) == published(conn, table), table
    assert n_published(conn, "taxa") is None  # not reviewed: every row is published
    before = published(conn, "occurrences")
    conn.execute(
        sa.text(
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, "
            "review_status) SELECT 'review:' || id, taxon_id, basis_of_record, geom, "
            "CASE WHEN id % 2 = 0 THEN 'draft' ELSE 'published' END FROM occurrences LIMIT 20"
        )
    )
    assert n_published(conn, "occurrences") == published(conn, "occurrences") > before
    conn.execute(
        sa.text(
            "UPDATE occurrences SET review_status = 'published' "
            "WHERE occurrence_id LIKE 'review:%' AND review_status = 'draft'"
        )
    )
    assert n_published(conn, "occurrences") == published(conn, "occurrences") == before + 20
    conn.execute(
        sa.text(
            "UPDATE occurrences SET review_status = 'rejected', review_reason = 'test' "
            "WHERE occurrence_id IN (SELECT occurrence_id FROM occurrences "
            "WHERE occurrence_id LIKE 'review:%' LIMIT 5)"
        )
    )
    assert n_published(conn, "occurrences") == published(conn, "occurrences") == before + 15
    conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'review:%'"))
    assert n_published(conn, "occurrences") == before
    code = conn.execute(sa.text("SELECT code FROM wetlands LIMIT 1")).scalar_one()
    conn.execute(
        sa.text("UPDATE wetlands SET review_status = 'draft' WHERE code = :c"), {"c": code}
    )
    assert (
        n_published(conn, "wetlands") == published(conn, "wetlands") == count(conn, "wetlands") - 1
    )
    conn.execute(sa.text("TRUNCATE pa_zones"))
    assert n_published(conn, "pa_zones") == 0


AUDIENCES = ("exact", "public")


def grid(conn, audience: str = "exact") -> dict[tuple[int, int, int, int], int]:  # type: ignore[no-untyped-def]
    rows = conn.execute(
        sa.text(
            "SELECT tms, z, ix, iy, n FROM publish.point_cells "
            "WHERE layer = 'occurrences' AND audience = :a"
        ),
        {"a": audience},
    )
    return {(tms, z, ix, iy): n for tms, z, ix, iy, n in rows}


def stale(conn, audience: str = "exact") -> bool:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text(
            "SELECT stale FROM publish.grid_state WHERE layer = 'occurrences' AND audience = :a"
        ),
        {"a": audience},
    ).scalar_one()


def rebuild(conn, *audiences: str) -> None:  # type: ignore[no-untyped-def]
    for audience in audiences or AUDIENCES:
        conn.execute(
            sa.text("SELECT publish.rebuild_point_cells('occurrences', :a)"), {"a": audience}
        )


def z0(cells: dict[tuple[int, int, int, int], int], tms: int = 0) -> int:
    return sum(n for (t, z, _, _), n in cells.items() if t == tms and z == 0)


def test_the_occurrence_grids_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    """Small statements update both audiences' counts in place (published records only; the
    public's at the generalised points of sensitive records); the result equals a full
    recount from each audience's view."""
    critical = add_taxon(conn, "Testus gridensis", "species", statuses=[("iucn_red_list", "CR")])
    bring_current(conn)  # (a change of taxa leaves the next statement to the rebuild)
    rebuild(conn)
    before = {audience: grid(conn, audience) for audience in AUDIENCES}
    for audience in AUDIENCES:
        assert not stale(conn, audience)
        assert z0(before[audience]) == published(conn, "occurrences")
    critical_records = (  # records of a critically endangered taxon, one a draft
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, review_status) "
        "SELECT 'grid:cr' || i, :t, 'HumanObservation', "
        "ST_SetSRID(ST_MakePoint(:x + i / 10.0, :y), 4326), "
        "CASE i WHEN 1 THEN 'published' ELSE 'draft' END FROM generate_series(1, 2) AS i"
    )
    changes = (
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
        "SELECT 'grid:' || id, taxon_id, basis_of_record, geom FROM occurrences LIMIT 40",
        critical_records,
        # moved 30 km: most change cell at the deeper zooms
        "UPDATE occurrences SET geom = ST_Translate(geom, 0.3, -0.2) "
        "WHERE occurrence_id LIKE 'grid:%'",
        "UPDATE occurrences SET review_status = 'published' WHERE occurrence_id = 'grid:cr2'",
        "UPDATE occurrences SET review_status = 'draft' WHERE occurrence_id = 'grid:cr1'",
        "DELETE FROM occurrences WHERE occurrence_id IN "
        "(SELECT occurrence_id FROM occurrences WHERE occurrence_id LIKE 'grid:%' "
        "ORDER BY occurrence_id DESC LIMIT 15)",
    )
    values = {"t": critical, "x": CUC_PHUONG[0], "y": CUC_PHUONG[1]}
    for statement in changes:
        conn.execute(sa.text(statement), values if statement is critical_records else {})
        for audience in AUDIENCES:
            assert not stale(conn, audience), (statement, audience)
        in_place = {audience: grid(conn, audience) for audience in AUDIENCES}
        rebuild(conn)
        for audience in AUDIENCES:
            assert in_place[audience] == grid(conn, audience), (statement, audience)
            assert z0(in_place[audience], 1) == published(conn, "occurrences")
    assert grid(conn, "exact") != before["exact"]
    assert grid(conn, "public") != grid(conn, "exact")  # the sensitive records moved
    conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'grid:%'"))
    for audience in AUDIENCES:
        assert grid(conn, audience) == before[audience]  # emptied cells are gone


def test_the_public_grid_counts_the_generalised_points(conn) -> None:  # type: ignore[no-untyped-def]
    """At the deepest zoom (cells of about 1 km) a record of a taxon with a 10 km level is
    counted in the cell of its generalised point, not of its exact one."""
    critical = add_taxon(conn, "Testus cellularis", "species", statuses=[("iucn_red_list", "CR")])
    bring_current(conn)
    rebuild(conn)
    record = add_record(conn, critical, CUC_PHUONG)

    def cell(geom_sql: str) -> tuple[int, int]:  # in WorldCRS84Quad: 2 x 1 tiles at zoom 0
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sa.text(
                    f"SELECT floor((ST_X(g) + 180) / 360 * 2^16)::int, "  # noqa: S608
                    f"floor((90 - ST_Y(g)) / 180 * 2^15)::int FROM ({geom_sql}) AS s(g)"
                ),
                {"id": record},
            ).one()
        )

    exact = cell("SELECT geom FROM occurrences WHERE id = :id")
    public = cell("SELECT geom FROM publish.public_occurrences WHERE id = :id")
    assert exact != public
    in_public = grid(conn, "public")
    in_exact = grid(conn, "exact")
    assert in_public.get((1, 9, *public), 0) == in_exact.get((1, 9, *public), 0) + 1
    assert in_exact.get((1, 9, *exact), 0) == in_public.get((1, 9, *exact), 0) + 1


def test_a_bulk_statement_marks_the_grids_stale(conn) -> None:  # type: ignore[no-untyped-def]
    bring_current(conn)
    rebuild(conn)
    conn.execute(
        sa.text(
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
            "SELECT 'bulk:' || i, o.taxon_id, o.basis_of_record, "
            "ST_SetSRID(ST_MakePoint(105 + (i % 100) / 100.0, 20 + i / 100000.0), 4326) "
            "FROM generate_series(1, 50001) AS i, (SELECT * FROM occurrences LIMIT 1) AS o"
        )
    )
    for audience in AUDIENCES:  # never served: the provider rebuilds them first
        assert stale(conn, audience) and grid(conn, audience) == {}
    bring_current(conn)
    rebuild(conn)
    for audience in AUDIENCES:
        assert not stale(conn, audience)
        assert z0(grid(conn, audience), 1) == count(conn, "occurrences")


def test_a_rebuild_of_the_public_points_leaves_the_public_grid_to_a_recount(conn) -> None:  # type: ignore[no-untyped-def]
    """A change of status is followed by a rebuild of the public points: that marks the public
    grid stale (never read before a recount) and bumps the layer's version (no tile cached
    before is served after); the exact grid stays."""
    bring_current(conn)
    rebuild(conn)
    version = state(conn, "occurrences")[0]
    exact = grid(conn, "exact")
    conn.execute(sa.text("SELECT publish.rebuild_occurrence_public()"))
    assert stale(conn, "public") and grid(conn, "public") == {}
    assert not stale(conn, "exact") and grid(conn, "exact") == exact
    assert state(conn, "occurrences")[0] > version


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


def _differs(conn) -> int:  # type: ignore[no-untyped-def]
    """Rows in the public view and not in the union of its parts, or the reverse."""
    parts = (
        "SELECT * FROM publish.public_occurrences_at_point "
        "UNION ALL SELECT * FROM publish.public_occurrences_in_cell"
    )
    view = "SELECT * FROM publish.public_occurrences"
    return sum(
        conn.execute(
            sa.text(f"SELECT count(*) FROM ({one} EXCEPT ALL ({other})) AS d")  # noqa: S608
        ).scalar_one()
        for one, other in ((view, parts), (parts, view))
    )


def test_the_parts_of_the_public_view_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    """The two parts the providers read (migration 0012; the second from the copy of each
    sensitive record kept with its generalised point) hold the public view's rows after every
    kind of change to a sensitive record."""
    critical = add_taxon(conn, "Testus copiosus", "species", statuses=[("iucn_red_list", "EN")])
    bring_current(conn)
    record = add_record(conn, critical, CUC_PHUONG)
    changes = (
        "UPDATE occurrences SET recorded_by = 'Nguyễn Văn A', individual_count = 3, "
        "coordinate_uncertainty_m = 20000 WHERE id = :id",
        "UPDATE occurrences SET review_status = 'draft' WHERE id = :id",
        "UPDATE occurrences SET review_status = 'published', event_date = '2024-05-01' "
        "WHERE id = :id",
        "UPDATE occurrences SET geom = ST_Translate(geom, 0.5, 0.5) WHERE id = :id",
        "DELETE FROM occurrences WHERE id = :id",
    )
    assert _differs(conn) == 0
    for statement in changes:
        conn.execute(sa.text(statement), {"id": record})
        assert _differs(conn) == 0, statement
    conn.execute(
        sa.text("UPDATE taxon_statuses SET category = 'LC' WHERE taxon_id = :t"), {"t": critical}
    )
    bring_current(conn)  # a change of status: rebuilt, copies with the points
    assert _differs(conn) == 0
