"""Thematic maps under ``/maps`` (vbis_geo/maps): the stock maps of ``layers/maps/*.yml``, or a
map posted as YAML or JSON, composed on the fly for whoever asks (sensitive records generalised
for those without the right to exact locations, drafts left out).

* ``GET /maps`` -- the stock maps; ``GET /maps/{id}`` -- one, with its parameters and links;
* ``GET /maps/{id}/style.json`` -- a MapLibre GL style (sources on our tiles and GeoJSON);
* ``GET /maps/{id}/layers/{layer}.geojson`` -- the features of one map layer;
* ``GET /maps/{id}.png`` (``width``, ``height`` in pixels), ``GET /maps/{id}.pdf`` (``paper``
  A4 or A3, ``orientation`` landscape or portrait);
* ``GET /maps/{id}.sld`` -- a map layer's style for QGIS (Styled Layer Descriptor 1.1;
  ``layer={layer}``, by default the map's subject: its topmost themed layer);
* ``POST /maps/compose?format=style|png|pdf|geojson|sld`` -- a map defined in the body (its
  style carries its GeoJSON inline, since a posted map has no address to fetch it from).

Every map takes ``lang`` (vi or en; else Accept-Language, else Vietnamese) and its own
parameters (``taxon``, ``date``) as query parameters.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import yaml
from flask import Blueprint, Response, request

from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.maps import qgis, render
from vbis_geo.maps.compose import ComposedMap, compose
from vbis_geo.maps.data import layer_features, resolve_parameters
from vbis_geo.maps.definitions import MapDefinition, load_maps, parse_map
from vbis_geo.maps.style import maplibre_style
from vbis_geo.web import db
from vbis_geo.web.accounts import principal
from vbis_geo.web.ogc import layers_dir, published_layers

bp = Blueprint("maps", __name__)

#: the largest map definition accepted by POST /maps/compose
MAX_DEFINITION_BYTES = 64 * 1024
#: simplification of polygons drawn at the scale of a whole-country map (degrees, ~500 m)
NATIONAL_TOLERANCE_DEG = 0.005


@functools.cache
def stock_maps() -> dict[str, MapDefinition]:
    """The maps of ``layers/maps/*.yml``, read once per process."""
    return {m.id: m for m in load_maps(layers_dir() / "maps", published_layers())}


def _definition(map_id: str) -> MapDefinition:
    try:
        return stock_maps()[map_id]
    except KeyError:
        raise NotFound(
            f"no map {map_id!r}", hint=f"the maps: {', '.join(sorted(stock_maps()))}"
        ) from None


def _lang() -> str:
    asked = request.args.get("lang") or request.accept_languages.best_match(["vi", "en"]) or "vi"
    if asked not in ("vi", "en"):
        raise InvalidInput(f"lang={asked!r}: expected vi or en")
    return asked


def _compose(definition: MapDefinition) -> ComposedMap:
    conn = db.connection()
    params = resolve_parameters(conn, definition, request.args)
    return compose(
        conn, definition, params, principal(), lang=_lang(), tolerance_deg=NATIONAL_TOLERANCE_DEG
    )


def _query(definition: MapDefinition) -> dict[str, str]:
    """The request's map parameters and language, for the links a style makes."""
    keys = [*definition.parameters, "lang"]
    return {k: request.args[k] for k in keys if request.args.get(k)}


def _json(body: Any, mimetype: str = "application/json") -> Response:
    return Response(orjson.dumps(body), mimetype=mimetype)


@bp.get("")
def list_maps() -> Response:
    lang = _lang()
    base = request.host_url.rstrip("/")
    return _json(
        {
            "maps": [
                {
                    "id": m.id,
                    "title": m.title[lang],
                    "description": m.description[lang],
                    "parameters": m.parameters,
                    "links": _links(base, m.id),
                }
                for m in stock_maps().values()
            ]
        }
    )


def _links(base: str, map_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "type": "application/json", "href": f"{base}/maps/{map_id}"},
        {"rel": "stylesheet", "type": "application/vnd.mapbox.style+json",
         "href": f"{base}/maps/{map_id}/style.json"},
        {"rel": "preview", "type": "image/png", "href": f"{base}/maps/{map_id}.png"},
        {"rel": "alternate", "type": "application/pdf", "href": f"{base}/maps/{map_id}.pdf"},
        {"rel": "stylesheet", "type": "application/vnd.ogc.sld+xml",
         "href": f"{base}/maps/{map_id}.sld"},
    ]  # fmt: skip


@bp.get("/<map_id>")
def describe_map(map_id: str) -> Response:
    definition = _definition(map_id)
    lang = _lang()
    return _json(
        {
            "id": definition.id,
            "title": definition.title[lang],
            "description": definition.description[lang],
            "parameters": definition.parameters,
            "bbox": list(definition.bbox),
            "layers": [
                {
                    "id": m.id,
                    "title": m.title[lang],
                    "layer": m.layer.id,
                    "symbology": m.symbology.kind,
                    "filter": m.filter,
                }
                for m in definition.layers
            ],
            "links": _links(request.host_url.rstrip("/"), definition.id),
        }
    )


@bp.get("/<map_id>/style.json")
def map_style(map_id: str) -> Response:
    definition = _definition(map_id)
    return _style_response(definition)


def _style_response(definition: MapDefinition, *, inline: bool = False) -> Response:
    composed = _compose(definition)
    style = maplibre_style(
        composed, request.host_url.rstrip("/"), _query(definition), inline=inline
    )
    return _json(style, "application/vnd.mapbox.style+json")


@bp.get("/<map_id>/layers/<layer_id>.geojson")
def map_layer_geojson(map_id: str, layer_id: str) -> Response:
    return _geojson(_definition(map_id), layer_id)


def _geojson(definition: MapDefinition, layer_id: str) -> Response:
    found = [m for m in definition.layers if m.id == layer_id]
    if not found:
        raise NotFound(
            f"the map {definition.id!r} has no layer {layer_id!r}",
            hint=f"its layers: {', '.join(m.id for m in definition.layers)}",
        )
    conn = db.connection()
    params = resolve_parameters(conn, definition, request.args)
    features = layer_features(
        conn, found[0], params, principal(), tolerance_deg=NATIONAL_TOLERANCE_DEG
    )
    return _json({"type": "FeatureCollection", "features": features}, "application/geo+json")


@bp.get("/<map_id>.png")
def map_png(map_id: str) -> Response:
    return _png(_definition(map_id))


def _png(definition: MapDefinition) -> Response:
    width = _int_arg("width", 1600)
    height = _int_arg("height", 1200)
    png = render.render_png(_compose(definition), width, height)
    return Response(png, mimetype="image/png")


@bp.get("/<map_id>.pdf")
def map_pdf(map_id: str) -> Response:
    return _pdf(_definition(map_id))


def _pdf(definition: MapDefinition) -> Response:
    paper = request.args.get("paper", "A4")
    orientation = request.args.get("orientation", "landscape")
    render.page_size_inches(paper, orientation)  # a bad one is a 400 before any work
    pdf = render.render_pdf(_compose(definition), paper, orientation)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{definition.id}.pdf"'},
    )


@bp.get("/<map_id>.sld")
def map_sld(map_id: str) -> Response:
    return _sld(_definition(map_id))


def _sld(definition: MapDefinition) -> Response:
    composed = _compose(definition)
    item = qgis.pick_layer(composed, request.args.get("layer"))
    filename = f"{definition.id}-{item.map_layer.id}.sld"
    return Response(
        qgis.sld(composed, item),
        mimetype="application/vnd.ogc.sld+xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/compose")
def compose_posted() -> Response:
    """A map defined in the request body (YAML or JSON, as in ``layers/maps``), composed in
    ``format``: style (default), png, pdf, geojson (with ``layer``) or sld."""
    raw = request.get_data(cache=False)
    if len(raw) > MAX_DEFINITION_BYTES:
        raise InvalidInput(
            f"the map definition is {len(raw)} bytes; at most {MAX_DEFINITION_BYTES}"
        )
    try:
        parsed = yaml.safe_load(raw.decode("utf-8"))  # JSON is YAML too
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"the body is not a map definition in YAML or JSON: {exc}") from None
    definition = parse_map(parsed, published_layers(), where="the posted map")
    fmt = request.args.get("format", "style")
    if fmt == "style":
        return _style_response(definition, inline=True)
    if fmt == "png":
        return _png(definition)
    if fmt == "pdf":
        return _pdf(definition)
    if fmt == "geojson":
        return _geojson(definition, request.args.get("layer") or definition.layers[-1].id)
    if fmt == "sld":
        return _sld(definition)
    raise InvalidInput(f"format={fmt!r}: expected style, png, pdf, geojson or sld")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name}={raw!r}: expected a whole number of pixels") from None
