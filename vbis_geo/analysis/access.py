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
    it, intersects. For the assignment alone (which areas hold which ids); a question that
    reads the records of areas reads :func:`area_records`."""
    return ASSIGNMENTS[audience]


#: the columns of :func:`area_records` besides ``layer`` and ``area_id``
RECORD_COLUMNS = ("id", "taxon_id", "event_date", "coordinate_uncertainty_m", "geom")


def area_records(audience: Audience) -> str:
    """SQL (a parenthesised subquery, to be given an alias) of the records ``audience`` sees in
    each area, placed by the points it sees: ``layer, area_id`` and :data:`RECORD_COLUMNS`,
    each value as :attr:`Audience.relation` holds it. Filter it by ``layer`` and ``area_id``
    (or ``id``): the conditions reach the indexes of each part.

    Why not the assignment joined with the relation: for the public both are unions, and
    PostgreSQL cannot push a join into a union, so it would read every record to answer for
    one area. Here the public's records with exact points (the published ones without a
    generalised point: what ``publish.public_occurrences`` passes through unchanged) are read
    from ``publish.published_occurrences``, a plain view the planner joins freely, and only the
    few with a generalised point are read from the public relation itself, one by one."""
    columns = ", ".join(f"o.{c}" for c in RECORD_COLUMNS[1:])
    if audience is Audience.EXACT:
        return f"""(
        SELECT a.layer, a.area_id, a.occurrence_id AS id, {columns}
        FROM analysis.occurrence_areas a
        JOIN publish.published_occurrences o ON o.id = a.occurrence_id
    )"""  # noqa: S608 (fixed names)
    return f"""(
        SELECT a.layer, a.area_id, a.occurrence_id AS id, {columns}
        FROM analysis.occurrence_areas a
        JOIN publish.published_occurrences o ON o.id = a.occurrence_id
        WHERE NOT EXISTS (
            SELECT 1 FROM publish.occurrence_public p WHERE p.id = a.occurrence_id)
        UNION ALL
        SELECT g.layer, g.area_id, g.occurrence_id AS id, {columns}
        FROM analysis.occurrence_public_areas g
        CROSS JOIN LATERAL (
            -- OFFSET 0 keeps the subquery whole: the id reaches each branch of the view
            SELECT * FROM publish.public_occurrences v WHERE v.id = g.occurrence_id OFFSET 0
        ) o
    )"""  # noqa: S608 (fixed names)


#: the area tables whose rows are reviewed (migration 0011): a question reads their published
#: rows only, as it reads published records only (the provinces are not reviewed)
REVIEWED_AREAS = frozenset(
    {"protected_areas", "pa_zones", "wetlands", "ecosystems", "planning_zones"}
)


def published(alias: str, table: str) -> str:
    """SQL condition: the row ``alias`` of the area table ``table`` is published (``TRUE`` for
    a table that is not reviewed)."""
    return f"{alias}.review_status = 'published'" if table in REVIEWED_AREAS else "TRUE"
