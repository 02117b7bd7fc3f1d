"""Guards in front of pygeoapi for requests it answers with a 500 although the input is at fault.

pygeoapi 0.21 (its API layer and its stock rasterio provider, which we do not patch) fails with
a server error on some bad requests that schemathesis found (``tests/web/test_openapi_fuzz.py``).
:func:`install` registers one ``before_request`` hook that answers those with a 400 (or 415)
in pygeoapi's own error format, naming the parameter and what is expected, before pygeoapi sees
them; everything else passes through untouched.

* ``sortby`` with an empty key (``sortby=``, ``sortby=name,``): pygeoapi indexes the key's first
  character (IndexError).
* ``POST .../items`` without a Content-Type: pygeoapi's view returns nothing (TypeError).
* A coverage's ``bbox``: pygeoapi answers a malformed one with a 500 itself, the rasterio
  provider unpacks exactly four numbers, and a box off the raster makes it raise a query error
  (500). ``bbox-crs``: the provider reads it as a bare EPSG code (``CRS.from_epsg``), so an OGC
  CRS URI or anything else was a 500; the URIs of EPSG CRSs (and CRS84) are now translated to
  the code it expects, and an unknown CRS is a 400.
* ``POST /processes/{id}/execution``: pygeoapi reads the body with ``.get`` (a JSON array or
  number was an AttributeError; a body not in UTF-8, a UnicodeDecodeError) and a
  ``subscriber`` with ``[...]`` (TypeError). With a ``subscriber`` it also POSTs to the URLs
  the client names, from the server, and a URL that does not answer was a 500: callbacks are
  refused (400), so the server never calls out to an address a request chose (and the OpenAPI
  document does not offer them, ``oas.py``).
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response, request
from werkzeug.datastructures import ImmutableMultiDict

_ITEMS = re.compile(r"^/ogc/collections/([^/]+)/items/?$")
_COVERAGE = re.compile(r"^/ogc/collections/([^/]+)/coverage/?$")
_EXECUTION = re.compile(r"^/ogc/processes/([^/]+)/execution/?$")
_RESPONSES = ("raw", "document")
_CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$")


class Invalid(Exception):
    """A request parameter pygeoapi would mishandle; ``status`` is the answer's status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_response(message: str, status: int = 400) -> Response:
    """An error in pygeoapi's format (``code``/``type``/``description``), as JSON."""
    code = "InvalidParameterValue" if status == 400 else "NoApplicableCode"
    body = {"code": code, "type": code, "description": message}
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def install(app: Flask, config: dict[str, Any]) -> None:
    """Guard the pygeoapi mounted at ``/ogc`` serving ``config`` (variables substituted)."""
    rasters = {
        name: Path(str(provider["data"]))
        for name, resource in config.get("resources", {}).items()
        for provider in resource.get("providers", [])
        if provider.get("type") == "coverage" and provider.get("name") == "rasterio"
    }

    @app.before_request
    def _guard_ogc() -> Response | None:
        path = request.path
        if not path.startswith("/ogc/"):
            return None
        try:
            if _ITEMS.match(path):
                check_items()
            elif (match := _COVERAGE.match(path)) and match.group(1) in rasters:
                check_coverage(rasters[match.group(1)])
            elif request.method == "POST" and _EXECUTION.match(path):
                check_execution()
        except Invalid as exc:
            return error_response(exc.message, exc.status)
        return None


def check_items() -> None:
    """``/collections/{id}/items``: the sort keys, and a POST's Content-Type."""
    sortby = request.args.get("sortby")
    if sortby is not None and any(not key.strip() for key in sortby.split(",")):
        raise Invalid(
            f"sortby={sortby!r}: empty sort key; expected comma-separated properties, "
            "each optionally prefixed with + or - (e.g. sortby=-event_date,id)"
        )
    if request.method == "POST" and not request.content_type:
        raise Invalid(
            "POST to items needs a Content-Type: application/query-cql-json with a CQL2 JSON "
            "filter in the body (or use GET with filter=)",
            status=415,
        )


