import pytest

from vbis_geo.catalog import load_layers
from vbis_geo.db.models import SPATIAL_MODELS
from vbis_geo.errors import InvalidInput
from vbis_geo.settings import PROJECT_DIR


def test_every_spatial_table_is_a_published_layer():
    layers = load_layers(PROJECT_DIR / "layers")
    assert {layer.table for layer in layers} == {m.__tablename__ for m in SPATIAL_MODELS}
    for layer in layers:
        assert layer.title["vi"] and layer.title["en"]
        assert layer.id == layer.table


def test_missing_key_names_file_and_key(tmp_path):
    (tmp_path / "wetlands.yml").write_text("id: wetlands\ntable: wetlands\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"wetlands\.yml: missing key 'geometry_type'"):
        load_layers(tmp_path)


def test_title_needs_both_languages(tmp_path):
    (tmp_path / "x.yml").write_text(
        "id: x\ntable: x\ngeometry_type: Point\ntitle: {vi: X}\ndescription: {vi: a, en: b}\n"
        "keywords: {vi: [], en: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="'title' must have exactly the languages"):
        load_layers(tmp_path)


def test_every_published_field_has_titles_a_valid_sort_and_style():
    from vbis_geo.db.base import REVIEW_COLUMNS, Base

    for layer in load_layers(PROJECT_DIR / "layers"):
        table = Base.metadata.tables[layer.table]
        # the review columns are not published (vbis_geo/publish/features.py)
        published = {c.name for c in table.columns} - {layer.geometry_field, *REVIEW_COLUMNS}
        untitled = published - set(layer.field_titles)
        assert not untitled, f"{layer.id}: no title for {sorted(untitled)}"
        for name in published:
            assert layer.field_titles[name]["vi"] and layer.field_titles[name]["en"]
        # a default order keyset paging can follow: NOT NULL columns
        for name in layer.sort:
            assert not table.c[name.lstrip("-")].nullable, (layer.id, name)
        assert layer.style is not None, layer.id
        if "by" in layer.style:
            assert layer.style["by"] in (layer.tiles or {}).get("fields", []), layer.id


def test_a_style_names_its_unknown_keys(tmp_path):
    (tmp_path / "x.yml").write_text(
        "id: x\ntable: x\ngeometry_type: Point\ntitle: {vi: X, en: X}\n"
        "description: {vi: a, en: b}\nkeywords: {vi: [], en: []}\n"
        "style: {kind: circle, color: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match=r"x\.yml: style keys \['color'\] are not among"):
        load_layers(tmp_path)
