"""``/api/search``: names found with or without their Vietnamese diacritics, in any case."""

from __future__ import annotations

import pytest

from vbis_geo.analysis.search import FOLD_FROM, FOLD_TO, fold
from vbis_geo.names import fold_diacritics

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("cuc phuong", "PA-CUC-PHUONG"),
        ("Cúc Phương", "PA-CUC-PHUONG"),
        ("CUC PHUONG", "PA-CUC-PHUONG"),
        ("phong nha", "PA-PHONG-NHA-KE-BANG"),
        ("xuan thuy", "PA-XUAN-THUY"),
    ],
)
def test_protected_areas_are_found_without_diacritics(client, typed, code) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/api/search", query_string={"q": typed}).json
    codes = [a["code"] for a in found["protected_areas"]]
    assert codes and codes[0] == code, codes
    west, south, east, north = found["protected_areas"][0]["bbox"]
    assert 102 < west < east < 117 and 6 < south < north < 24


def test_taxa_by_vietnamese_and_scientific_names(client, engine) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    with engine.connect() as conn:
        name_vi, scientific = conn.execute(
            sa.text(
                "SELECT vernacular_name_vi, scientific_name FROM taxa "
                "WHERE vernacular_name_vi ~ '[ăâđêôơư]' ORDER BY id LIMIT 1"
            )
        ).one()
    for typed in (fold_diacritics(name_vi).lower(), name_vi.upper(), scientific.lower()):
        taxa = client.get("/api/search", query_string={"q": typed}).json["taxa"]
        assert scientific in [t["scientific_name"] for t in taxa], typed


def test_the_sql_folding_is_the_python_one() -> None:
    # 12 vowels (a ă â e ê i o ô ơ u ư y) in 6 tones, less the 6 plain ones, and đ
    assert len(FOLD_FROM) == len(FOLD_TO) == 67 and FOLD_TO.isascii()
    for letter, folded in zip(FOLD_FROM, FOLD_TO, strict=True):
        assert fold(letter) == folded
    assert fold("Đắk Lắk") == "dak lak"


def test_a_short_or_odd_query_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/search?q=a").status_code == 400
    assert client.get("/api/search?q=abc&limit=500").status_code == 400
    wildcards = client.get("/api/search?q=%25%25")  # '%%': matched as text, not a pattern
    assert wildcards.status_code == 200
    assert wildcards.json == {"protected_areas": [], "taxa": []}
    assert client.get("/api/search?q=abc%00").status_code == 400
