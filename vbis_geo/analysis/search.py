"""Search of protected areas and taxa by name, as people type them: Vietnamese names with or
without their diacritics ("cuc phuong" finds "Cúc Phương", "dak lak" finds "Đắk Lắk"),
scientific and English names, any case.

Both sides are folded the same way: the query in Python with
:func:`vbis_geo.names.fold_diacritics`, the names in SQL with ``translate()`` over every
Vietnamese letter with a mark (:data:`FOLD_FROM` to :data:`FOLD_TO`, built from the same
function, so the two cannot disagree). Names that start with the query come first, then
shorter names.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.inputs import plain_text
from vbis_geo.errors import InvalidInput
from vbis_geo.names import fold_diacritics

_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # none, ` ´ ~ ? .


def _letters() -> str:
    letters = {"đ"}
    for base in ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"):
        for tone in _TONES:
            letters.add(unicodedata.normalize("NFC", base + tone))
    return "".join(sorted(c for c in letters if fold_diacritics(c) != c))


#: lower-case Vietnamese letters with a mark, and the letter each folds to
FOLD_FROM = _letters()
FOLD_TO = "".join(fold_diacritics(c) for c in FOLD_FROM)


def folded_sql(expression: str) -> str:
    """SQL folding ``expression`` (a column) like :func:`fold_diacritics` after ``lower``."""
    return f"translate(lower(coalesce({expression}, '')), '{FOLD_FROM}', '{FOLD_TO}')"


def fold(text: str) -> str:
    return fold_diacritics(text).lower()


def like_escape(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards and escape character taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(conn: Connection, q: str, limit: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Protected areas in force (published) and taxa whose names contain ``q``."""
    q = q.strip()
    if len(q) < 2:
        raise InvalidInput("q: expected at least 2 characters of a name")
    plain_text("q", q, "a part of a name")
    if not 1 <= limit <= 50:
        raise InvalidInput("limit: expected a whole number from 1 to 50")
    folded = fold(q)
    params = {
        "contains": f"%{like_escape(folded)}%",
        "starts": f"{like_escape(folded)}%",
        "limit": limit,
    }
    names = [folded_sql(f"pa.{c}") for c in ("name_vi", "name_en", "code")]
    areas = conn.execute(
        sa.text(
            f"""
            SELECT pa.code, pa.name_vi, pa.name_en, pa.legal_category,
                   ST_XMin(pa.geom) AS west, ST_YMin(pa.geom) AS south,
                   ST_XMax(pa.geom) AS east, ST_YMax(pa.geom) AS north
            FROM protected_areas pa
            WHERE pa.review_status = 'published' AND pa.valid_to IS NULL
              AND ({" OR ".join(f"{n} LIKE :contains" for n in names)})
            ORDER BY ({" OR ".join(f"{n} LIKE :starts" for n in names)}) DESC,
                     length(pa.name_vi), pa.code
            LIMIT :limit
            """  # noqa: S608 (fixed column names; values bound)
        ),
        params,
    ).all()
    taxon_names = [
        folded_sql(f"t.{c}")
        for c in ("scientific_name", "vernacular_name_vi", "vernacular_name_en")
    ]
    taxa = conn.execute(
        sa.text(
            f"""
            SELECT t.id, t.scientific_name, t.rank, t.taxonomic_status, t.accepted_id,
                   t.vernacular_name_vi, t.vernacular_name_en
            FROM taxa t
            WHERE {" OR ".join(f"{n} LIKE :contains" for n in taxon_names)}
            ORDER BY ({" OR ".join(f"{n} LIKE :starts" for n in taxon_names)}) DESC,
                     t.taxonomic_status = 'accepted' DESC, length(t.scientific_name), t.id
            LIMIT :limit
            """  # noqa: S608 (fixed column names; values bound)
        ),
        params,
    ).all()
    return {
        "protected_areas": [
            {
                "code": r.code,
                "name_vi": r.name_vi,
                "name_en": r.name_en,
                "legal_category": r.legal_category,
                "bbox": [r.west, r.south, r.east, r.north],
            }
            for r in areas
        ],
        "taxa": [dict(r._mapping) for r in taxa],
    }
