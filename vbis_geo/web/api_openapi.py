"""The OpenAPI 3.0 document of vbis-geo's own API (``/api``), served at ``/api/openapi.json``.

Written here by hand, next to the routes, so that each parameter says what it expects; a test
checks that every ``/api`` route is in it and that it is a valid OpenAPI document, and
schemathesis runs it against the server.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from vbis_geo import __version__
from vbis_geo.db.models.accounts import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, ROLES
from vbis_geo.db.models.protected_areas import ZONE_TYPES
from vbis_geo.db.models.taxa import STATUS_CATEGORIES
from vbis_geo.ingest.targets import all_targets
from vbis_geo.web import exports

bp = Blueprint("api_openapi", __name__)

_JSON = "application/json"
#: a status condition: a list, and after a colon one or more of its categories
_STATUS_PATTERN = f"^({'|'.join(STATUS_CATEGORIES)})(:[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*)?$"  # noqa: RUF027
#: a small polygon in Cúc Phương National Park (lon/lat), the example of the area report
_EXAMPLE_RING = [
    [105.60, 20.25], [105.66, 20.25], [105.66, 20.31], [105.60, 20.31], [105.60, 20.25],
]  # fmt: skip
_EXAMPLE_WKT = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in _EXAMPLE_RING) + "))"
#: the text of a CRS the questions read (vbis_geo.geodesy.resolve_crs)
#: four comma-separated decimal numbers
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
_BBOX_PATTERN = f"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
_CRS_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 2000}
_CRS_TEXT = (
    "EPSG:4326 (the default), EPSG:4756, EPSG:3405, EPSG:3406, vn2000-tm3:<province or "
    "meridian>, or any geographic or projected CRS as EPSG code, WKT or PROJ string"
)


def _param(name: str, description: str, schema: dict[str, Any], *, where: str = "query",
           required: bool = False, explode: bool | None = None,
           example: Any = None) -> dict[str, Any]:  # fmt: skip
    param = {"name": name, "in": where, "description": description, "schema": schema}
    if required or where == "path":
        param["required"] = True
    if explode is not None:
        param["style"], param["explode"] = "form", explode
    if example is not None:
        param["example"] = example
    return param


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


PARAMETERS: dict[str, dict[str, Any]] = {
    "as_of": _param(
        "as_of",
        "the areas as they were on this date, and the records made by then (YYYY-MM-DD)",
        {"type": "string", "format": "date"},
        example="2024-12-31",
    ),
    "f_table": _param(
        "f", "the answer's format", {"type": "string", "enum": ["json", "csv"], "default": "json"}
    ),
    "status": _param(
        "status",
        "a status list and, after a colon, categories (any of them): iucn_red_list:CR,EN. "
        "Repeat for several conditions, all of which must hold. "
        f"Lists: {', '.join(STATUS_CATEGORIES)}",
        {"type": "array", "items": {"type": "string", "pattern": _STATUS_PATTERN}},
        explode=True,
        example=["iucn_red_list:CR,EN"],
    ),
    **{
        flag: _param(
            flag, f"only species that are (true) or are not (false) {flag}", {"type": "boolean"}
        )  # fmt: skip
        for flag in ("threatened", "endemic", "invasive")
    },
    **{
        rank: _param(
            rank,
            f"only species of this {rank} (scientific name, any case)",
            {"type": "string", "minLength": 1, "maxLength": 200},
            example=example,
        )
        for rank, example in (
            ("kingdom", "Animalia"),
            ("phylum", "Chordata"),
            ("class", "Aves"),
            ("order", "Primates"),
            ("family", "Hominidae"),
        )
    },
}
TAXON_FILTERS = [
    _ref(p)
    for p in ("status", "threatened", "endemic", "invasive", "kingdom", "phylum", "class",
              "order", "family")
]  # fmt: skip

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": {"type": "string"},
            "description": {"type": "string", "description": "what is wrong, naming the field"},
            "hint": {"type": "string", "description": "what to do about it"},
        },
    },
    "Area": {
        "type": "object",
        "properties": {
            "layer": {"type": "string"},
            "code": {"type": "string"},
            "name_vi": {"type": "string"},
            "name_en": {"type": "string"},
        },
    },
    "SpeciesRow": {
        "type": "object",
        "properties": {
            "taxon_id": {"type": "integer"},
            "scientific_name": {"type": "string"},
            "authorship": {"type": "string", "nullable": True},
            "vernacular_name_vi": {"type": "string", "nullable": True},
            "vernacular_name_en": {"type": "string", "nullable": True},
            **{
                rank: {"type": "string", "nullable": True}
                for rank in ("kingdom", "phylum", "class", "order", "family")
            },
            "records": {"type": "integer"},
            "first_record": {"type": "string", "format": "date", "nullable": True},
            "last_record": {"type": "string", "format": "date", "nullable": True},
            "uncertain_records": {
                "type": "integer",
                "description": "records inside whose coordinate uncertainty reaches across the "
                "boundary",
            },
            "statuses": {
                "type": "object",
                "description": "list -> category (true for lists without categories)",
            },
        },
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "a parameter does not fit (the message names it)", 404: "no such object",
            401: "not authenticated, or bad credentials", 403: "beyond the account's rights",
            413: "too large", 422: "rejected",
            429: "too many attempts from this address: wait (Retry-After)"}  # fmt: skip
    return {
        str(code): {
            "description": text[code],
            "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def _ok(description: str, schema: dict[str, Any], csv: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {_JSON: {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"200": {"description": description, "content": content}}


def paths() -> dict[str, Any]:
    """Every ``/api`` route: the test checks this against the application's URL map."""
    return {
        "/api/health": {
            "get": {
                "summary": "Versions of the application, PostgreSQL and PostGIS",
                "operationId": "health",
                "responses": {
                    **_ok("the service and its database are up", {"type": "object"}),
                    "503": {"description": "the database is unreachable"},
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": _ok("the OpenAPI document", {"type": "object"}),
            }
        },
        "/api/ingest/{layer}": {
            "post": {
                "summary": "Load a file into a layer (the upload form of `vbis-geo ingest`)",
                "description": "A dry run (validation and report only), or, for an account "
                "with an editing role (an API token or the portal session), a load; the report "
                "lists every rejected or repaired row.",
                "operationId": "ingest",
                "security": [{}, {"bearerToken": []}, {"portalSession": []}],
                "parameters": [
                    _param(
                        "layer",
                        "the layer to load into",
                        {"type": "string", "enum": sorted(all_targets())},
                        where="path",
                        example="occurrences",
                    )
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "the data, its name with a suffix: "
                                        ".shp (zipped with its parts), .gpkg, .geojson, .kml, "
                                        ".kmz, .csv, .tsv, .xlsx or a Darwin Core Archive .zip",
                                    },
                                    "mapping": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "a YAML mapping file: fields, values, "
                                        "constants",
                                    },
                                    "crs": {**_CRS_SCHEMA, "description": _CRS_TEXT},
                                    "province": {
                                        "type": "string",
                                        "description": "the province of a VN-2000 TM-3 file",
                                    },
                                    "source_layer": {
                                        "type": "string",
                                        "description": "the layer of a multi-layer file",
                                    },
                                    **{
                                        flag: {"type": "boolean", "default": False}
                                        for flag in (
                                            "dry_run",
                                            "skip_rejected",
                                            "add_taxa",
                                            "accept_synonyms",
                                            "wdpa",
                                        )
                                    },  # fmt: skip
                                },
                            },
                            "encoding": {
                                name: {
                                    "headers": {
                                        "Content-Disposition": {
                                            "schema": {"type": "string"},
                                            "example": f'form-data; name="{name}"; '
                                            f'filename="{filename}"',
                                        }
                                    }
                                }
                                for name, filename in (
                                    ("file", "records.csv"),
                                    ("mapping", "mapping.yml"),
                                )
                            },
                        }
                    },
                },
                "responses": {
                    **_ok("loaded, or validated (dry run)", {"type": "object"}, csv=True),
                    **_errors(400, 401, 404, 413, 422),
                },
            }
        },
        "/api/protected-areas/{code}/species": {
            "get": {
                "summary": "Species recorded in a protected area",
                "description": "Each species (records rolled up from lower ranks and synonyms) "
                "with its number of records, first and last record date and statuses.",
                "operationId": "protectedAreaSpecies",
                "parameters": [
                    _param(
                        "code",
                        "the protected area's code",
                        {"type": "string", "minLength": 1, "maxLength": 100},
                        where="path",
                        example="PA-CUC-PHUONG",
                    ),
                    _param(
                        "zone_type",
                        "only the records in the area's zones of this type",
                        {"type": "string", "enum": list(ZONE_TYPES)},
                    ),
                    _ref("as_of"),
                    *TAXON_FILTERS,
                    _ref("f_table"),
                ],
                "responses": {
                    **_ok(
                        "the species list and a summary",
                        {
                            "type": "object",
                            "properties": {
                                "area": {"$ref": "#/components/schemas/Area"},
                                "summary": {"type": "object"},
                                "species": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/SpeciesRow"},
                                },
                            },
                        },
                        csv=True,
                    ),
                    **_errors(400, 404),
                },
            }
        },
        "/api/taxa": {
            "get": {
                "summary": "Search taxa by scientific or vernacular name",
                "operationId": "searchTaxa",
                "parameters": [
                    _param(
                        "q",
                        "part of a name (2 characters or more)",
                        {"type": "string", "minLength": 2, "maxLength": 200},
                        required=True,
                        example="Panthera",
                    ),  # fmt: skip
                    _param(
                        "limit",
                        "how many (1-100)",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    ),  # fmt: skip
                ],
                "responses": {**_ok("matching taxa", {"type": "object"}), **_errors(400)},
            }
        },
        "/api/contributions": {
            "post": {
                "summary": "Send a sighting (with or without an account): it goes in as a "
                "draft, published after review",
                "operationId": "contribute",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["scientific_name", "lon", "lat", "event_date"],
                                "additionalProperties": False,
                                "properties": {
                                    "scientific_name": {"type": "string", "minLength": 1},
                                    "lon": {"type": "number", "minimum": 102.14, "maximum": 117},
                                    "lat": {"type": "number", "minimum": 6.95, "maximum": 23.4},
                                    "event_date": {"type": "string", "format": "date"},
                                    "individual_count": {"type": "integer", "minimum": 0},
                                    "recorded_by": {"type": "string"},
                                    "occurrence_remarks": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"description": "the draft record's id"},
                    **_errors(400, 403, 404, 429),
                },
            }
        },
        "/api/search": {
            "get": {
                "summary": "Protected areas and taxa by name, with or without Vietnamese "
                "diacritics ('cuc phuong' finds 'Cúc Phương')",
                "operationId": "searchNames",
                "parameters": [
                    _param(
                        "q",
                        "part of a name (2 characters or more)",
                        {"type": "string", "minLength": 2, "maxLength": 200},
                        required=True,
                        example="cuc phuong",
                    ),  # fmt: skip
                    _param(
                        "limit",
                        "how many of each (1-50)",
                        {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                    ),  # fmt: skip
                ],
                "responses": {
                    **_ok("protected areas (with their bbox) and taxa", {"type": "object"}),
                    **_errors(400),
                },
            }
        },
        "/api/taxa/{id}/protected-areas": {
            "get": {
                "summary": "Protected areas where a taxon (with its lower ranks) is recorded",
                "operationId": "taxonProtectedAreas",
                "parameters": [
                    _param(
                        "id",
                        "the taxon's id (as /api/taxa answers it)",
                        {"type": "integer", "format": "int64", "minimum": 1},
                        where="path",
                        example=1,
                    ),
                    _ref("f_table"),
                ],
                "responses": {
                    **_ok(
                        "areas with counts, and the share of records inside any",
                        {"type": "object"},
                        csv=True,
                    ),  # fmt: skip
                    **_errors(400, 404),
                },
            }
        },
    }


