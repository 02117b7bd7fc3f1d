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
