"""Composing the stock maps on the demo data: features, classes, colours and legends agree with
what the database holds, for the public and for the national admin."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from vbis_geo.auth.principal import PUBLIC, Principal
from vbis_geo.catalog import load_layers
from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.maps.compose import compose
from vbis_geo.maps.data import resolve_parameters
from vbis_geo.maps.definitions import load_maps, parse_map
from vbis_geo.settings import PROJECT_DIR

pytestmark = pytest.mark.db

LAYERS = load_layers(PROJECT_DIR / "layers")
MAPS = {m.id: m for m in load_maps(PROJECT_DIR / "layers" / "maps", LAYERS)}
ADMIN = Principal(account_id=1, username="admin", display_name=None, role="national_admin")


def composed(conn, map_id, principal=PUBLIC, lang="vi", **raw):  # type: ignore[no-untyped-def]
    definition = MAPS[map_id]
    return compose(
        conn, definition, resolve_parameters(conn, definition, raw), principal, lang=lang
    )


def test_every_stock_map_composes(conn, common_taxon):  # type: ignore[no-untyped-def]
    for map_id in MAPS:
        extra = {"taxon": str(common_taxon)} if "taxon" in MAPS[map_id].parameters else {}
        result = composed(conn, map_id, **extra)
        assert result.title and result.layers
        for item in result.layers:
            assert item.features, (map_id, item.map_layer.id)
            assert item.legend, (map_id, item.map_layer.id)


def test_protected_areas_by_category_colours_each_category(conn):  # type: ignore[no-untyped-def]
    result = composed(conn, "protected_areas_by_category")
    areas = result.layers[1]
    expected = conn.execute(
        sa.text(
            "SELECT count(*) FROM protected_areas WHERE status = 'designated' "
            "AND review_status = 'published'"
        )
    ).scalar_one()
    assert len(areas.features) == expected
    colours = {
        f["properties"]["legal_category"]: areas.rule.colour_of(f["properties"])
        for f in areas.features
    }
    assert len(set(colours.values())) == len(colours)  # one colour per category
    assert [e.label for e in areas.legend][:2] == ["Vườn quốc gia", "Khu dự trữ thiên nhiên"]
    english = composed(conn, "protected_areas_by_category", lang="en")
    assert english.layers[1].legend[0].label == "National park"


def test_richness_classes_hold_every_province_of_the_date(conn):  # type: ignore[no-untyped-def]
    before = composed(conn, "species_richness_by_province", date="2025-06-30").layers[0]
    after = composed(conn, "species_richness_by_province", date="2025-07-01").layers[0]
    assert len(before.features) == 63 and len(after.features) == 34
    for item in (before, after):
        species = [f["properties"]["species"] for f in item.features]
        assert item.rule.bounds[-1] == max(species)
        assert all(item.rule.colour_of(f["properties"]) for f in item.features)
        # natural breaks: each class's values are contiguous in the sorted order
        assert sorted(species) == sorted(
            species,
            key=lambda v: (item.rule.bounds.index(next(b for b in item.rule.bounds if v <= b)), v),
        )


def test_a_missing_or_unknown_parameter_is_named(conn):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="needs the parameter 'taxon'"):
        composed(conn, "taxon_distribution")
    with pytest.raises(NotFound, match="unknown taxon"):
        composed(conn, "taxon_distribution", taxon="Nonexistens fictus")
    with pytest.raises(InvalidInput, match="expected a date as YYYY-MM-DD"):
        composed(conn, "species_richness_by_province", date="30/06/2025")


def test_density_counts_every_threatened_record_once(conn):  # type: ignore[no-untyped-def]
    result = composed(conn, "threatened_species_density", principal=ADMIN)
    cells = result.layers[1].features
    expected = conn.execute(
        sa.text(
            "SELECT count(*) FROM publish.published_occurrences o "
            "JOIN analysis.taxon_species ts ON ts.taxon_id = o.taxon_id "
            "WHERE EXISTS (SELECT 1 FROM taxon_statuses st WHERE st.taxon_id = ts.species_id "
            "AND st.list IN ('iucn_red_list', 'vn_red_data_book') "
            "AND st.category IN ('CR', 'EN', 'VU'))"
        )
    ).scalar_one()
    assert expected > 0
    assert sum(c["properties"]["count"] for c in cells) == expected


def test_a_posted_map_is_checked_before_it_is_drawn():
    with pytest.raises(InvalidInput, match=r"layers\[0\]: unknown layer 'roads'"):
        parse_map(
            {
                "id": "x",
                "title": {"vi": "x", "en": "x"},
                "layers": [{"id": "a", "layer": "roads", "symbology": {"kind": "single"}}],
            },
            LAYERS,
        )
    with pytest.raises(InvalidInput, match="names \\['area'\\], not fields of protected_areas"):
        parse_map(
            {
                "id": "x",
                "title": {"vi": "x", "en": "x"},
                "layers": [
                    {
                        "id": "a",
                        "layer": "protected_areas",
                        "filter": "area > 5",
                        "symbology": {"kind": "single"},
                    }
                ],
            },
            LAYERS,
        )
    with pytest.raises(InvalidInput, match="field 'colour' is not a field of protected_areas"):
        parse_map(
            {
                "id": "x",
                "title": {"vi": "x", "en": "x"},
                "layers": [
                    {
                        "id": "a",
                        "layer": "protected_areas",
                        "symbology": {
                            "kind": "categorised",
                            "field": "colour",
                            "categories": {"a": {"vi": "a", "en": "a"}},
                        },
                    }
                ],
            },
            LAYERS,
        )
    with pytest.raises(InvalidInput, match="uses \\{who\\}, not a parameter of the map"):
        parse_map(
            {
                "id": "x",
                "title": {"vi": "x", "en": "x"},
                "layers": [
                    {
                        "id": "a",
                        "layer": "protected_areas",
                        "filter": "code = '{who}'",
                        "symbology": {"kind": "single"},
                    }
                ],
            },
            LAYERS,
        )