def stats_paths() -> dict[str, Any]:
    """Richness, gap analysis and overlap (vbis_geo/web/questions_stats.py)."""
    return {
        "/api/richness": {
            "get": {
                "summary": "Species richness and threatened species per area or grid cell",
                "description": "A GeoJSON FeatureCollection for a choropleth: per protected "
                "area or province (every one, 0 when empty; the 63 or 34 provinces by as_of) or "
                "per equal-area grid cell (EPSG:6933) holding records.",
                "operationId": "richness",
                "parameters": [
                    _param(
                        "by",
                        "what to count per",
                        {"type": "string", "enum": ["protected_area", "province", "grid"]},
                        required=True,
                    ),  # fmt: skip
                    _param(
                        "cell_km",
                        "grid cell side in km (by=grid)",
                        {"type": "number", "minimum": 1, "maximum": 100, "default": 10},
                    ),  # fmt: skip
                    _param(
                        "bbox",
                        "minlon,minlat,maxlon,maxlat in degrees (WGS 84): only the areas or "
                        "cells touching it",
                        {"type": "string", "pattern": _BBOX_PATTERN},
                        example="105.5,20.0,106.0,20.5",
                    ),  # fmt: skip
                    _ref("as_of"),
                    *TAXON_FILTERS,
                    _param(
                        "f",
                        "the answer's format",
                        {
                            "type": "string",
                            "enum": ["geojson", "json", "csv"],
                            "default": "geojson",
                        },
                    ),  # fmt: skip
                ],
                "responses": {
                    "200": {
                        "description": "one feature per area or cell",
                        "content": {
                            "application/geo+json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(400),
                },
            }
        },
        "/api/gap-analysis": {
            "get": {
                "summary": "Threatened and priority-protected species and their records "
                "outside every protected area",
                "operationId": "gapAnalysis",
                "parameters": [_ref("as_of"), *TAXON_FILTERS, _ref("f_table")],
                "responses": {
                    **_ok(
                        "per species: records inside and outside, share outside",
                        {"type": "object"},
                        csv=True,
                    ),  # fmt: skip
                    **_errors(400),
                },
            }
        },
        "/api/overlap": {
            "get": {
                "summary": "Hectares of each feature of a layer inside and outside protected "
                "areas (equal-area EPSG:6933)",
                "operationId": "overlap",
                "parameters": [
                    _param(
                        "layer",
                        "the layer whose features are measured",
                        {"type": "string", "enum": ["wetlands", "ecosystems", "planning_zones"]},
                        required=True,
                    ),  # fmt: skip
                    _ref("as_of"),
                    _ref("f_table"),
                ],
                "responses": {
                    **_ok(
                        "per feature: hectares inside and outside", {"type": "object"}, csv=True
                    ),  # fmt: skip
                    **_errors(400),
                },
            }
        },
    }


def area_paths() -> dict[str, Any]:
    """What is here, and the area report (vbis_geo/web/questions_area.py)."""
    number = {"type": "number"}
    return {
        "/api/whats-here": {
            "get": {
                "summary": "The areas containing a point, and the nearest protected area",
                "description": "Protected area and zone, wetland, ecosystem, planning zone and "
                "province (as of a date) containing the point (a point on a boundary is in "
                "both areas), and the nearest protected area with its geodesic distance. "
                "Coordinates are x then y in the CRS: lon and lat, or x and y (easting and "
                "northing) -- one pair, not both.",
                "operationId": "whatsHere",
                "parameters": [
                    _param(
                        "lon",
                        "longitude (geographic CRS), with lat",
                        {"type": "number", "minimum": -180, "maximum": 180},
                        example=105.62,
                    ),  # fmt: skip
                    _param(
                        "lat",
                        "latitude (geographic CRS), with lon",
                        {"type": "number", "minimum": -90, "maximum": 90},
                        example=20.28,
                    ),  # fmt: skip
                    _param("x", "easting (projected CRS), with y, instead of lon", number),
                    _param("y", "northing (projected CRS), with x, instead of lat", number),
                    _param("crs", f"the point's CRS: {_CRS_TEXT}", _CRS_SCHEMA),
                    _ref("as_of"),
                    _param(
                        "f",
                        "the answer's format",
                        {"type": "string", "enum": ["json"], "default": "json"},
                    ),  # fmt: skip
                ],
                "responses": {**_ok("the areas here", {"type": "object"}), **_errors(400)},
            }
        },
        "/api/area-report": {
            "post": {
                "summary": "Species, statuses, protected areas and land cover of a polygon",
                "description": "The polygon is the body (a GeoJSON Polygon, MultiPolygon or "
                "Feature with one, or {geometry, crs, as_of}; or WKT as text/plain), or the "
                "geometry query parameter with an empty body. Limits: 25,000 km2, 10,000 "
                "vertices, a body of 2 MiB (400 LimitExceeded); an invalid polygon (a "
                "self-intersection) is a 400 naming the reason and where.",
                "operationId": "areaReport",
                "parameters": [
                    _param(
                        "geometry",
                        "the polygon as WKT (or GeoJSON text), with an empty body",
                        {"type": "string", "minLength": 1},
                        example=_EXAMPLE_WKT,
                    ),  # fmt: skip
                    _param("crs", f"the polygon's CRS: {_CRS_TEXT}", _CRS_SCHEMA),
                    _ref("as_of"),
                    *TAXON_FILTERS,
                    _ref("f_table"),
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/AreaReportBody"},
                            "example": {"geometry": _EXAMPLE_WKT, "as_of": "2024-12-31"},
                        },
                        "application/geo+json": {
                            "schema": {"$ref": "#/components/schemas/PolygonGeoJSON"},
                            "example": {"type": "Polygon", "coordinates": [_EXAMPLE_RING]},
                        },
                        "text/plain": {
                            "schema": {"type": "string", "minLength": 1},
                            "example": _EXAMPLE_WKT,
                        },
                    },
                },
                "responses": {
                    **_ok("the report", {"type": "object"}, csv=True),
                    **_errors(400, 413),
                },
            }
        },
    }


