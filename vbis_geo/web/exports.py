"""``GET /api/export/<layer>``: a layer as a file, what ``vbis-geo export`` writes, for the
principal asking.

``format`` is ``gpkg``, ``geojson`` (the default), ``csv`` or ``dwca`` (a Darwin Core Archive,
occurrences only); the filters are the command's: ``bbox`` (minlon,minlat,maxlon,maxlat in
WGS 84), ``province`` (a name is today's unit, an ISO 3166-2 code the province before 2025, a
``VN34-...`` code the 2025 unit), ``protected_area`` (a code) and ``taxon`` (a scientific name,
with its lower ranks and synonyms; occurrences only).

The export holds published rows only, and occurrences as the principal's audience sees them
(:mod:`vbis_geo.analysis.access`): for the public, every sensitive record at the centre of its
grid cell with ``dataGeneralizations`` and ``informationWithheld`` saying so, and the filters
applied to those generalised points, so that a narrow ``bbox`` cannot find an exact spot. An
export larger than :data:`MAX_ROWS` rows is refused before anything is written (narrow it, or
ask the operator for ``vbis-geo export``). Every parameter is checked first: a bad one is a 400
naming it, a filter that names nothing too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, request

from vbis_geo.analysis.assignment import ensure_current
from vbis_geo.analysis.inputs import plain_text
from vbis_geo.analysis.richness import parse_bbox
from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.export.files import ExportFilters, FilterNotFound, count_rows, export_layer
from vbis_geo.web import db
from vbis_geo.web.questions import asking, private_to_accounts

bp = Blueprint("exports", __name__)
bp.after_request(private_to_accounts)

#: the layers an export can be asked of (the spatial layers; the checklist and the
#: international titles have no geometry)
LAYERS = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "admin_units",
)
#: format -> (media type, file suffix)
FORMATS = {
    "geojson": ("application/geo+json", "geojson"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "csv": ("text/csv", "csv"),
    "dwca": ("application/zip", "zip"),
}
DEFAULT_FORMAT = "geojson"
#: the most rows one export may hold (a GeoPackage of 100,000 occurrences is about 30 MB)
MAX_ROWS = 100_000
#: the longest text a filter takes (names and codes are far shorter)
MAX_TEXT = 200
#: the query parameters of an export, each with what it expects
PARAMETERS = {
    "format": f"one of {', '.join(FORMATS)}",
    "bbox": "minlon,minlat,maxlon,maxlat in degrees (WGS 84)",
    "province": "a province's name, ISO 3166-2 code (VN-18) or unit code",
    "protected_area": "the code of a protected area, e.g. PA-CUC-PHUONG",
    "taxon": "a scientific name, e.g. Primates",
}


@bp.get("/export/<layer>")
def export(layer: str) -> Response:
    """The published rows of ``layer`` the principal may see, filtered, as a file."""
    if layer not in LAYERS:
        raise NotFound(f"no layer {layer!r} to export", hint=f"one of {', '.join(LAYERS)}")
    unknown = sorted(set(request.args) - set(PARAMETERS))
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) {', '.join(unknown)}; expected {', '.join(PARAMETERS)}"
        )
    fmt = _format()
    if fmt == "dwca" and layer != "occurrences":
        raise InvalidInput("format=dwca: a Darwin Core Archive holds occurrences only")
    filters = ExportFilters(
        bbox_4326=parse_bbox(request.args.get("bbox")),
        province=_text("province"),
        protected_area=_text("protected_area"),
        taxon=_text("taxon"),
    )
    if filters.taxon and layer != "occurrences":
        raise InvalidInput(f"taxon: {layer} has no taxa; the taxon filter is for occurrences")
    audience = asking()
    conn = db.connection()
    ensure_current(db.engine(), conn=conn)  # the generalised points of sensitive records
    try:
        rows = count_rows(conn, layer, filters, audience=audience)
    except FilterNotFound as exc:
        given = getattr(filters, exc.field)
        raise InvalidInput(f"{exc.field}={given!r}: {exc.message}", hint=exc.hint) from None
    if rows > MAX_ROWS:
        raise InvalidInput(
            f"the export would hold {rows:,} rows; the limit is {MAX_ROWS:,}",
            hint="narrow it with bbox, province, protected_area or taxon, or ask the operator "
            "for `vbis-geo export`",
        )
    media_type, suffix = FORMATS[fmt]
    with tempfile.TemporaryDirectory(prefix="vbis-export-") as folder:
        path = Path(folder) / f"{layer}.{suffix}"
        export_layer(conn, layer, fmt, path, filters, audience=audience)
        data = path.read_bytes()
    return Response(
        data,
        mimetype=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{layer}.{suffix}"',
            "X-Export-Rows": str(rows),
            "X-Export-Audience": audience.value,
        },
    )


def _format() -> str:
    fmt = request.args.get("format") or DEFAULT_FORMAT
    if fmt not in FORMATS:
        raise InvalidInput(f"format={fmt[:MAX_TEXT]!r}: expected {PARAMETERS['format']}")
    return fmt


def _text(name: str) -> str | None:
    """The filter ``name`` as given (None when absent or empty), checked: at most
    :data:`MAX_TEXT` characters, no NUL."""
    value = request.args.get(name)
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            f"{name}: {len(value):,} characters; expected at most {MAX_TEXT}, {PARAMETERS[name]}"
        )
    return plain_text(name, value, PARAMETERS[name])
