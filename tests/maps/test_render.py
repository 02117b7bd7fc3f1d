"""The stock maps as PNG and PDF: the size asked, not blank, the legend's colours drawn, and the
Vietnamese text of title, legend and footer in the PDF (read back with poppler's pdftotext; pages
made into PNG with pdftoppm). The images are kept in tests/artifacts/maps for a person to see."""

from __future__ import annotations

import io
import subprocess
import warnings

import numpy as np
import pytest
from PIL import Image

from tests.maps.test_compose import MAPS, composed
from vbis_geo.errors import InvalidInput
from vbis_geo.maps.render import render_pdf, render_png
from vbis_geo.settings import PROJECT_DIR

pytestmark = pytest.mark.db

ARTIFACTS = PROJECT_DIR / "tests" / "artifacts" / "maps"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _has_colour(image: np.ndarray, hex_colour: str, tolerance: int = 6) -> bool:
    return bool(
        (np.abs(image[..., :3].astype(int) - _rgb(hex_colour)).max(axis=-1) <= tolerance).any()
    )


@pytest.mark.parametrize("map_id", sorted(MAPS))
def test_png_is_the_size_asked_and_shows_its_legend(conn, common_taxon, map_id):  # type: ignore[no-untyped-def]
    extra = {"taxon": str(common_taxon)} if "taxon" in MAPS[map_id].parameters else {}
    result = composed(conn, map_id, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Glyph ... missing from font": a wrong letter
        png = render_png(result, 1200, 900)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{map_id}.png").write_bytes(png)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (900, 1200, 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # not blank
    for item in result.layers:
        for entry in item.legend:
            assert _has_colour(image, entry.colour), (map_id, item.map_layer.id, entry)


def test_pdf_holds_the_vietnamese_text_and_is_a4_landscape(conn, tmp_path):  # type: ignore[no-untyped-def]
    result = composed(conn, "protected_areas_by_category")
    pdf = render_pdf(result, "A4", "landscape")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "protected_areas_by_category.pdf").write_bytes(pdf)
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in (
        "Hệ thống khu bảo tồn theo phân hạng",
        "Chú giải",
        "Vườn quốc gia",
        "Khu bảo tồn loài - sinh cảnh",
        "Quần đảo Hoàng Sa",
        "Quần đảo Trường Sa",
        "km",
        "CSDL đa dạng sinh học quốc gia",
    ):
        assert expected in text, expected
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    assert "841.89 x 595.276 pts (A4)" in info.stdout
    page = Image.open(tmp_path / "page.png")
    # A4 landscape, 297 x 210 mm, at 50 dots per inch (pdftoppm rounds up)
    assert abs(page.size[0] - 297 / 25.4 * 50) < 1
    assert abs(page.size[1] - 210 / 25.4 * 50) < 1
    pixels = np.asarray(page.convert("RGB"))
    for entry in result.layers[1].legend:
        assert _has_colour(pixels, entry.colour, tolerance=12), entry


def test_an_a3_portrait_pdf_in_english(conn, tmp_path):  # type: ignore[no-untyped-def]
    result = composed(conn, "species_richness_by_province", lang="en", date="2025-07-01")
    path = tmp_path / "map.pdf"
    path.write_bytes(render_pdf(result, "A3", "portrait"))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    assert "841.89 x 1190.55 pts (A3)" in info.stdout
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Species richness by province" in text and "Legend" in text


def test_bad_sizes_are_named(conn):  # type: ignore[no-untyped-def]
    result = composed(conn, "protected_areas_by_category")
    with pytest.raises(InvalidInput, match="width=50: expected 200 to 6000 pixels"):
        render_png(result, 50, 400)
    with pytest.raises(InvalidInput, match="paper 'A5': expected A4 or A3"):
        render_pdf(result, "A5")