def export_paths() -> dict[str, Any]:
    """A layer as a file (vbis_geo/web/exports.py)."""
    text = {"type": "string", "minLength": 1, "maxLength": exports.MAX_TEXT}
    return {
        "/api/export/{layer}": {
            "get": {
                "summary": "A layer's published rows as a file (GeoPackage, GeoJSON, CSV, or a "
                "Darwin Core Archive of occurrences)",
                "description": "What `vbis-geo export` writes, for the audience of the "
                "credentials sent: without them (the public) or without the right to exact "
                "locations, every record of a sensitive species is at the centre of its 1, 10 "
                "or 25 km cell of an equal-area grid (EPSG:6933), its locality and remarks "
                "withheld, and dataGeneralizations and informationWithheld say so; the filters "
                "apply to those points. Drafts are never exported. At most "
                f"{exports.MAX_ROWS:,} rows (400 above: narrow the filters). The header "
                "X-Export-Rows gives the count, X-Export-Audience whose view it is.",
                "operationId": "exportLayer",
                "security": [{}, *_AUTHENTICATED],
                "parameters": [
                    _param(
                        "layer",
                        "the layer",
                        {"type": "string", "enum": list(exports.LAYERS)},
                        where="path",
                        example="occurrences",
                    ),
                    _param(
                        "format",
                        "the file's format (dwca: occurrences only)",
                        {
                            "type": "string",
                            "enum": list(exports.FORMATS),
                            "default": exports.DEFAULT_FORMAT,
                        },
                    ),
                    _param(
                        "bbox",
                        "minlon,minlat,maxlon,maxlat in degrees (WGS 84): rows touching it",
                        {"type": "string", "pattern": _BBOX_PATTERN},
                        example="105.5,20.2,105.8,20.4",
                    ),
                    _param(
                        "province",
                        "a province: a name (today's unit), an ISO 3166-2 code (the province "
                        "before 2025) or a VN34-... unit code; rows touching it",
                        text,
                        example="Ninh Bình",
                    ),
                    _param(
                        "protected_area",
                        "a protected area's code: its zones and facilities, or the rows "
                        "touching it",
                        text,
                        example="PA-CUC-PHUONG",
                    ),
                    _param(
                        "taxon",
                        "a scientific name, with its lower ranks and synonyms (occurrences)",
                        text,
                        example="Primates",
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "the file, as an attachment",
                        "content": {
                            media: {"schema": {"type": "string", "format": "binary"}}
                            for media, _ in exports.FORMATS.values()
                        },
                    },
                    **_errors(400, 401, 404),
                },
            }
        },
    }


