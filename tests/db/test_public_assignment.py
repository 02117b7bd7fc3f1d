"""The areas of the public's points and the per-audience species counts (migration 0013): kept
with every change of records, generalised points, areas and sensitivity, and equal to an
independent geopandas join of the generalised points with the areas.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import box

from tests.analysis import independent
from tests.db.test_public_locations import CUC_PHUONG, add_record, bring_current, expected_centre
from tests.db.test_sensitivity import add_taxon

pytestmark = pytest.mark.db


def all_current(conn) -> None:  # type: ignore[no-untyped-def]
    """What ensure_current does, on the test's own transaction, the exact assignment too."""
    bring_current(conn)
    if conn.execute(
        sa.text("SELECT stale FROM analysis.state WHERE name = 'occurrence_areas'")
    ).scalar_one():
        conn.execute(sa.text("SELECT analysis.rebuild_occurrence_areas()"))


def public_areas(conn, record: int, layer: str = "protected_areas") -> set[int]:  # type: ignore[no-untyped-def]
    return set(
        conn.execute(
            sa.text(
                "SELECT area_id FROM analysis.occurrence_public_areas "
                "WHERE occurrence_id = :r AND layer = :l"
            ),
            {"r": record, "l": layer},
        ).scalars()
    )


def add_area(conn, code: str, around: tuple[float, float], half_deg: float = 0.002) -> int:  # type: ignore[no-untyped-def]
    outline = box(around[0] - half_deg, around[1] - half_deg, around[0] + half_deg,
                  around[1] + half_deg)  # fmt: skip
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, "
                "iucn_category, status, geom) VALUES (:c, 'Thử', 'Test', 'nature_reserve', 'Ia', "
                "'designated', ST_Multi(ST_GeomFromText(:g, 4326))) RETURNING id"
            ),
            {"c": code, "g": outline.wkt},
        ).scalar_one()
    )


def counts(conn, area: int) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """audience -> (species, records) of the stored counts of a protected area."""
    rows = conn.execute(
        sa.text(
            "SELECT audience, count(*), sum(records) FROM analysis.area_species "
            "WHERE layer = 'protected_areas' AND area_id = :a GROUP BY audience"
        ),
        {"a": area},
    ).all()
    return {audience: (int(n), int(total)) for audience, n, total in rows}


def test_the_areas_of_a_generalised_point_follow_its_record(conn) -> None:  # type: ignore[no-untyped-def]
    centre = expected_centre(*CUC_PHUONG, 10)
    at_centre = add_area(conn, "PA-TEST-CENTRE", centre)
    at_spot = add_area(conn, "PA-TEST-SPOT", CUC_PHUONG)
    taxon = add_taxon(conn, "Testus assignatus", "species", statuses=[("iucn_red_list", "EN")])
    all_current(conn)  # the new taxon's level
    record = add_record(conn, taxon, CUC_PHUONG)
    # placed by the statement's triggers, no rebuild
    assert at_centre in public_areas(conn, record) and at_spot not in public_areas(conn, record)
    assert public_areas(conn, record, "admin_units")  # its province (of the 63 and of the 34)
    # moved: its new generalised point's areas
    far = (106.0512, 21.2713)
    conn.execute(
        sa.text(
            "UPDATE occurrences SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :i"
        ),
        {"x": far[0], "y": far[1], "i": record},
    )
    assert at_centre not in public_areas(conn, record)
    conn.execute(
        sa.text(
            "UPDATE occurrences SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :i"
        ),
        {"x": CUC_PHUONG[0], "y": CUC_PHUONG[1], "i": record},
    )
    assert at_centre in public_areas(conn, record)
    # an area moved onto the generalised point, or away from it
    conn.execute(
        sa.text(
            "UPDATE protected_areas SET geom = (SELECT geom FROM protected_areas WHERE id = :a) "
            "WHERE id = :b"
        ),
        {"a": at_centre, "b": at_spot},
    )
    assert {at_centre, at_spot} <= public_areas(conn, record)
    conn.execute(sa.text("DELETE FROM protected_areas WHERE id = :a"), {"a": at_centre})
    assert at_centre not in public_areas(conn, record) and at_spot in public_areas(conn, record)
    conn.execute(sa.text("DELETE FROM occurrences WHERE id = :i"), {"i": record})
    assert public_areas(conn, record, "admin_units") == set()


