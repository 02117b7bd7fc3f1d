"""Questions about a place under ``/api`` (vbis_geo/analysis/places.py and report.py).

* ``GET /api/whats-here`` -- the areas that contain a point, and the nearest protected area;
* ``POST /api/area-report`` -- species, protected areas, zones and land cover of a polygon.

Coordinates are always in the GIS order, x then y: longitude then latitude for a geographic
CRS, easting then northing for a projected one -- also for EPSG:4326 and EPSG:4756, whose
definitions put latitude first (GeoJSON and WKT never do).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from vbis_geo.analysis import places, report
from vbis_geo.analysis.assignment import ensure_current
from vbis_geo.analysis.inputs import place_crs
from vbis_geo.analysis.taxa import TaxonFilter
from vbis_geo.errors import InvalidInput
from vbis_geo.ingest.rasters import raster_path
from vbis_geo.settings import Settings
from vbis_geo.web import db
from vbis_geo.web.questions import (
    SPECIES_COLUMNS,
    STATUS_COLUMNS,
    _cell,
    as_of_arg,
    asking,
    csv_response,
    output_format,
    private_to_accounts,
)

bp = Blueprint("questions_area", __name__)
bp.after_request(private_to_accounts)

#: the largest area-report request body (bytes): 10,000 vertices of GeoJSON are ~400 kB
MAX_BODY_BYTES = 2 * 1024**2
_BODY_MEMBERS = ("geometry", "crs", "as_of")


@bp.get("/whats-here")
def whats_here() -> Response:
    """What is at a point: ``lon``/``lat`` or ``x``/``y`` in ``crs`` (default EPSG:4326),
    ``as_of`` (YYYY-MM-DD, default today).

    ``x``/``y`` name the axes of any CRS (easting/northing of EPSG:3405, the VN-2000 UTM 48N;
    longitude/latitude of a geographic CRS); ``lon``/``lat`` are the same two numbers under the
    names that suit a geographic CRS. Give one pair, x (lon) first. Answers the provinces (the
    63 before 2025-07-01, the 34 from then), protected areas, zones, wetlands, ecosystems and
    planning zones that contain the point on ``as_of`` (lists: a point on a shared boundary is
    in both areas), and the nearest protected area with its geodesic distance in metres (0
    inside one).
    """
    output_format(("json",))
    x, y = _point_args()
    crs = _crs(request.args.get("crs"))
    point = places.locate(x, y, crs)
    as_of = as_of_arg() or dt.date.today()
    answer = places.whats_here(db.connection(), point, as_of)
    return current_app.json.response(answer)


@bp.post("/area-report")
def area_report() -> Response:
    """The report of a polygon: species with statuses, threatened/endemic/invasive counts, the
    protected areas and zones it touches (overlap in hectares, equal-area EPSG:6933) and its
    land cover (hectares and share per class).

    The polygon is one of:

    * a JSON body (``application/json`` or ``application/geo+json``): a GeoJSON Polygon or
      MultiPolygon, a Feature with one, or an object ``{"geometry": <GeoJSON or WKT text>,
      "crs": "EPSG:3405", "as_of": "2020-12-31"}`` (``crs`` and ``as_of`` optional);
    * a ``text/plain`` body: WKT (or EWKT: ``SRID=3405;POLYGON(...)``);
    * the query parameter ``geometry`` (WKT or GeoJSON text) with an empty body.

    ``crs`` (default EPSG:4326) and ``as_of`` may also be query parameters; given in both
    places they must agree. Coordinates are x, y in ``crs`` (longitude, latitude for EPSG:4326;
    a GeoJSON's old-style ``crs`` member is read too). ``as_of``: records made by then and
    areas in force then; without it every record and the areas in force today. Taxon filters
    (``threatened``, ``status``, ``class``...) and ``f=json|csv`` (CSV: the species list) are
    query parameters, as for ``/api/protected-areas/{code}/species``.

    Limits (400, ``LimitExceeded``, naming the limit): 25,000 km², 10,000 vertices, a body of
    2 MiB. An invalid polygon (a self-intersection) is a 400 naming the reason and where.
    """
    fmt = output_format()
    taxa = TaxonFilter.from_args(request.args)
    geometry, members = _report_input()
    value, named_crs = report.parse_geometry(geometry)
    crs = report.polygon_crs(
        [("body", members.get("crs")), ("query", request.args.get("crs")), ("geometry", named_crs)]
    )
    body_date = _date("as_of", members.get("as_of"))
    as_of = _agreeing("as_of", body_date, as_of_arg())
    polygon = report.polygon_in_wgs84(value, crs)
    ensure_current(db.engine(), conn=db.connection())
    answer = report.area_report(
        db.connection(),
        polygon,
        audience=asking(),
        as_of=as_of,
        taxa=taxa,
        landcover=_landcover(),
    )
    answer["polygon"]["crs"] = crs
    if fmt == "csv":
        rows = [
            {**row, **{k: _cell(row["statuses"].get(k)) for k in STATUS_COLUMNS}}
            for row in answer["species"]
        ]
        return csv_response(rows, SPECIES_COLUMNS + STATUS_COLUMNS, "area-report-species.csv")
    return current_app.json.response(answer)


def _point_args() -> tuple[float, float]:
    args = request.args
    lonlat = [args.get(k) for k in ("lon", "lat")]
    xy = [args.get(k) for k in ("x", "y")]
    if any(v is not None for v in lonlat) and any(v is not None for v in xy):
        raise InvalidInput("give either lon and lat or x and y, not both")
    names = ("x", "y") if any(v is not None for v in xy) else ("lon", "lat")
    return _number(names[0]), _number(names[1])


def _number(name: str) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        other = "lon and lat" if name in ("lon", "lat") else "x and y"
        raise InvalidInput(
            f"{name} is required: the point's {other}",
            hint="e.g. /api/whats-here?lon=105.85&lat=21.03, or ?x=586000&y=2326000&crs=EPSG:3405",
        )
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(f"{name}={raw!r}: expected a number (a decimal point, no comma)")
    return value


def _crs(raw: str | None) -> str:
    """The CRS specification asked for (default EPSG:4326), checked to be readable."""
    spec = (raw or "").strip() or "EPSG:4326"
    place_crs(spec)  # a geographic or projected CRS, else a 400 naming crs
    return spec


def _report_input() -> tuple[object, dict[str, Any]]:
    """The geometry of an area-report request, and the other members of its JSON body."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise report.LimitExceeded(
            f"the request body has {request.content_length:,} bytes; the limit is "
            f"{MAX_BODY_BYTES:,} (a polygon of {report.MAX_VERTICES:,} vertices fits)",
            hint="simplify the polygon first",
        )
    raw = request.get_data(cache=True)
    query_geometry = request.args.get("geometry")
    if not raw.strip():
        if not query_geometry:
            raise InvalidInput(
                "geometry is required: a polygon as a JSON body (GeoJSON, or "
                '{"geometry": ..., "crs": ..., "as_of": ...}), a WKT text/plain body, or the '
                "geometry query parameter"
            )
        return _text_geometry(query_geometry), {}
    if query_geometry:
        raise InvalidInput("geometry: given both in the body and as a query parameter")
    if request.mimetype in ("application/json", "application/geo+json"):
        body = _json(raw)
        if not isinstance(body, dict):
            raise InvalidInput('body: expected a JSON object (GeoJSON, or {"geometry": ...})')
        if "type" in body:  # GeoJSON itself
            return body, {}
        unknown = sorted(set(body) - set(_BODY_MEMBERS))
        if unknown:
            raise InvalidInput(
                f"body: unknown member(s) {', '.join(unknown)}; expected {', '.join(_BODY_MEMBERS)}"
            )
        if body.get("geometry") is None:
            raise InvalidInput('geometry is required: {"geometry": <GeoJSON or WKT>, ...}')
        return body["geometry"], body
    if request.mimetype in ("text/plain", "application/wkt", ""):
        return _text_geometry(raw.decode("utf-8", errors="replace")), {}
    raise InvalidInput(
        f"body: content type {request.mimetype!r}; expected application/json, "
        "application/geo+json or text/plain (WKT)"
    )


def _text_geometry(text: str) -> object:
    """WKT as it is; text that starts like JSON, parsed."""
    stripped = text.strip()
    return _json(stripped.encode(), "geometry") if stripped.startswith("{") else stripped


def _json(raw: bytes, field: str = "body") -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{field}: not JSON ({exc})") from None


def _date(name: str, raw: object) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"{name}={raw!r}: expected a date as YYYY-MM-DD") from None


def _agreeing(name: str, in_body: Any, in_query: Any) -> Any:
    if in_body is not None and in_query is not None and in_body != in_query:
        raise InvalidInput(f"{name}: the body says {in_body!r}, the query {in_query!r}")
    return in_body if in_body is not None else in_query


def _landcover() -> tuple[Any, dict[int, str]] | None:
    """The land-cover raster's path and class names; None when it is not loaded."""
    settings: Settings = current_app.config["VBIS_SETTINGS"]
    rasters = raster_path(settings, report.LANDCOVER).parent
    return report.landcover_source(rasters, settings.project_dir / "layers")
