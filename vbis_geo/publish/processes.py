"""The spatial questions as OGC API - Processes, for pygeoapi (``/ogc/processes``), so that an
OGC client (QGIS's processing, OWSLib, a workflow engine) can run them.

Each processor answers exactly as the Flask API does (vbis_geo/analysis), through the same
reading rules and with the API's messages for bad inputs and unknown areas, for the same
audience: pygeoapi runs a process inside the Flask request, whose principal
(``vbis_geo.web.accounts.principal()``, set for ``/ogc`` too) decides whether the answer reads
exact or public locations (:func:`_asking`; the public outside a request). (pygeoapi's
synchronous job manager reports every failed execution as 400 ``InvalidParameterValue`` with
our message; the 404 of an unknown area shows as such with managers that keep the status.)
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from pathlib import Path
from typing import Any

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from vbis_geo.analysis import report
from vbis_geo.analysis import species as species_q
from vbis_geo.analysis.access import Audience, audience
from vbis_geo.analysis.assignment import ensure_current
from vbis_geo.analysis.taxa import TaxonFilter
from vbis_geo.db.models.protected_areas import ZONE_TYPES
from vbis_geo.db.models.taxa import STATUS_CATEGORIES
from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.publish.features import _engine, _url, reader
from vbis_geo.settings import PROJECT_DIR


class ProcessInputError(ProcessorExecuteError):
    """A process input that does not fit (400)."""

    ogc_exception_code = "InvalidParameterValue"
    http_status_code = HTTPStatus.BAD_REQUEST


class ProcessNotFound(ProcessorExecuteError):
    """An area or taxon that does not exist (404)."""

    ogc_exception_code = "NotFound"
    http_status_code = HTTPStatus.NOT_FOUND


def _text(title_vi: str, title_en: str) -> dict[str, str]:
    return {"vi": title_vi, "en": title_en}


_FILTER_INPUTS: dict[str, Any] = {
    "status": {
        "title": "Status lists",
        "description": "list[:category,...], e.g. iucn_red_list:CR,EN; every one must hold "
        f"(lists: {', '.join(STATUS_CATEGORIES)})",
        "schema": {"type": "array", "items": {"type": "string"}},
        "minOccurs": 0,
        "maxOccurs": 1,
    },
    **{
        flag: {
            "title": flag,
            "description": f"only species that are (true) or are not (false) {flag}",
            "schema": {"type": "boolean"},
            "minOccurs": 0,
            "maxOccurs": 1,
        }
        for flag in ("threatened", "endemic", "invasive")
    },
    **{
        rank: {
            "title": rank,
            "description": f"only species of this {rank} (scientific name)",
            "schema": {"type": "string"},
            "minOccurs": 0,
            "maxOccurs": 1,
        }
        for rank in ("kingdom", "phylum", "class", "order", "family")
    },
}

SPECIES_IN_AREA = {
    "version": "1.0.0",
    "id": "species-in-area",
    "title": _text("Các loài trong khu bảo tồn", "Species in a protected area"),
    "description": _text(
        "Mỗi loài được ghi nhận trong một khu bảo tồn (tùy chọn: một loại phân khu, tại một "
        "ngày): số bản ghi, ngày ghi nhận đầu và cuối, các tình trạng bảo tồn.",
        "Each species recorded in a protected area (optionally one zone type, as of a date): "
        "records, first and last record dates and its statuses.",
    ),
    "jobControlOptions": ["sync-execute"],
    "keywords": ["species", "protected area", "biodiversity"],
    "links": [],
    "inputs": {
        "protected_area": {
            "title": "Protected area code",
            "description": "the code of the protected area (collection protected_areas)",
            "schema": {"type": "string"},
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "zone_type": {
            "title": "Zone type",
            "description": "only the records in the area's zones of this type",
            "schema": {"type": "string", "enum": list(ZONE_TYPES)},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "as_of": {
            "title": "As of",
            "description": "the area as it was on this date, and the records made by then",
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        **_FILTER_INPUTS,
    },
    "outputs": {
        "species": {
            "title": "Species in the area",
            "description": "the same document as GET /api/protected-areas/{code}/species",
            "schema": {"type": "object", "contentMediaType": "application/json"},
        }
    },
    "example": {"inputs": {"protected_area": "PA-CUC-PHUONG", "threatened": True}},
}


class SpeciesInAreaProcessor(BaseProcessor):
    """``species-in-area``: GET /api/protected-areas/{code}/species as a process."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        super().__init__(processor_def, SPECIES_IN_AREA)
        self.data = processor_def["data"]

    def execute(
        self, data: dict[str, Any], outputs: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        try:
            code = data.get("protected_area")
            if not isinstance(code, str) or not code:
                raise InvalidInput("protected_area: expected the code of a protected area")
            as_of = _date(data.get("as_of"))
            taxa = _taxon_filter(data)
            ensure_current(_engine(_url(self.data)))
            with reader(self.data) as conn:
                area = species_q.protected_area(conn, code, as_of)
                answer = species_q.species_in_area(
                    conn,
                    area,
                    audience=_asking(),
                    zone_type=data.get("zone_type") or None,
                    as_of=as_of,
                    taxa=taxa,
                )
        except InvalidInput as exc:
            raise ProcessInputError(user_msg=exc.message) from None
        except NotFound as exc:
            raise ProcessNotFound(user_msg=exc.message) from None
        return "application/json", {"id": "species", "value": answer}


#: media types a polygon given as a qualified value may name
_GEOJSON_TYPES = ("application/geo+json", "application/json")
_WKT_TYPES = ("application/wkt", "text/plain")
_EXAMPLE_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[105.60, 20.25], [105.66, 20.25], [105.66, 20.31], [105.60, 20.31], [105.60, 20.25]]
    ],
}