_AUTHENTICATED: list[dict[str, list[str]]] = [{"bearerToken": []}, {"portalSession": []}]
_TOKEN_ID = _param(
    "id",
    "the token's id (as GET /api/tokens lists it)",
    {"type": "integer", "format": "int64", "minimum": 1},
    where="path",
    example=1,
)


def _form_and_json(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            _JSON: {"schema": schema, "example": example},
            "application/x-www-form-urlencoded": {"schema": schema},
        },
    }


def accounts_paths() -> dict[str, Any]:
    """Login, the caller, API tokens (vbis_geo/web/accounts.py)."""
    me = {"$ref": "#/components/schemas/Principal"}
    token = {"$ref": "#/components/schemas/Token"}
    return {
        "/api/login": {
            "post": {
                "summary": "Log in to the portal: sets the session cookie",
                "description": "A wrong username or password is a 401 with one message either "
                "way. After 5 failures for a username from an address in 15 minutes, attempts "
                "are refused (429, Retry-After) until the window has passed.",
                "operationId": "login",
                "requestBody": _form_and_json(
                    {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "username": {"type": "string", "minLength": 1, "maxLength": 64},
                            "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                        },
                    },
                    {"username": "nguyen.van.a", "password": "correct horse battery staple"},
                ),
                "responses": {
                    **_ok("logged in: who you are", me),
                    **_errors(400, 401, 429),
                },
            }
        },
        "/api/logout": {
            "post": {
                "summary": "Log out of the portal: clears the session cookie",
                "operationId": "logout",
                "responses": _ok("logged out (the public)", me),
            }
        },
        "/api/me": {
            "get": {
                "summary": "Who you are: account, role, scopes (the public without credentials)",
                "operationId": "me",
                "security": [{}, *_AUTHENTICATED],
                "responses": {**_ok("the caller", me), **_errors(401)},
            }
        },
        "/api/tokens": {
            "get": {
                "summary": "Your API tokens (never their secrets)",
                "operationId": "listTokens",
                "security": _AUTHENTICATED,
                "parameters": [
                    _param(
                        "account",
                        "another account's username (national_admin only)",
                        {"type": "string", "minLength": 1, "maxLength": 64},
                    )
                ],
                "responses": {
                    **_ok(
                        "the tokens, newest first",
                        {
                            "type": "object",
                            "properties": {"tokens": {"type": "array", "items": token}},
                        },
                    ),
                    **_errors(401, 403, 404),
                },
            },
            "post": {
                "summary": "Create an API token: the answer shows its secret, this once",
                "description": "Needs a portal login (a token cannot create tokens). Tokens "
                f"expire after `days` (default {DEFAULT_TOKEN_DAYS}, at most "
                f"{MAX_TOKEN_DAYS}); send them as 'Authorization: Bearer <token>'.",
                "operationId": "createToken",
                "security": [{"portalSession": []}],
                "requestBody": _form_and_json(
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 100},
                            "days": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_TOKEN_DAYS,
                                "default": DEFAULT_TOKEN_DAYS,
                            },
                            "account": {
                                "type": "string",
                                "description": "another account (national_admin only)",
                            },
                        },
                    },
                    {"name": "QGIS laptop", "days": 30},
                ),
                "responses": {
                    "201": {
                        "description": "the token, with its secret",
                        "content": {
                            _JSON: {
                                "schema": {
                                    "allOf": [
                                        token,
                                        {
                                            "type": "object",
                                            "properties": {"token": {"type": "string"}},
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    **_errors(400, 401, 403, 404),
                },
            },
        },
        "/api/tokens/{id}": {
            "delete": {
                "summary": "Revoke an API token (yours; a national_admin's any)",
                "operationId": "revokeToken",
                "security": _AUTHENTICATED,
                "parameters": [_TOKEN_ID],
                "responses": {**_ok("the token, revoked", token), **_errors(401, 404)},
            }
        },
    }


def review_paths() -> dict[str, Any]:
    """The review queue and decisions (vbis_geo/web/review.py)."""
    from vbis_geo.auth.scope import REVIEWED
    from vbis_geo.review import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_REASON

    layer = _param(
        "layer",
        "a layer whose rows are reviewed",
        {"type": "string", "enum": list(REVIEWED)},
        where="path",
        example="occurrences",
    )
    return {
        "/api/review/{layer}": {
            "get": {
                "summary": "The drafts you may review, oldest first (GeoJSON, paged)",
                "description": "A national administrator sees every draft; a provincial editor "
                "or reserve board the drafts within its scope; an expert the drafts of "
                "occurrences of its taxa that others submitted. Without the right to exact "
                "locations, sensitive records are shown as the public sees them (the centre "
                "of their grid cell, `generalised_km`).",
                "operationId": "reviewQueue",
                "security": _AUTHENTICATED,
                "parameters": [
                    layer,
                    _param(
                        "limit",
                        "drafts per page",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                    ),
                    _param(
                        "offset",
                        "drafts to skip",
                        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                    ),
                ],
                "responses": {
                    **_ok("a page of the queue", {"$ref": "#/components/schemas/ReviewQueue"}),
                    **_errors(400, 401, 403, 404),
                },
            }
        },
        "/api/review/{layer}/{id}": {
            "post": {
                "summary": "Publish or reject a draft",
                "description": "A rejection needs a reason, which the contributor reads; the "
                "history keeps the draft with the reviewer and the reason. Only drafts are "
                "reviewed (400 for a row that is not one); beyond your scope, or your own "
                "contribution as an expert, is a 403.",
                "operationId": "reviewDraft",
                "security": _AUTHENTICATED,
                "parameters": [
                    layer,
                    _param(
                        "id",
                        "the row's id",
                        {"type": "integer", "minimum": 1},
                        where="path",
                        example=1,
                    ),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["action"],
                                "properties": {
                                    "action": {"type": "string", "enum": ["publish", "reject"]},
                                    "reason": {
                                        "type": "string",
                                        "maxLength": MAX_REASON,
                                        "description": "why (required to reject)",
                                    },
                                },
                            },
                            "example": {"action": "reject", "reason": "the point is in the sea"},
                        }
                    },
                },
                "responses": {
                    **_ok(
                        "the row's review state", {"$ref": "#/components/schemas/ReviewDecision"}
                    ),
                    **_errors(400, 401, 403, 404),
                },
            }
        },
    }


