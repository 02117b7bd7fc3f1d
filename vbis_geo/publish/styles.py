"""MapLibre styles (style specification v8) of the published layers, from their ``style:`` hints.

Each layer's style draws its vector tiles (through the collection's TileJSON) the way the hint
in ``layers/<id>.yml`` says:

* ``kind: fill`` -- polygons filled with ``colour`` (or, with ``by`` and ``colours``, one colour
  per value of a tile field, titled in the legend by ``labels``) at ``opacity``, outlined with
  ``outline``;
* ``kind: circle`` -- points as circles of ``radius`` pixels;
* ``kind: grid`` -- occurrences: at the zooms where tiles carry counts on a grid, circles sized
  by the square root of ``count``; deeper, the points themselves.

A legend (title, and one entry per colour) rides in the style's ``metadata`` for the portal.
Style specification: https://maplibre.org/maplibre-style-spec/
"""

from __future__ import annotations

from typing import Any

from vbis_geo.catalog import Layer

#: OGC API Styles' media type for a Mapbox/MapLibre style
STYLE_MEDIA_TYPE = "application/vnd.mapbox.style+json"


def maplibre_style(layer: Layer, ogc_url: str, lang: str = "vi") -> dict[str, Any]:
    """The style of ``layer``; tiles come from the collection's TileJSON under ``ogc_url``."""
    hint = layer.style or {"kind": "fill"}
    tiles = layer.tiles or {}
    zoom = tiles.get("zoom", {})
    source = {
        "type": "vector",
        "url": f"{ogc_url}/collections/{layer.id}/tiles/WebMercatorQuad/metadata?f=tilejson",
    }
    common = {"source": layer.id, "source-layer": layer.id, "minzoom": int(zoom.get("min", 0))}
    colour = _colour(hint)
    outline = hint.get("outline", "#333333")
    kind = hint["kind"]
    if kind == "fill":
        layers = [
            {
                "id": f"{layer.id}-fill",
                "type": "fill",
                **common,
                "paint": {"fill-color": colour, "fill-opacity": float(hint.get("opacity", 0.4))},
            },
            {
                "id": f"{layer.id}-outline",
                "type": "line",
                **common,
                "paint": {"line-color": outline, "line-width": 1},
            },
        ]
    elif kind == "circle":
        layers = [_circle(f"{layer.id}-points", common, colour, outline, hint.get("radius", 5))]
    else:  # grid: counts up to grid_until_zoom, points deeper
        has_count = ["has", "count"]
        radius = [
            "interpolate", ["linear"], ["sqrt", ["get", "count"]],
            1, 3, 10, 9, 100, 22,
        ]  # fmt: skip
        layers = [
            {**_circle(f"{layer.id}-cells", common, colour, outline, radius), "filter": has_count},
            {
                **_circle(f"{layer.id}-points", common, colour, outline, hint.get("radius", 4)),
                "filter": ["!", has_count],
            },
        ]
    return {
        "version": 8,
        "name": layer.title[lang],
        "metadata": {
            "vbis-geo:layer": layer.id,
            "vbis-geo:legend": _legend(layer, hint, lang),
        },
        "sources": {layer.id: source},
        "layers": layers,
    }


def _colour(hint: dict[str, Any]) -> Any:
    """A colour, or a ``match`` expression choosing one per value of ``by``."""
    default = hint.get("colour", "#888888")
    if "by" not in hint:
        return default
    pairs = [item for value, colour in hint["colours"].items() for item in (str(value), colour)]
    return ["match", ["get", hint["by"]], *pairs, default]


def _circle(id_: str, common: dict[str, Any], colour: Any, outline: str, radius: Any) -> dict:  # type: ignore[type-arg]
    return {
        "id": id_,
        "type": "circle",
        **common,
        "paint": {
            "circle-color": colour,
            "circle-radius": radius,
            "circle-stroke-color": outline,
            "circle-stroke-width": 1,
            "circle-opacity": 0.85,
        },
    }


def _legend(layer: Layer, hint: dict[str, Any], lang: str) -> dict[str, Any]:
    legend: dict[str, Any] = {"title": layer.title[lang]}
    if "by" in hint:
        field_title = layer.field_titles.get(hint["by"], {}).get(lang, hint["by"])
        legend["field"] = {"name": hint["by"], "title": field_title}
        labels = hint.get("labels") or {}
        legend["entries"] = [
            {"value": str(value), "colour": colour}
            | ({"label": labels[value][lang]} if value in labels else {})
            for value, colour in hint["colours"].items()
        ]
    else:
        legend["entries"] = [{"colour": hint.get("colour", "#888888")}]
    return legend
