"""Statistics under ``/api`` (vbis_geo/analysis): richness, gap analysis, overlap.

Paths are kept stable for clients:

* ``GET /api/richness?by=protected_area|province|grid`` -- species richness per area or grid
  cell: a GeoJSON FeatureCollection (``f=geojson``, the default; ``f=json`` is the same), or the
  table without geometry (``f=csv``);
* ``GET /api/gap-analysis`` -- threatened and priority-protected species and the share of their
  records outside every protected area (JSON, CSV);
* ``GET /api/overlap?layer=wetlands|ecosystems|planning_zones`` -- hectares of each feature
  inside and outside the protected areas (JSON, CSV).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, jsonify, request

from vbis_geo.analysis import gaps, overlap, richness
from vbis_geo.analysis.assignment import ensure_current
from vbis_geo.analysis.taxa import TaxonFilter
from vbis_geo.web import db
from vbis_geo.web.questions import (
    as_of_arg,
    asking,
    csv_response,
    output_format,
    private_to_accounts,
)

bp = Blueprint("questions_stats", __name__)
bp.after_request(private_to_accounts)

AREA_COLUMNS = [
    "code", "name_vi", "name_en", "area_ha", "species", "threatened_species", "records",
]  # fmt: skip
CELL_COLUMNS = ["cell", "ix", "iy", "species", "threatened_species", "records"]
GAP_COLUMNS = [
    "taxon_id", "scientific_name", "authorship", "vernacular_name_vi", "vernacular_name_en",
    "class", "order", "family", "threatened", "priority_protected", "iucn_red_list",
    "vn_red_data_book", "records", "records_inside", "records_outside", "share_outside",
    "protected_areas", "none_inside",
]  # fmt: skip
OVERLAP_COLUMNS = [
    "code", "name_vi", "name_en", "type", "area_ha", "inside_ha", "outside_ha", "share_inside",
    "protected_areas",
]  # fmt: skip


@bp.get("/richness")
def richness_view() -> Response:
    fmt = output_format(("geojson", "json", "csv"))
    by = richness.parse_by(request.args.get("by"))
    cell_km = richness.parse_cell_km(request.args.get("cell_km"))
    bbox = richness.parse_bbox(request.args.get("bbox"))
    as_of = as_of_arg()
    taxa = TaxonFilter.from_args(request.args)
    if by == "grid":
        richness.grid_span(bbox, cell_km)  # too many cells: 400 before any work
    # per-area richness without a date reads the stored per-area species counts
    ensure_current(db.engine(), counts=by != "grid" and as_of is None, conn=db.connection())
    answer = richness.richness(
        db.connection(),
        by,
        audience=asking(),
        as_of=as_of,
        cell_km=cell_km,
        bbox=bbox,
        taxa=taxa,
        geometry=fmt != "csv",
        geojson_text=True,
    )
    if fmt == "csv":
        rows = [f["properties"] for f in answer["features"]]
        columns = CELL_COLUMNS if by == "grid" else AREA_COLUMNS
        return csv_response(rows, columns, f"richness-{by}.csv")
    return geojson_response(answer)


def geojson_response(answer: dict[str, Any]) -> Response:
    """A richness answer whose geometries are GeoJSON text (``geojson_text``), as GeoJSON.

    The outlines go out as the text PostGIS wrote: parsing and re-serialising them took longer
    than the rest of the answer for the 34 provinces (2 MB; bench/results/questions.md)."""
    for feature in answer["features"]:
        if feature["geometry"] is not None:
            feature["geometry"] = orjson.Fragment(feature["geometry"])
    return Response(orjson.dumps(answer), mimetype="application/geo+json")


@bp.get("/gap-analysis")
def gap_analysis_view() -> Response:
    fmt = output_format()
    as_of = as_of_arg()
    taxa = TaxonFilter.from_args(request.args)
    ensure_current(db.engine(), conn=db.connection())
    answer = gaps.gap_analysis(db.connection(), audience=asking(), as_of=as_of, taxa=taxa)
    if fmt == "csv":
        rows = [_gap_row(r) for r in answer["taxa"]]
        return csv_response(rows, GAP_COLUMNS, "gap-analysis.csv")
    return jsonify(answer)


@bp.get("/overlap")
def overlap_view() -> Response:
    fmt = output_format()
    layer = overlap.parse_layer(request.args.get("layer"))
    as_of = as_of_arg()
    answer = overlap.overlap(db.connection(), layer, as_of=as_of)
    if fmt == "csv":
        rows = [
            {**f, "protected_areas": ";".join(f["protected_areas"])} for f in answer["features"]
        ]
        return csv_response(rows, OVERLAP_COLUMNS, f"overlap-{layer}.csv")
    return jsonify(answer)


def _gap_row(row: dict[str, Any]) -> dict[str, Any]:
    statuses = row["statuses"]
    return {
        **row,
        "iucn_red_list": statuses.get("iucn_red_list", ""),
        "vn_red_data_book": statuses.get("vn_red_data_book", ""),
        "threatened": "x" if row["threatened"] else "",
        "priority_protected": "x" if row["priority_protected"] else "",
        "none_inside": "x" if row["none_inside"] else "",
        "share_outside": "" if row["share_outside"] is None else row["share_outside"],
    }