def check_execution() -> None:
    """An execute request: a JSON object whose members have the types of the standard's."""
    data = request.get_data()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # pygeoapi's json.loads raised it: 500
        raise Invalid("the execute request must be JSON in UTF-8") from None
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return  # pygeoapi answers a missing or malformed body itself (400)
    if not isinstance(body, dict):
        raise Invalid(
            'the execute request must be a JSON object: {"inputs": {...}, "response": "raw"}'
        )
    for member in ("inputs", "outputs"):
        if member in body and not isinstance(body[member], dict):
            raise Invalid(f"{member} of the execute request must be a JSON object")
    if "response" in body and body["response"] not in _RESPONSES:
        raise Invalid(f"response={body['response']!r}: expected one of {', '.join(_RESPONSES)}")
    if body.get("subscriber") is not None:
        raise Invalid(
            "subscriber: this server makes no callbacks; poll the job's status "
            "(Prefer: respond-async, then GET the Location) instead"
        )


def check_coverage(raster: Path) -> None:
    """``/collections/{id}/coverage`` of the rasterio provider: ``bbox`` and ``bbox-crs``."""
    raw_crs = request.args.get("bbox-crs")
    epsg = 4326
    if raw_crs is not None:
        epsg = coverage_bbox_epsg(raw_crs)
        if str(epsg) != raw_crs:  # the provider understands only the bare code
            args = [
                (k, str(epsg) if k == "bbox-crs" else v) for k, v in request.args.items(multi=True)
            ]
            request.__dict__["args"] = ImmutableMultiDict(args)
    raw_bbox = request.args.get("bbox")
    if raw_bbox is None:
        return
    box = parse_bbox(raw_bbox)
    if len(box) != 4:
        raise Invalid(f"bbox={raw_bbox!r}: a coverage is subset with 4 numbers minx,miny,maxx,maxy")
    if not overlaps(raster, box, epsg):
        left, bottom, right, top, crs = raster_bounds(raster)
        raise Invalid(
            f"bbox={raw_bbox!r} does not overlap the coverage, which covers "
            f"{left:.6g},{bottom:.6g},{right:.6g},{top:.6g} ({crs})"
        )


def parse_bbox(raw: str) -> list[float]:
    """A ``bbox`` value: 4 or 6 finite numbers with min <= max on each axis."""
    parts = raw.split(",")
    try:
        box = [float(part) for part in parts]
    except ValueError:
        raise Invalid(f"bbox={raw!r}: the values must be numbers") from None
    if len(box) not in (4, 6):
        raise Invalid(f"bbox={raw!r}: expected 4 numbers (minx,miny,maxx,maxy) or 6 (with z)")
    if not all(math.isfinite(v) for v in box):
        raise Invalid(f"bbox={raw!r}: the values must be finite numbers")
    half = len(box) // 2
    if any(box[i] > box[i + half] for i in range(half)):
        raise Invalid(f"bbox={raw!r}: each minimum must not exceed its maximum")
    return box


def coverage_bbox_epsg(raw: str) -> int:
    """The EPSG code of a coverage ``bbox-crs`` (a code, an EPSG CRS URI, or CRS84)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if raw == _CRS84:
        return 4326  # the provider transforms with always_xy: lon/lat, as CRS84
    match = _EPSG_URI.match(raw)
    code = match.group(1) if match else raw
    if not code.isdigit():
        raise Invalid(
            f"bbox-crs={raw!r}: expected a CRS URI such as "
            "http://www.opengis.net/def/crs/EPSG/0/4326 (or an EPSG code)"
        )
    try:
        CRS.from_epsg(int(code))
    except CRSError:
        raise Invalid(f"bbox-crs={raw!r}: no such EPSG CRS") from None
    return int(code)


@cache
def _bounds(path: str, mtime: float) -> tuple[float, float, float, float, str]:
    import rasterio

    with rasterio.open(path) as data:
        b = data.bounds
        return b.left, b.bottom, b.right, b.top, data.crs.to_string()


def raster_bounds(raster: Path) -> tuple[float, float, float, float, str]:
    """The raster's bounds and CRS (read once per version of the file)."""
    return _bounds(str(raster), raster.stat().st_mtime)


def overlaps(raster: Path, box: list[float], epsg: int) -> bool:
    """Whether ``box`` (in EPSG:``epsg``) overlaps the raster, transformed as the rasterio
    provider does it (its two corners, x/y order)."""
    from pyproj import CRS, Transformer

    left, bottom, right, top, crs = raster_bounds(raster)
    minx, miny, maxx, maxy = box
    source, target = CRS.from_epsg(epsg), CRS.from_string(crs)
    if source != target:
        transform = Transformer.from_crs(source, target, always_xy=True)
        minx, miny = transform.transform(minx, miny)
        maxx, maxy = transform.transform(maxx, maxy)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return False
    return minx < right and maxx > left and miny < top and maxy > bottom
