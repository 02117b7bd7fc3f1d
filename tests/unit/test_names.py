import doctest

import pytest

import vbis_geo.ingest.admin_units
import vbis_geo.names
import vbis_geo.settings
from vbis_geo.names import fold_diacritics, slug


@pytest.mark.parametrize("module", [vbis_geo.names, vbis_geo.ingest.admin_units, vbis_geo.settings])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Cúc Phương", "Cuc Phuong"),
        ("Tràm Chim", "Tram Chim"),
        ("Đồng Tháp", "Dong Thap"),
        ("Khánh Hoà", "Khanh Hoa"),
        ("Khánh Hòa", "Khanh Hoa"),
        # decomposed input (NFD, as typed on some keyboards) folds the same way
        ("Cu\u0301c Phu\u031bo\u031bng", "Cuc Phuong"),
    ],
)
def test_fold_diacritics(text, folded):
    assert fold_diacritics(text) == folded


def test_slug():
    assert slug("Bà Rịa - Vũng Tàu") == "BA-RIA-VUNG-TAU"
