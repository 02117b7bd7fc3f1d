"""The one place reads of occurrences take their records from, by who is asking.

Two relations of the same columns (migration 0011) hold what each audience may see:

* ``publish.published_occurrences``: every published record at its exact point, for a
  principal with the right to exact locations (:attr:`Principal.sees_exact_locations`: the
  national admin, or an account granted ``exact_locations``);
* ``publish.public_occurrences``: every published record, those of sensitive taxa at the
  centre of their grid cell (1, 10 or 25 km) with ``locality`` and ``occurrence_remarks``
  withheld, for everyone else.

Both leave out drafts and rejected rows; ``generalised_km`` says how far a point was moved (0:
exact). Filters (bbox, CQL2, areas) apply to the relation's ``geom``, so a narrowed filter
cannot find an exact spot the relation does not hold. What is derived from them follows the
audience too: the record-to-area assignment (:func:`area_assignment`: the public's places a
sensitive record by its generalised point) and the per-area species counts
(``analysis.area_species``, one set per audience). Before reading the public relation,
:func:`vbis_geo.analysis.assignment.ensure_current` brings its generalised points up to date
(a change of status or override marks them stale).

An expert granted exact locations of its taxonomic groups only still reads the public relation
here (the conservative side); reading its groups exactly is to come with the expert's scopes.
"""

from __future__ import annotations

from enum import StrEnum

from vbis_geo.auth.principal import PUBLIC, Principal


class Audience(StrEnum):
    """Which relation of occurrences a principal reads; also a key of what is derived from it
    (cached tiles, counts), so that one audience never reads what was made for the other."""

    EXACT = "exact"
    PUBLIC = "public"

    @property
    def relation(self) -> str:
        return RELATIONS[self]


RELATIONS = {
    Audience.EXACT: "publish.published_occurrences",
    Audience.PUBLIC: "publish.public_occurrences",
}


def audience(principal: Principal | None) -> Audience:
    """The audience of ``principal`` (the public when None)."""
    principal = principal or PUBLIC
    return Audience.EXACT if principal.sees_exact_locations else Audience.PUBLIC


def visible_occurrences(principal: Principal | None = None) -> str:
    """The SQL relation of the occurrences ``principal`` may read (the public's when None)."""
    return audience(principal).relation


#: the record-to-area assignment each audience reads, rows (layer, area_id, occurrence_id): the
#: exact points' (migration 0006), and for the public the same without the records that have a
#: generalised point, plus the areas of those points (migration 0013). Drafts are in both: a
#: question joins the assignment with its audience's relation, which holds published rows only.
ASSIGNMENTS = {
    Audience.EXACT: "analysis.occurrence_areas",
    Audience.PUBLIC: """(
        SELECT a.layer, a.area_id, a.occurrence_id FROM analysis.occurrence_areas a
        WHERE NOT EXISTS (
            SELECT 1 FROM publish.occurrence_public p WHERE p.id = a.occurrence_id)
        UNION ALL
        SELECT g.layer, g.area_id, g.occurrence_id FROM analysis.occurrence_public_areas g
    )""",
}


def area_assignment(audience: Audience) -> str:
    """SQL of the record-to-area assignment ``audience`` reads (a table name or a parenthesised
    subquery, to be given an alias): each record in the areas its point, as the audience sees
    it, intersects."""
    return ASSIGNMENTS[audience]


#: the area tables whose rows are reviewed (migration 0011): a question reads their published
#: rows only, as it reads published records only (the provinces are not reviewed)
REVIEWED_AREAS = frozenset(
    {"protected_areas", "pa_zones", "wetlands", "ecosystems", "planning_zones"}
)


def published(alias: str, table: str) -> str:
    """SQL condition: the row ``alias`` of the area table ``table`` is published (``TRUE`` for
    a table that is not reviewed)."""
    return f"{alias}.review_status = 'published'" if table in REVIEWED_AREAS else "TRUE"