def test_a_change_of_status_takes_the_public_areas_and_counts_with_it(conn) -> None:  # type: ignore[no-untyped-def]
    centre = expected_centre(*CUC_PHUONG, 10)
    at_centre = add_area(conn, "PA-TEST-CENTRE", centre)
    at_spot = add_area(conn, "PA-TEST-SPOT", CUC_PHUONG)
    taxon = add_taxon(conn, "Testus mutatus", "species", statuses=[("iucn_red_list", "LC")])
    record = add_record(conn, taxon, CUC_PHUONG)
    add_record(conn, taxon, CUC_PHUONG, oid="test-draft", review_status="draft")
    all_current(conn)
    assert public_areas(conn, record) == set()  # not sensitive: its exact areas serve everyone
    conn.execute(sa.text("SELECT analysis.rebuild_area_species()"))
    assert counts(conn, at_spot) == {"exact": (1, 1), "public": (1, 1)}  # the draft: no
    assert counts(conn, at_centre) == {}
    conn.execute(
        sa.text("UPDATE taxon_statuses SET category = 'CR' WHERE taxon_id = :t"), {"t": taxon}
    )
    all_current(conn)  # the generalised points rebuilt: their areas with them
    assert at_centre in public_areas(conn, record)
    stale = set(conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars())
    assert "area_species" in stale
    conn.execute(sa.text("SELECT analysis.rebuild_area_species()"))
    assert counts(conn, at_spot) == {"exact": (1, 1)}
    assert counts(conn, at_centre) == {"public": (1, 1)}


def test_ensure_current_recounts_after_a_change_of_status(engine) -> None:  # type: ignore[no-untyped-def]
    """Committed: only the generalised points are stale after a change of status, and the
    counts are made stale by their rebuild; one ensure_current(counts=True) does both."""
    from vbis_geo.analysis.assignment import ensure_current, stale_parts

    ensure_current(engine, counts=True)
    with engine.begin() as conn:
        taxon = add_taxon(conn, "Testus recountus", "species", statuses=[("iucn_red_list", "LC")])
        record = add_record(conn, taxon, CUC_PHUONG)
        centre = add_area(conn, "PA-TEST-RECOUNT", expected_centre(*CUC_PHUONG, 10))
    try:
        ensure_current(engine, counts=True)
        with engine.begin() as conn:
            assert counts(conn, centre) == {}
            conn.execute(
                sa.text("UPDATE taxon_statuses SET category = 'EN' WHERE taxon_id = :t"),
                {"t": taxon},
            )
            assert "area_species" not in stale_parts(conn)
        assert ensure_current(engine, counts=True) is not None
        with engine.connect() as conn:
            assert stale_parts(conn) == []
            assert counts(conn, centre) == {"public": (1, 1)}
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM occurrences WHERE id = :i"), {"i": record})
            conn.execute(sa.text("DELETE FROM protected_areas WHERE id = :a"), {"a": centre})
            conn.execute(sa.text("DELETE FROM taxon_statuses WHERE taxon_id = :t"), {"t": taxon})
            conn.execute(sa.text("DELETE FROM taxa WHERE id = :t"), {"t": taxon})


def test_the_public_areas_are_a_join_of_the_generalised_points(engine) -> None:  # type: ignore[no-untyped-def]
    """Every sensitive record of the demo, generalised by pyproj (independent.py) and joined
    with the protected areas and provinces by geopandas: the table's rows, exactly."""
    from vbis_geo.analysis.assignment import ensure_current

    ensure_current(engine)
    points = independent.occurrences(engine, "public")
    moved = points[points["level_km"] > 0]
    assert len(moved) > 100
    for layer in ("protected_areas", "admin_units"):
        areas = independent.areas(engine, layer)
        pairs = independent.inside(gpd.GeoDataFrame(moved), areas)
        expected = set(
            zip(moved.loc[pairs["point"], "id"], areas.loc[pairs["polygon"], "id"], strict=True)
        )
        got = set(
            pd_rows(
                engine,
                "SELECT occurrence_id, area_id FROM analysis.occurrence_public_areas "
                "WHERE layer = :l",
                {"l": layer},
            )
        )
        assert got == expected and len(expected) > 0, layer


def pd_rows(engine, sql: str, params: dict) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def,type-arg]
    with engine.connect() as conn:
        return [(int(a), int(b)) for a, b in conn.execute(sa.text(sql), params)]
