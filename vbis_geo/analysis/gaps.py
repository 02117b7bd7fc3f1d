"""Gap analysis: how much of each threatened or priority-protected species' records lie
outside every protected area.

The species are those (accepted, of species rank) that are threatened (CR, EN or VU on the
IUCN Red List or in the Vietnam Red Data Book, :mod:`vbis_geo.analysis.taxa`) or on the list of
species prioritised for protection (Decree 64/2019/NĐ-CP, ``priority_protected``). Records are
rolled up to species as in :mod:`vbis_geo.analysis.species`. A record is inside when it is
assigned to a protected area in force (boundary rules of :mod:`vbis_geo.analysis.assignment`);
overlapping protected areas count it once. The records are those of the audience asking
(:mod:`vbis_geo.analysis.access`), placed by the points it sees: for the public, a sensitive
record is inside when its generalised point is.

*As of* a date: the protected areas in force on that date and the records made by then; without
a date, the protected areas in force today and every record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import Audience, area_assignment, published
from vbis_geo.analysis.richness import in_force
from vbis_geo.analysis.taxa import (
    THREATENED_CATEGORIES,
    THREATENED_LISTS,
    TaxonFilter,
    bind_lists,
    is_threatened,
    statuses_json,
)

#: the list of species prioritised for protection (vbis_geo/db/models/taxa.py)
PRIORITY_LIST = "priority_protected"


def gap_analysis(
    conn: Connection,
    *,
    audience: Audience,
    as_of: dt.date | None = None,
    taxa: TaxonFilter | None = None,
) -> dict[str, Any]:
    """Each threatened or priority-protected species (narrowed by ``taxa``): its records, those
    inside a protected area, the share outside, the protected areas it is recorded in, and
    ``none_inside`` when it has records and none of them is inside; with a summary. Records
    are those ``audience`` sees, placed by the points it sees."""
    taxa = taxa or TaxonFilter()
    params: dict[str, object] = {
        "as_of": as_of,
        "d": as_of or dt.date.today(),
        "gap_lists": list(THREATENED_LISTS),
        "gap_categories": list(THREATENED_CATEGORIES),
        "gap_priority": PRIORITY_LIST,
    }
    conditions = taxa.where("ts.species_id", params)
    listed = f"""
            SELECT ts.species_id FROM analysis.taxon_species ts
            WHERE ts.species_id = ts.taxon_id
              AND EXISTS (SELECT 1 FROM taxon_statuses st WHERE st.taxon_id = ts.species_id
                  AND ((st.list = ANY(:gap_lists) AND st.category = ANY(:gap_categories))
                       OR st.list = :gap_priority))
              {"".join(f" AND {c}" for c in conditions)}
    """  # noqa: S608 (fixed names and fragments; values bound)
    # the taxa of the listed species first, bound as a list: a condition that reaches the index
    # of each part of the public relation, where a join would read every record
    params["gap_taxa"] = [
        str(t)
        for t in conn.execute(
            bind_lists(
                sa.text(
                    "SELECT ts.taxon_id FROM analysis.taxon_species ts "  # noqa: S608 (fixed SQL)
                    f"WHERE ts.species_id IN ({listed})"
                ),
                params,
            ),
            params,
        ).scalars()
    ]
    sql = f"""
        WITH listed AS ({listed}), pas AS (
            SELECT p.id FROM protected_areas p
            WHERE {in_force("p")} AND {published("p", "protected_areas")}
        ), records AS (
            SELECT o.id, ts.species_id FROM {audience.relation} o
            JOIN analysis.taxon_species ts ON ts.taxon_id = o.taxon_id
            WHERE o.taxon_id = ANY(CAST(:gap_taxa AS bigint[]))
              AND (CAST(:as_of AS date) IS NULL OR o.event_date <= :as_of)
        ), inside AS (
            SELECT r.id, r.species_id, a.area_id FROM records r
            CROSS JOIN LATERAL (
                -- record by record: the id reaches the index of each part of the assignment
                SELECT a.area_id FROM {area_assignment(audience)} a
                WHERE a.occurrence_id = r.id AND a.layer = 'protected_areas' OFFSET 0
            ) a
            WHERE a.area_id IN (SELECT id FROM pas)
        ), per_species AS (
            SELECT r.species_id, count(*) AS records,
                   count(*) FILTER (WHERE r.id IN (SELECT id FROM inside)) AS records_inside
            FROM records r GROUP BY r.species_id
        ), areas AS (
            SELECT i.species_id, count(DISTINCT i.area_id) AS protected_areas
            FROM inside i GROUP BY i.species_id
        )
        SELECT l.species_id AS taxon_id, t.scientific_name, t.authorship,
               t.vernacular_name_vi, t.vernacular_name_en, g.class, g."order", g.family,
               coalesce(s.records, 0) AS records,
               coalesce(s.records_inside, 0) AS records_inside,
               coalesce(a.protected_areas, 0) AS protected_areas,
               {statuses_json("l.species_id")} AS statuses
        FROM listed l JOIN taxa t ON t.id = l.species_id
        JOIN analysis.taxon_species g ON g.taxon_id = l.species_id
        LEFT JOIN per_species s ON s.species_id = l.species_id
        LEFT JOIN areas a ON a.species_id = l.species_id
    """  # noqa: S608 (fixed names and fragments; values bound)
    # the record-by-record join is estimated far dearer than it is: the JIT compilation it
    # would trigger costs more than the whole question (bench/questions.py)
    conn.execute(sa.text("SET LOCAL jit = off"))
    rows = []
    for row in conn.execute(bind_lists(sa.text(sql), params), params):
        item = dict(row._mapping)
        records, inside = item["records"], item["records_inside"]
        item["records_outside"] = records - inside
        item["share_outside"] = round((records - inside) / records, 6) if records else None
        item["threatened"] = is_threatened(item["statuses"])
        item["priority_protected"] = PRIORITY_LIST in item["statuses"]
        item["none_inside"] = records > 0 and inside == 0
        rows.append(item)
    # the gaps first: no record inside, then the largest share outside, the most records
    rows.sort(
        key=lambda r: (
            not r["none_inside"],
            -(r["share_outside"] if r["share_outside"] is not None else -1),
            -r["records"],
            r["scientific_name"],
        )
    )
    with_records = [r for r in rows if r["records"]]
    return {
        "audience": audience.value,
        "as_of": as_of.isoformat() if as_of else None,
        "protected_areas_as_of": params["d"].isoformat(),  # type: ignore[attr-defined]
        "filters": taxa.as_dict(),
        "summary": {
            "taxa": len(rows),
            "threatened": sum(r["threatened"] for r in rows),
            "priority_protected": sum(r["priority_protected"] for r in rows),
            "with_records": len(with_records),
            "without_records": [r["scientific_name"] for r in rows if not r["records"]],
            "none_inside": [r["scientific_name"] for r in rows if r["none_inside"]],
            "records": sum(r["records"] for r in rows),
            "records_outside": sum(r["records_outside"] for r in rows),
        },
        "taxa": rows,
    }
