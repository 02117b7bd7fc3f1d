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
cannot find an exact spot the relation does not hold. Before reading the public relation,
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


def unscoped_occurrences() -> str:
    """Every record, exact, drafts included: what the questions read before they took the
    principal. Kept only until each question reads :func:`visible_occurrences` (issue 6, in
    progress)."""
    return "public.occurrences"
