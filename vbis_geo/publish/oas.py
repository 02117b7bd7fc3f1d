"""A self-contained OpenAPI document: the OGC building blocks pygeoapi refers to, made local.

pygeoapi 0.21 writes its OpenAPI document with ``$ref``s to files on schemas.opengis.net and on
GitHub (raw.githubusercontent.com, the *master* branch of the Records repository) for the
standard parameters (``featureId``, ``datetime``, ``sortby``, ``q``, the tile path parameters)
and responses. A client without Internet access, or one that refuses remote references (OpenAPI
tools, fuzzers such as schemathesis: "Unresolvable reference"), cannot read the document, and the
GitHub ones change whenever upstream does. :func:`bundle` replaces each such reference by one to
a local component holding the definition (:data:`REMOTE`, from the OGC API standards), so the
document names every parameter it accepts without leaving the server.
"""

from __future__ import annotations

import copy
from typing import Any

_OAPIF = "https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/ogcapi-features-1.yaml"
_OAPIT = "https://schemas.opengis.net/ogcapi/tiles/part1/1.0/openapi/ogcapi-tiles-1.yaml"
_OAPIP = "https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi"
_OAPIR = "https://raw.githubusercontent.com/opengeospatial/ogcapi-records/master/core/openapi"

_EXCEPTION = {  # OGC API - Features, Part 1: exception.yaml (pygeoapi's error bodies fit it)
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}
_PROCESS_EXCEPTION = {  # OGC API - Processes, Part 1: exception.yaml (RFC 7807)
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
_LINK = {  # OGC API - Tiles, Part 1: link
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "templated": {"type": "boolean"},
        "varBase": {"type": "string"},
        "hreflang": {"type": "string"},
        "title": {"type": "string"},
        "length": {"type": "integer"},
    },
}

_EXECUTE = {  # OGC API - Processes, Part 1: execute.yaml (an execute request), less callbacks
    "type": "object",
    "properties": {
        "inputs": {"type": "object", "additionalProperties": True},
        "outputs": {"type": "object", "additionalProperties": {"type": "object"}},
        "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"},
        # no "subscriber": the server makes no callbacks (vbis_geo.web.ogc_guards)
    },
}


def _response(description: str, media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media_type: {"schema": schema}, "text/html": {"schema": {"type": "string"}}},
    }


def _error(description: str) -> dict[str, Any]:
    return _response(description, "application/json", {"$ref": "#/components/schemas/exception"})


def _process_error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/processException"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _tile_index(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "description": description,
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
        "example": 0,
    }