def _review_schemas() -> dict[str, dict[str, Any]]:
    return {
        "ReviewQueue": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "layer": {"type": "string"},
                "features": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string", "enum": ["Feature"]},
                            "id": {"type": "integer"},
                            "geometry": {"type": "object"},
                            "properties": {"type": "object"},
                        },
                    },
                },
                "numberMatched": {"type": "integer"},
                "numberReturned": {"type": "integer"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
            },
        },
        "ReviewDecision": {
            "type": "object",
            "properties": {
                "layer": {"type": "string"},
                "id": {"type": "integer"},
                "review_status": {"type": "string", "enum": ["published", "rejected"]},
                "reviewed_by": {"type": "string"},
                "reviewed_at": {"type": "string", "format": "date-time"},
                "review_reason": {"type": "string", "nullable": True},
            },
        },
    }


def _account_schemas() -> dict[str, dict[str, Any]]:
    codes = {"type": "array", "items": {"type": "string"}}
    return {
        "Principal": {
            "type": "object",
            "properties": {
                "authenticated": {"type": "boolean"},
                "username": {"type": "string", "nullable": True},
                "display_name": {"type": "string", "nullable": True},
                "role": {"type": "string", "enum": ["public", *ROLES]},
                "scopes": {
                    "type": "object",
                    "properties": {
                        "provinces": codes,
                        "province_codes": {
                            **codes,
                            "description": "the provinces granted and the pre-2025 provinces "
                            "merged whole into them",
                        },
                        "protected_areas": codes,
                        "facilities": codes,
                        "taxa": {"type": "array", "items": {"type": "integer"}},
                    },
                },
                "exact_locations": {"type": "boolean"},
                "via": {"type": "string", "nullable": True, "enum": ["token", "session", None]},
            },
        },
        "Token": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "account": {"type": "string"},
                "name": {"type": "string"},
                "prefix": {"type": "string", "description": "its first characters"},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
                "last_used_at": {"type": "string", "format": "date-time", "nullable": True},
                "state": {"type": "string", "enum": ["active", "expired", "revoked"]},
            },
        },
    }


