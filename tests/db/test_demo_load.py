"""The demo load: what the generator made is what the database holds; reloading is a no-op."""

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DEMO_OCCURRENCES
from vbis_geo.demo.generate import DemoParameters
from vbis_geo.demo.loader import DEMO_DATASETS, load_demo

pytestmark = pytest.mark.db

COUNTED = (
    "protected_areas",
    "pa_zones",
    "pa_designations",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "taxa",
    "taxon_statuses",
    "occurrences",
)


def table_counts(conn) -> dict[str, int]:
    return {
        t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
        for t in COUNTED
    }


def test_every_layer_is_loaded_with_its_dataset_entry(conn):
    counts = table_counts(conn)
    assert counts["occurrences"] == TEST_DEMO_OCCURRENCES
    assert counts["protected_areas"] >= 30
    assert all(n > 0 for n in counts.values()), counts
    rows = conn.execute(
        sa.text("SELECT code, target_layer, n_loaded FROM datasets WHERE code LIKE 'demo-%'")
    ).all()
    assert {r.code for r in rows} == {code for code, _, _ in DEMO_DATASETS.values()}
    by_layer = {r.target_layer: r.n_loaded for r in rows}
    assert by_layer["occurrences"] == TEST_DEMO_OCCURRENCES
    assert by_layer["protected_areas"] == counts["protected_areas"]


def test_loading_again_with_the_same_parameters_changes_nothing(conn):
    before = table_counts(conn)
    max_id = conn.execute(sa.text("SELECT max(id) FROM occurrences")).scalar()
    result = load_demo(conn, DemoParameters(n_occurrences=TEST_DEMO_OCCURRENCES), echo=print)
    assert result.skipped
    assert table_counts(conn) == before
    assert conn.execute(sa.text("SELECT max(id) FROM occurrences")).scalar() == max_id


def test_loading_another_size_replaces_the_demo_without_duplicates(conn):
    before = table_counts(conn)
    result = load_demo(conn, DemoParameters(n_occurrences=5_000), echo=lambda _: None)
    assert not result.skipped
    after = table_counts(conn)
    assert after["occurrences"] == 5_000
    assert {k: v for k, v in after.items() if k != "occurrences"} == {
        k: v for k, v in before.items() if k != "occurrences"
    }


def test_database_agrees_with_the_generator(conn):
    """Computed areas against the shapes' own equal-area areas, and zones inside their area."""
    rows = conn.execute(
        sa.text(
            "SELECT code, gis_area_ha, reported_area_ha FROM protected_areas "
            "WHERE reported_area_ha IS NOT NULL ORDER BY code"
        )
    ).all()
    ratios = sorted(r.gis_area_ha / r.reported_area_ha for r in rows)
    assert ratios[len(ratios) // 2] == pytest.approx(1.0, abs=0.03)
    outside = conn.execute(
        sa.text(
            "SELECT count(*) FROM pa_zones z JOIN protected_areas p ON p.id = z.protected_area_id "
            "WHERE z.zone_type <> 'buffer' AND "
            "ST_Area(ST_Difference(z.geom, p.geom)::geography) > 0.001 * ST_Area(z.geom::geography)"
        )
    ).scalar()
    assert outside == 0


def test_a_failed_load_leaves_nothing_behind(engine, monkeypatch):
    """All or nothing: an error midway through the load rolls every table back."""
    import vbis_geo.demo.loader as loader

    def broken_copy(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_copy_occurrences", broken_copy)
    with engine.connect() as conn:
        before = table_counts(conn)
    with pytest.raises(RuntimeError, match="disk full"), engine.begin() as conn:
        load_demo(conn, DemoParameters(n_occurrences=1_000), echo=lambda _: None)
    with engine.connect() as conn:
        assert table_counts(conn) == before
