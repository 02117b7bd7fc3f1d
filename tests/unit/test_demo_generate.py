"""The demo generator: deterministic, of the promised size, geometrically sound, clustered."""

import numpy as np
import pytest
import shapely

from vbis_geo.demo import shapes
from vbis_geo.demo.generate import DemoParameters, generate
from vbis_geo.demo.reference import load_reference

PARAMS = DemoParameters(n_occurrences=30_000)


@pytest.fixture(scope="module")
def data():
    return generate(PARAMS)


def test_same_seed_same_data_other_seed_other_data(data):
    assert generate(PARAMS).fingerprint() == data.fingerprint()
    other = DemoParameters(seed=PARAMS.seed + 1, n_occurrences=PARAMS.n_occurrences)
    assert generate(other).fingerprint() != data.fingerprint()


def test_sizes(data):
    assert len(data.protected_areas) >= 30
    assert len(data.occurrences) == PARAMS.n_occurrences
    species = [t for t in data.taxa if t["rank"] == "species"]
    assert len(species) >= 2_000
    assert data.occurrences["occurrence_id"].is_unique
    for layer in (
        "wetlands",
        "ecosystems",
        "planning_zones",
        "facilities",
        "zones",
        "designations",
    ):
        assert getattr(data, layer), layer


def test_every_protected_area_of_the_reference_is_generated(data):
    reference = {r["code"] for r in load_reference()["protected_areas"]}
    assert {pa["code"] for pa in data.protected_areas} == reference


def test_areas_match_the_reported_areas(data):
    """Boundaries carry the reported area (less where a neighbour's boundary was carved out)."""
    ratios = []
    for pa in data.protected_areas:
        if pa["reported_area_ha"] is None:
            continue
        lon, lat = pa["_centre"]
        ratios.append(shapes.to_local(pa["geom"], lon, lat).area / 1e4 / pa["reported_area_ha"])
    assert max(ratios) < 1.01
    assert np.median(ratios) > 0.97


def test_geometries_are_valid_and_zones_sit_where_they_belong(data):
    pas = {pa["code"]: pa["geom"] for pa in data.protected_areas}
    for pa in pas.values():
        assert pa.is_valid and not pa.is_empty and pa.geom_type == "MultiPolygon"
    assert not shapely.union_all(list(pas.values())).is_empty
    for zone in data.zones:
        assert zone["geom"].is_valid
        pa = pas[zone["pa_code"]]
        if zone["zone_type"] == "buffer":
            assert zone["geom"].intersection(pa).area < 1e-9 * pa.area + 1e-12
        else:
            assert zone["geom"].difference(pa).area < 1e-6 * pa.area


def test_protected_areas_do_not_overlap(data):
    geoms = [pa["geom"] for pa in data.protected_areas]
    total = sum(g.area for g in geoms)
    assert shapely.union_all(geoms).area == pytest.approx(total, rel=1e-6)


def test_occurrences_cluster_unevenly_and_mostly_near_reserves(data):
    occ = data.occurrences
    per_locality = occ["locality"].value_counts()
    top_tenth = per_locality.iloc[: max(1, len(per_locality) // 10)].sum()
    assert top_tenth / len(occ) > 0.3  # a tenth of the places hold a third of the records
    in_pa = shapely.contains_xy(
        shapely.union_all([pa["geom"] for pa in data.protected_areas]), occ["lon"], occ["lat"]
    )
    assert 0.4 < in_pa.mean() < 0.98
    assert occ["lon"].between(101.5, 118).all() and occ["lat"].between(6.5, 24).all()


def test_statuses_are_a_realistic_mix(data):
    lists = {}
    for s in data.statuses:
        lists.setdefault(s["list"], []).append(s["category"])
    assert {
        "iucn_red_list",
        "vn_red_data_book",
        "priority_protected",
        "cites",
        "endemic",
        "invasive_alien",
    } <= set(lists)
    threatened = sum(c in ("CR", "EN", "VU") for c in lists["iucn_red_list"])
    assert 30 <= threatened < len(lists["iucn_red_list"])


def test_blob_has_the_area_asked_for():
    rng = np.random.default_rng(1)
    polygon = shapes.blob(rng, 12_345_678.0)
    assert polygon.is_valid
    assert polygon.area == pytest.approx(12_345_678.0, rel=1e-9)