#: remote reference -> (section of ``components``, local name, definition)
REMOTE: dict[str, tuple[str, str, dict[str, Any]]] = {
    f"{_OAPIF}#/components/parameters/featureId": (
        "parameters",
        "featureId",
        {
            "name": "featureId",
            "in": "path",
            "description": "local identifier of a feature",
            "required": True,
            "schema": {"type": "string"},
        },
    ),
    f"{_OAPIF}#/components/parameters/datetime": (
        "parameters",
        "datetime",
        {
            "name": "datetime",
            "in": "query",
            "description": "Either a date-time or an interval, open or closed (RFC 3339; "
            "'..' or an empty string for an open end). Only features that have a temporal "
            "property that intersects the value of `datetime` are selected.",
            "required": False,
            "schema": {"type": "string"},
            "style": "form",
            "explode": False,
        },
    ),
    f"{_OAPIR}/parameters/sortby.yaml": (
        "parameters",
        "sortby",
        {
            "name": "sortby",
            "in": "query",
            "description": "Properties to sort by, each optionally prefixed with '+' "
            "(ascending, the default) or '-' (descending).",
            "required": False,
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "pattern": "[+|-]?[A-Za-z_].*"},
            },
            "style": "form",
            "explode": False,
        },
    ),
    f"{_OAPIR}/parameters/q.yaml": (
        "parameters",
        "q",
        {
            "name": "q",
            "in": "query",
            "description": "Search terms (comma-separated): records that contain them all.",
            "required": False,
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": False,
        },
    ),
    f"{_OAPIT}#/components/parameters/tileMatrixSetId": (
        "parameters",
        "tileMatrixSetId",
        {
            "name": "tileMatrixSetId",
            "in": "path",
            "description": "Identifier of a tile matrix set (tiling scheme)",
            "required": True,
            "schema": {"type": "string"},
            "example": "WebMercatorQuad",
        },
    ),
    f"{_OAPIT}#/components/parameters/tileMatrix": (
        "parameters",
        "tileMatrix",
        {
            "name": "tileMatrix",
            "in": "path",
            "description": "Identifier of one of the tile matrices (zoom levels) of the set",
            "required": True,
            "schema": {"type": "string"},
            "example": "5",
        },
    ),
    f"{_OAPIT}#/components/parameters/tileRow": (
        "parameters",
        "tileRow",
        _tile_index("tileRow", "Row index of the tile in the tile matrix"),
    ),
    f"{_OAPIT}#/components/parameters/tileCol": (
        "parameters",
        "tileCol",
        _tile_index("tileCol", "Column index of the tile in the tile matrix"),
    ),
    f"{_OAPIT}#/components/schemas/link": ("schemas", "link", _LINK),
    f"{_OAPIF}#/components/responses/LandingPage": (
        "responses",
        "LandingPage",
        _response(
            "The landing page: links to the API definition, the conformance declaration and "
            "the collections.",
            "application/json",
            {"type": "object"},
        ),
    ),
    f"{_OAPIF}#/components/responses/Collection": (
        "responses",
        "Collection",
        _response("Information about the collection.", "application/json", {"type": "object"}),
    ),
    f"{_OAPIF}#/components/responses/Features": (
        "responses",
        "Features",
        _response(
            "A page of the features of the collection.",
            "application/geo+json",
            {"type": "object"},
        ),
    ),
    f"{_OAPIF}#/components/responses/Feature": (
        "responses",
        "Feature",
        _response("One feature of the collection.", "application/geo+json", {"type": "object"}),
    ),
    f"{_OAPIF}#/components/responses/InvalidParameter": (
        "responses",
        "InvalidParameter",
        _error("A query parameter has an invalid value."),
    ),
    f"{_OAPIF}#/components/responses/NotFound": (
        "responses",
        "NotFound",
        _error("The requested resource does not exist on the server."),
    ),
    f"{_OAPIP}/responses/NotFound.yaml": (
        "responses",
        "ProcessNotFound",
        _process_error("The requested resource does not exist on the server."),
    ),
    f"{_OAPIP}/responses/ServerError.yaml": (
        "responses",
        "ProcessServerError",
        _process_error("A server error occurred."),
    ),
    f"{_OAPIP}/responses/ProcessList.yaml": (
        "responses",
        "ProcessList",
        _response(
            "Information about the available processes.",
            "application/json",
            {
                "type": "object",
                "required": ["processes", "links"],
                "properties": {
                    "processes": {"type": "array", "items": {"type": "object"}},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                },
            },
        ),
    ),
    f"{_OAPIP}/responses/ExecuteAsync.yaml": (
        "responses",
        "ExecuteAsync",
        _response(
            "Started asynchronous execution: the job's status (its URL in Location).",
            "application/json",
            {"type": "object", "required": ["jobID", "status"]},
        ),
    ),
    f"{_OAPIP}/schemas/execute.yaml": ("schemas", "execute", _EXECUTE),
    f"{_OAPIF}#/components/responses/ServerError": (
        "responses",
        "ServerError",
        _error("A server error occurred."),
    ),
    f"{_OAPIP}/schemas/exception.yaml": ("schemas", "processException", _PROCESS_EXCEPTION),
}


def bundle(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every remote reference of :data:`REMOTE` made local (a copy)."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in REMOTE:
                section, name, _ = REMOTE[ref]
                node["$ref"] = f"#/components/{section}/{name}"
                used.add(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for ref in sorted(used):
        section, name, definition = REMOTE[ref]
        components.setdefault(section, {}).setdefault(name, copy.deepcopy(definition))
    schemas = components.setdefault("schemas", {})
    text = repr(document)  # the components the local definitions refer to in their turn
    for name, schema in (
        ("exception", _EXCEPTION),
        ("processException", _PROCESS_EXCEPTION),
        ("link", _LINK),
    ):
        if f"#/components/schemas/{name}'" in text:
            schemas.setdefault(name, copy.deepcopy(schema))
    return document


def remote_references(document: Any) -> set[str]:
    """The ``$ref``s of ``document`` that point outside it."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                found.add(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found
