"""Species in an area, and the areas of a taxon.

Records are rolled up to species: a synonym counts as its accepted name, a subspecies, variety
or form as its species (``analysis.taxon_species``). Records identified only above the species
rank (a genus, a family) are not species of the list; their number is given
(``records_above_species_rank``).

*As of* a date ``d``: the area as it was on ``d`` (its validity dates include ``d``) and the
records made on or before ``d``; records without a date are left out of an *as of* answer and
counted (``records_without_date``).

Each question answers one :class:`~vbis_geo.analysis.access.Audience`: it reads that audience's
records (published only; for the public, sensitive records at their generalised points) and
places them in areas by those points (:func:`~vbis_geo.analysis.access.area_assignment`), so
that no answer to the public depends on an exact location it may not see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import Audience, area_assignment, area_records, published
from vbis_geo.analysis.inputs import plain_text
from vbis_geo.analysis.taxa import TaxonFilter, bind_lists, is_threatened, statuses_json
from vbis_geo.db.models.protected_areas import ZONE_TYPES
from vbis_geo.errors import InvalidInput, NotFound

#: the area tables of the record-to-area assignment (migration 0006)
AREA_LAYERS = (
    "admin_units",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
)


@dataclasses.dataclass(frozen=True)
class Area:
    layer: str
    id: int
    code: str
    name_vi: str
    name_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "code": self.code,
            "name_vi": self.name_vi,
            "name_en": self.name_en,
        }


def protected_area(conn: Connection, code: str, as_of: dt.date | None) -> Area:
    """The protected area ``code`` (as it was on ``as_of``); :class:`NotFound` naming it."""
    plain_text("code", code, "the code of a protected area, e.g. PA-CUC-PHUONG")
    row = conn.execute(
        sa.text(
            "SELECT id, code, name_vi, name_en FROM protected_areas WHERE code = :code "
            "AND review_status = 'published' "
            "AND (CAST(:d AS date) IS NULL OR ((valid_from IS NULL OR valid_from <= :d) "
            "AND (valid_to IS NULL OR valid_to >= :d))) ORDER BY valid_from DESC NULLS LAST LIMIT 1"
        ),
        {"code": code, "d": as_of},
    ).one_or_none()
    if row is None:
        known = conn.execute(
            sa.text(
                "SELECT count(*) FROM protected_areas WHERE code = :c "
                "AND review_status = 'published'"
            ),
            {"c": code},
        ).scalar_one()
        if known and as_of:
            raise NotFound(f"protected area {code!r} was not in force on {as_of.isoformat()}")
        raise NotFound(
            f"no protected area {code!r}",
            hint="codes are listed at /ogc/collections/protected_areas/items?properties=code",
        )
    return Area("protected_areas", row.id, row.code, row.name_vi, row.name_en)


def species_in_area(
    conn: Connection,
    area: Area,
    *,
    audience: Audience,
    zone_type: str | None = None,
    as_of: dt.date | None = None,
    taxa: TaxonFilter | None = None,
) -> dict[str, Any]:
    """Each species recorded in ``area`` (in its zones of ``zone_type``, as of ``as_of``) by the
    records ``audience`` sees, placed by the points it sees: records, first and last record
    date, records whose uncertainty crosses the boundary, and statuses; with a summary."""
    if zone_type is not None and zone_type not in ZONE_TYPES:
        raise InvalidInput(f"zone_type {zone_type!r}: expected one of {', '.join(ZONE_TYPES)}")
    taxa = taxa or TaxonFilter()
    params: dict[str, object] = {"layer": area.layer, "area_id": area.id, "as_of": as_of}
    in_zone = ""
    if zone_type is not None:
        # records in a zone of that type of this protected area, as the zone was on as_of; the
        # zones' ids bound as a list, a condition that reaches the assignment's indexes
        params["zones"] = list(
            conn.execute(
                sa.text(
                    "SELECT id FROM pa_zones WHERE protected_area_id = :area_id "
                    "AND zone_type = :zone_type AND review_status = 'published' "
                    "AND (CAST(:as_of AS date) IS NULL OR "
                    "((valid_from IS NULL OR valid_from <= :as_of) "
                    "AND (valid_to IS NULL OR valid_to >= :as_of)))"
                ),
                {"area_id": area.id, "zone_type": zone_type, "as_of": as_of},
            ).scalars()
        )
        in_zone = (
            f"AND o.id IN (SELECT z.occurrence_id FROM {area_assignment(audience)} z "  # noqa: S608 (fixed SQL)
            "WHERE z.layer = 'pa_zones' AND z.area_id = ANY(CAST(:zones AS bigint[])))"
        )
    records = f"""
        SELECT o.id, o.taxon_id, o.event_date, o.coordinate_uncertainty_m, o.geom
        FROM {area_records(audience)} o
        WHERE o.layer = :layer AND o.area_id = :area_id {in_zone}
    """  # noqa: S608 (fixed names and fragments; values bound)
    boundary = f"SELECT ST_Boundary(geom)::geography FROM {area.layer} WHERE id = :area_id"  # noqa: S608 (layer of an Area)
    species, summary = species_of_records(conn, records, boundary, params, as_of=as_of, taxa=taxa)
    return {
        "area": area.as_dict(),
        "audience": audience.value,
        "zone_type": zone_type,
        "as_of": as_of.isoformat() if as_of else None,
        "filters": taxa.as_dict(),
        "summary": summary,
        "species": species,
    }


def species_of_records(
    conn: Connection,
    records: str,
    boundary: str,
    params: dict[str, object],
    *,
    as_of: dt.date | None = None,
    taxa: TaxonFilter | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each species of a set of records, and the summary: the rows and summary of
    :func:`species_in_area`, whatever the records are (an area's, a polygon's).

    ``records`` is a SELECT of ``id, taxon_id, event_date, coordinate_uncertainty_m, geom``
    reading from an audience's relation (:attr:`~vbis_geo.analysis.access.Audience.relation`),
    never from the table; ``boundary`` a SELECT of
    the one geography its uncertain records are measured against. Both are SQL text of fixed
    fragments whose values are bound in ``params`` (which the taxon filter adds to).
    """
    taxa = taxa or TaxonFilter()
    params = {**params, "as_of": as_of}
    species_conditions = taxa.where("s.species_id", params)
    sql = f"""
        WITH records AS ({records}), dated AS (
            SELECT * FROM records
            WHERE CAST(:as_of AS date) IS NULL OR event_date <= :as_of
        ), boundary AS ({boundary}), per_species AS (
            SELECT ts.species_id, count(*) AS records, min(d.event_date) AS first_record,
                   max(d.event_date) AS last_record,
                   count(*) FILTER (WHERE d.coordinate_uncertainty_m IS NOT NULL AND
                       ST_DWithin(d.geom::geography, (SELECT * FROM boundary),
                                  d.coordinate_uncertainty_m)) AS uncertain_records
            FROM dated d JOIN analysis.taxon_species ts ON ts.taxon_id = d.taxon_id
            WHERE ts.species_id IS NOT NULL
            GROUP BY ts.species_id
        )
        SELECT s.species_id AS taxon_id, t.scientific_name, t.authorship,
               t.vernacular_name_vi, t.vernacular_name_en, g.kingdom, g.phylum, g.class,
               g."order", g.family, s.records, s.first_record, s.last_record,
               s.uncertain_records, {statuses_json("s.species_id")} AS statuses
        FROM per_species s JOIN taxa t ON t.id = s.species_id
        JOIN analysis.taxon_species g ON g.taxon_id = s.species_id
        {"WHERE " + " AND ".join(species_conditions) if species_conditions else ""}
        ORDER BY g.class NULLS LAST, g."order" NULLS LAST, g.family NULLS LAST, t.scientific_name
    """  # noqa: S608 (fixed names and fragments; values bound)
    rows = [dict(r._mapping) for r in conn.execute(bind_lists(sa.text(sql), params), params)]
    counts = conn.execute(
        sa.text(
            f"""
            WITH records AS ({records})
            SELECT count(*) FILTER (WHERE ts.species_id IS NULL AND
                       (CAST(:as_of AS date) IS NULL OR r.event_date <= :as_of)) AS above,
                   count(*) FILTER (WHERE CAST(:as_of AS date) IS NOT NULL AND r.event_date IS NULL)
                       AS undated
            FROM records r JOIN analysis.taxon_species ts ON ts.taxon_id = r.taxon_id
            """  # noqa: S608 (fixed names and fragments; values bound)
        ),
        params,
    ).one()
    for row in rows:
        for key in ("first_record", "last_record"):
            row[key] = row[key].isoformat() if row[key] else None
    summary = {
        "species": len(rows),
        "records": sum(r["records"] for r in rows),
        "threatened": sum(is_threatened(r["statuses"]) for r in rows),
        "endemic": sum("endemic" in r["statuses"] for r in rows),
        "invasive": sum("invasive_alien" in r["statuses"] for r in rows),
        "uncertain_records": sum(r["uncertain_records"] for r in rows),
        "records_above_species_rank": counts.above,
        "records_without_date": counts.undated,
    }
    return rows, summary