AREA_REPORT = {
    "version": "1.0.0",
    "id": "area-report",
    "title": _text("Báo cáo vùng", "Area report"),
    "description": _text(
        "Các loài (với tình trạng bảo tồn), các khu bảo tồn và phân khu mà một đa giác chạm "
        "tới (diện tích chồng lấn, ha) và lớp phủ đất của nó; như POST /api/area-report.",
        "The species (with their statuses), the protected areas and zones a polygon touches "
        "(overlap in hectares, equal-area EPSG:6933) and its land cover; as POST "
        "/api/area-report. Limits: 25,000 km2 and 10,000 vertices.",
    ),
    "jobControlOptions": ["sync-execute"],
    "keywords": ["species", "protected area", "land cover", "area report", "biodiversity"],
    "links": [],
    "inputs": {
        "polygon": {
            "title": "Polygon",
            "description": "a GeoJSON Polygon or MultiPolygon (or a Feature with one), or WKT "
            "(EWKT: SRID=3405;POLYGON(...)) text; either directly or as a qualified value "
            '{"value": ..., "mediaType": "application/geo+json" or "application/wkt"}. '
            "Coordinates are x, y in crs (longitude, latitude by default)",
            "schema": {
                "oneOf": [
                    {
                        "allOf": [
                            {"format": "geojson-geometry"},
                            {
                                "type": "object",
                                "required": ["type", "coordinates"],
                                "properties": {
                                    "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                                    "coordinates": {"type": "array"},
                                },
                            },
                        ]
                    },
                    {"type": "string", "contentMediaType": "application/wkt"},
                ]
            },
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "crs": {
            "title": "CRS",
            "description": "the polygon's CRS: EPSG:4326 (the default), EPSG:4756, EPSG:3405, "
            "EPSG:3406, vn2000-tm3:<province or meridian>, or any geographic or projected CRS",
            "schema": {"type": "string"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "as_of": {
            "title": "As of",
            "description": "the records made by then and the areas in force then (without it: "
            "every record, the areas in force today)",
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        **_FILTER_INPUTS,
    },
    "outputs": {
        "report": {
            "title": "Area report",
            "description": "the same document as POST /api/area-report",
            "schema": {"type": "object", "contentMediaType": "application/json"},
        }
    },
    "example": {"inputs": {"polygon": _EXAMPLE_POLYGON, "class": "Aves"}},
}


class AreaReportProcessor(BaseProcessor):
    """``area-report``: POST /api/area-report as a process."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        super().__init__(processor_def, AREA_REPORT)
        self.data = processor_def["data"]

    def execute(
        self, data: dict[str, Any], outputs: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        try:
            value, named = report.parse_geometry(_polygon_input(data.get("polygon")), "polygon")
            crs = report.polygon_crs([("crs input", data.get("crs")), ("polygon", named)])
            as_of = _date(data.get("as_of"))
            taxa = _taxon_filter(data)
            polygon = report.polygon_in_wgs84(value, crs, "polygon")
            landcover = report.landcover_source(
                Path(str(self.data.get("raster_dir") or "")), PROJECT_DIR / "layers"
            )
            ensure_current(_engine(_url(self.data)))
            with reader(self.data) as conn:
                answer = report.area_report(
                    conn, polygon, audience=_asking(), as_of=as_of, taxa=taxa, landcover=landcover
                )
        except InvalidInput as exc:
            raise ProcessInputError(user_msg=exc.message) from None
        answer["polygon"]["crs"] = crs
        return "application/json", {"id": "report", "value": answer}


def _asking() -> Audience:
    """The audience of the principal of the Flask request running the process; the public
    outside one (a process run another way has no account to see exact locations with)."""
    from flask import has_request_context

    if not has_request_context():
        return Audience.PUBLIC
    from vbis_geo.web.accounts import principal

    return audience(principal())


def _polygon_input(value: object) -> object:
    """The polygon of the ``polygon`` input: GeoJSON or WKT as given, or the ``value`` of an
    OGC API - Processes qualified value (whose ``mediaType``, if any, must be GeoJSON's or
    WKT's). A link (``href``) is not fetched."""
    if value is None or value == "":
        raise InvalidInput(
            "polygon is required: a GeoJSON Polygon or MultiPolygon (or a Feature with one), "
            "or WKT text"
        )
    if isinstance(value, dict) and "type" not in value:
        if "href" in value:
            raise InvalidInput("polygon: a link (href) is not fetched; give the polygon itself")
        if "value" not in value:
            raise InvalidInput(
                "polygon: a JSON object without type or value; expected a GeoJSON geometry or a "
                'qualified value {"value": ..., "mediaType": ...}'
            )
        media_type = value.get("mediaType")
        if media_type is not None and media_type not in _GEOJSON_TYPES + _WKT_TYPES:
            raise InvalidInput(
                f"polygon.mediaType {media_type!r}: expected one of "
                f"{', '.join(_GEOJSON_TYPES + _WKT_TYPES)}"
            )
        return value["value"]
    return value


def _taxon_filter(data: dict[str, Any]) -> TaxonFilter:
    """The taxon filters among the inputs (booleans as JSON gives them)."""
    args = {k: data[k] for k in _FILTER_INPUTS if data.get(k) is not None}
    return TaxonFilter.from_args(
        {k: str(v).lower() if isinstance(v, bool) else v for k, v in args.items()}
    )


def _date(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"as_of={value!r}: expected a date as YYYY-MM-DD") from None
