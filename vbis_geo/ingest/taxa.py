"""Match occurrence names to the taxonomy backbone (``taxa``).

An accepted name matches exactly (authorship and extra spaces aside). A synonym, or a close
spelling (trigram similarity, pg_trgm), is offered as a suggestion and the row is rejected:
names are never silently replaced. ``accept_synonyms`` records a synonym under its accepted
taxon (reported as a repair); ``add_taxa`` adds a name missing from the backbone, with the
classification the file gives (kingdom ... genus), reported as a warning per name.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Smallest pg_trgm similarity for a name to be offered as a close spelling.
SIMILARITY = 0.55
CLASSIFICATION = ("kingdom", "phylum", "class", "order", "family", "genus")
_AUTHOR_PARTICLES = {"de", "van", "von", "der", "den", "du", "la", "le", "d'", "ex", "in"}
_MARKERS = {"subsp.", "ssp.", "var.", "f.", "forma"}


@dataclass(frozen=True)
class NameMatch:
    """What a name in a file matched: ``taxon_id`` to record it under, or None with suggestions."""

    name: str
    taxon_id: int | None
    how: str  # exact | synonym | new | unmatched
    suggestions: tuple[str, ...] = ()
    accepted_name: str | None = None


def canonical_name(name: str) -> str:
    """The name without authorship, with single spaces.

    >>> canonical_name("Panthera  tigris (Linnaeus, 1758)")
    'Panthera tigris'
    >>> canonical_name("Rhacophorus sp. VBIS-0012")
    'Rhacophorus sp. VBIS-0012'
    >>> canonical_name("Aedes aegypti")
    'Aedes aegypti'
    """
    words = name.split()
    if not words:
        return ""
    out = words[:1]
    rest = words[1:]
    if rest and rest[0] == "sp." and len(rest) > 1:
        return " ".join([*out, *rest[:2]])
    if rest and _epithet(rest[0]):
        out.append(rest[0])
        rest = rest[1:]
        if len(rest) > 1 and rest[0] in _MARKERS and _epithet(rest[1]):
            out += rest[:2]
        elif rest and _epithet(rest[0]):
            out.append(rest[0])
    return " ".join(out)


def _epithet(word: str) -> bool:
    return word.isalpha() and word.islower() and len(word) > 1 and word not in _AUTHOR_PARTICLES


def match_names(
    conn: Connection,
    names: list[str],
    *,
    accept_synonyms: bool,
    backbone: dict[str, sa.Row] | None = None,
) -> dict[str, NameMatch]:
    """A :class:`NameMatch` for each distinct name in ``names``; ``backbone`` is
    :func:`backbone_names` when read before (a query only for close spellings then)."""
    canon = {name: canonical_name(name) for name in names}
    found = backbone if backbone is not None else backbone_names(conn, sorted(set(canon.values())))
    out: dict[str, NameMatch] = {}
    missing = []
    for name, c in canon.items():
        row = found.get(c)
        if row is None:
            missing.append(name)
        elif row.taxonomic_status == "synonym" and row.accepted_id is not None:
            taxon = row.accepted_id if accept_synonyms else None
            out[name] = NameMatch(name, taxon, "synonym", (row.accepted_name,), row.accepted_name)
        else:
            out[name] = NameMatch(name, row.id, "exact")
    for name in missing:
        out[name] = NameMatch(name, None, "unmatched", close_spellings(conn, canon[name]))
    return out


def backbone_names(conn: Connection, names: list[str] | None = None) -> dict[str, sa.Row]:
    """The backbone's entries (id, status, accepted taxon) by scientific name: of ``names``, or
    all of them."""
    rows = conn.execute(
        sa.text(
            "SELECT t.scientific_name, t.id, t.taxonomic_status, a.id AS accepted_id, "
            "a.scientific_name AS accepted_name "
            "FROM taxa t LEFT JOIN taxa a ON a.id = t.accepted_id "
            + ("WHERE t.scientific_name = ANY(:names)" if names is not None else "")
        ),
        {"names": names},
    ).all()
    return {r.scientific_name: r for r in rows}


def close_spellings(conn: Connection, name: str, limit: int = 3) -> tuple[str, ...]:
    """Backbone names spelt like ``name`` (pg_trgm similarity), best first."""
    rows = conn.execute(
        sa.text(
            "SELECT scientific_name FROM taxa WHERE scientific_name % :name "
            "AND similarity(scientific_name, :name) >= :s "
            "ORDER BY similarity(scientific_name, :name) DESC, scientific_name LIMIT :limit"
        ),
        {"name": name, "s": SIMILARITY, "limit": limit},
    ).scalars()
    return tuple(rows)


def add_taxon(
    conn: Connection,
    name: str,
    classification: dict[str, str | None],
    rank: str,
    authorship: str | None,
    dataset_id: int | None,
) -> int:
    """Insert ``name`` with its parents from ``classification`` where missing; returns its id."""
    parent_id = None
    for level in CLASSIFICATION:
        value = classification.get(level)
        if not value:
            continue
        parent_id = _ensure(conn, canonical_name(value), level, parent_id, None, dataset_id)
    return _ensure(conn, canonical_name(name), rank, parent_id, authorship, dataset_id)


def _ensure(
    conn: Connection,
    name: str,
    rank: str,
    parent_id: int | None,
    authorship: str | None,
    dataset_id: int | None,
) -> int:
    existing = conn.execute(
        sa.text("SELECT id FROM taxa WHERE scientific_name = :n AND rank = :r"),
        {"n": name, "r": rank},
    ).scalar()
    if existing is not None:
        return int(existing)
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO taxa (scientific_name, rank, authorship, parent_id, dataset_id, "
                "remarks) VALUES (:n, :r, :a, :p, :d, 'added by an occurrence load "
                "(--add-taxa) with the classification given in the file') RETURNING id"
            ),
            {"n": name, "r": rank, "a": authorship, "p": parent_id, "d": dataset_id},
        ).scalar_one()
    )