def taxon(conn: Connection, taxon_id: int) -> dict[str, Any]:
    row = conn.execute(
        sa.text(
            "SELECT id, scientific_name, rank, taxonomic_status, accepted_id "
            "FROM taxa WHERE id = :i"
        ),
        {"i": taxon_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"no taxon {taxon_id}", hint="taxa are searched at /api/taxa?q=<name>")
    return dict(row._mapping)


def areas_of_taxon(
    conn: Connection, taxon_id: int, layer: str = "protected_areas", *, audience: Audience
) -> dict[str, Any]:
    """The areas of ``layer`` where the taxon (with its lower ranks and their synonyms) is
    recorded, with counts, and the share of its records inside any of them: by the records
    ``audience`` sees, placed by the points it sees."""
    if layer not in AREA_LAYERS:
        raise InvalidInput(f"layer {layer!r}: expected one of {', '.join(AREA_LAYERS)}")
    info = taxon(conn, taxon_id)
    accepted = info["accepted_id"] or info["id"]
    # the taxon's names first (its lower ranks and their synonyms), bound as a list: a condition
    # on the relation that reaches the index of each of its parts, where a join would not
    names = list(
        conn.execute(
            sa.text(
                """
                WITH RECURSIVE branch AS (
                    SELECT CAST(:taxon AS bigint) AS id
                    UNION SELECT t.id FROM taxa t JOIN branch b ON t.parent_id = b.id
                )
                SELECT id FROM branch
                UNION SELECT t.id FROM taxa t JOIN branch b ON t.accepted_id = b.id
                """
            ),
            {"taxon": accepted},
        ).scalars()
    )
    sql = f"""
        WITH records AS (
            SELECT o.id, o.event_date FROM {audience.relation} o
            WHERE o.taxon_id = ANY(CAST(:names AS bigint[]))
        ), inside AS (
            SELECT a.area_id, r.id, r.event_date FROM records r
            CROSS JOIN LATERAL (
                -- record by record: the id reaches the index of each part of the assignment
                SELECT a.area_id FROM {area_assignment(audience)} a
                WHERE a.occurrence_id = r.id AND a.layer = :layer OFFSET 0
            ) a
            JOIN {layer} p ON p.id = a.area_id AND {published("p", layer)}
        )
        SELECT (SELECT count(*) FROM records) AS total,
               (SELECT count(DISTINCT id) FROM inside) AS inside_any,
               coalesce((SELECT jsonb_agg(x ORDER BY x.records DESC, x.code) FROM (
                   SELECT p.code, p.name_vi, p.name_en, count(*) AS records,
                          min(i.event_date) AS first_record, max(i.event_date) AS last_record
                   FROM inside i JOIN {layer} p ON p.id = i.area_id
                   GROUP BY p.code, p.name_vi, p.name_en) x), '[]'::jsonb) AS areas
    """  # noqa: S608 (layer from AREA_LAYERS, the audience's relations; values bound)
    row = conn.execute(sa.text(sql), {"names": names, "layer": layer}).one()
    return {
        "audience": audience.value,
        "taxon": {"id": accepted, "scientific_name": info["scientific_name"], "rank": info["rank"]},
        "records": row.total,
        "records_inside_any": row.inside_any,
        "share_inside_any": round(row.inside_any / row.total, 6) if row.total else None,
        "areas": row.areas,
    }