def _geometry_schemas() -> dict[str, dict[str, Any]]:
    """GeoJSON (RFC 7946) polygons, and the body of an area report."""
    position = {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 3,
        "description": "x, y: longitude and latitude, or easting and northing in crs",
    }
    ring = {
        "type": "array",
        "items": position,
        "minItems": 4,
        "description": "a closed ring: the first position repeated last",
    }
    polygon = {"type": "array", "items": ring, "minItems": 1}
    return {
        "Polygon": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["Polygon"]},
                "coordinates": polygon,
            },
        },
        "MultiPolygon": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["MultiPolygon"]},
                "coordinates": {"type": "array", "items": polygon, "minItems": 1},
            },
        },
        "PolygonFeature": {
            "type": "object",
            "required": ["type", "geometry"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Polygon"},
                        {"$ref": "#/components/schemas/MultiPolygon"},
                    ]
                },
                "properties": {"type": "object", "nullable": True},
            },
        },
        "PolygonGeoJSON": {
            "oneOf": [
                {"$ref": "#/components/schemas/Polygon"},
                {"$ref": "#/components/schemas/MultiPolygon"},
                {"$ref": "#/components/schemas/PolygonFeature"},
            ]
        },
        "AreaReportBody": {
            "oneOf": [
                {"$ref": "#/components/schemas/PolygonGeoJSON"},
                {
                    "type": "object",
                    "required": ["geometry"],
                    "additionalProperties": False,
                    "properties": {
                        "geometry": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/PolygonGeoJSON"},
                                {"type": "string", "minLength": 1, "description": "WKT"},
                            ]
                        },
                        "crs": {**_CRS_SCHEMA, "description": _CRS_TEXT},
                        "as_of": {"type": "string", "format": "date"},
                    },
                },
            ]
        },
    }


def document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "vbis-geo API: spatial questions on Viet Nam's biodiversity",
            "version": __version__,
            "description": "Which species live inside which area, and the questions that "
            "follow. OGC APIs (Features, Tiles, Records, Coverages, Processes) are under /ogc. "
            "Every answer is for the audience of the credentials sent: published records only, "
            "and, unless the account may see exact locations, each record of a sensitive "
            "species counted at the centre of its grid cell (1, 10 or 25 km, EPSG:6933), where "
            "the public sees it.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            **paths(),
            **stats_paths(),
            **area_paths(),
            **export_paths(),
            **accounts_paths(),
            **review_paths(),
        },
        "components": {
            "parameters": PARAMETERS,
            "schemas": {
                **SCHEMAS,
                **_geometry_schemas(),
                **_account_schemas(),
                **_review_schemas(),
            },
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token (vbis_...): `vbis-geo users token create`, or "
                    "POST /api/tokens after logging in",
                },
                "portalSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "vbis_session",
                    "description": "the session cookie POST /api/login sets",
                },
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    settings = current_app.config["VBIS_SETTINGS"]
    return current_app.json.response(document(settings.public_url))
