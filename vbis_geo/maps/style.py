"""A composed map as a MapLibre GL style (style specification v8).

Layers of our published collections draw from their vector tiles (the collection's TileJSON
under ``/ogc``). The features a map layer keeps and the colour of each were decided when the map
was composed (vbis_geo/maps/compose.py), and the style says the same thing by the tiles' ``id``
attribute (every tile carries its rows' ids): ``filter`` keeps the composed ids, a categorised
layer matches its field's values, and a graduated one matches ids to the colours of their
classes. So the style, the PNG and the PDF show the same features in the same colours, and
the filter's semantics live in one place (the SQL of vbis_geo/maps/data.py).

Layers that are not a collection's rows draw from GeoJSON the maps API serves
(``/maps/{id}/layers/{layer}.geojson``, for the same reader): density cells, the points of
international titles, and occurrences (whose tiles at low zoom hold counts on a grid, not the
records a taxon filter keeps).

The legend and what the map shows ride in ``metadata`` for the portal. Labels are written on
the PNG, the PDF and in the QGIS style, not here: a MapLibre label needs glyphs (font tiles),
and the server fetches nothing from elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from vbis_geo.maps.compose import ComposedLayer, ComposedMap

#: pixels between the dots of one protected area's titles
TITLE_DOT_SPACING = 11


def maplibre_style(
    composed: ComposedMap, base_url: str, query: dict[str, str], *, inline: bool = False
) -> dict[str, Any]:
    """The style of ``composed``; ``base_url`` the server's root (tiles under ``/ogc``, the maps
    API under ``/maps``); ``query`` the parameters the map was composed with (for the GeoJSON
    sources, so that they compose the same map). ``inline``: GeoJSON sources carry their
    features instead of their address (a map posted to the API has none)."""
    sources: dict[str, Any] = {}
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#dfeef5"}}
    ]
    for item in composed.layers:
        source_id = _source(item, composed, base_url, query, sources, inline)
        layers.extend(_layers(item, source_id))
    definition = composed.definition
    return {
        "version": 8,
        "name": composed.title,
        "metadata": {
            "vbis-geo:map": definition.id,
            "vbis-geo:title": composed.title,
            "vbis-geo:subtitle": composed.subtitle,
            "vbis-geo:attribution": composed.attribution,
            "vbis-geo:legend": [
                {
                    "layer": item.map_layer.id,
                    "title": item.map_layer.title[composed.lang],
                    "entries": [entry.__dict__ for entry in item.legend],
                }
                for item in composed.layers
            ],
        },
        "center": [
            (definition.bbox[0] + definition.bbox[2]) / 2,
            (definition.bbox[1] + definition.bbox[3]) / 2,
        ],
        "zoom": 5,
        "sources": sources,
        "layers": layers,
    }


def _from_tiles(item: ComposedLayer) -> bool:
    return item.map_layer.question is None and item.map_layer.layer.id != "occurrences"


def _source(
    item: ComposedLayer,
    composed: ComposedMap,
    base_url: str,
    query: dict[str, str],
    sources: dict[str, Any],
    inline: bool,
) -> str:
    layer = item.map_layer.layer
    if _from_tiles(item):
        sources.setdefault(
            layer.id,
            {
                "type": "vector",
                "url": f"{base_url}/ogc/collections/{layer.id}/tiles/WebMercatorQuad/metadata"
                "?f=tilejson",
                "attribution": composed.attribution,
            },
        )
        return layer.id
    source_id = f"{item.map_layer.id}-data"
    qs = f"?{urlencode(query)}" if query else ""
    data: Any = (
        {"type": "FeatureCollection", "features": item.features}
        if inline
        else f"{base_url}/maps/{composed.definition.id}/layers/{item.map_layer.id}.geojson{qs}"
    )
    sources[source_id] = {"type": "geojson", "data": data, "attribution": composed.attribution}
    return source_id


def _layers(item: ComposedLayer, source_id: str) -> list[dict[str, Any]]:
    common: dict[str, Any] = {"source": source_id}
    if _from_tiles(item):
        ids = [f["id"] for f in item.features]
        common["source-layer"] = item.map_layer.layer.id
        common["filter"] = ["in", ["get", "id"], ["literal", ids]]
    colour = _colour(item)
    s = item.map_layer.symbology
    prefix = item.map_layer.id
    out: list[dict[str, Any]]
    if item.points and item.map_layer.question == "international_titles":
        # one layer per title, each offset by its rank so an area's titles stand side by side
        out = []
        for rank in range(4):
            out.append(
                {
                    "id": f"{prefix}-{rank}",
                    "type": "circle",
                    **common,
                    "filter": ["==", ["get", "rank"], rank],
                    "paint": {
                        "circle-color": colour,
                        "circle-radius": s.radius + 1,
                        "circle-stroke-color": s.outline,
                        "circle-stroke-width": 1,
                        "circle-translate": [rank * TITLE_DOT_SPACING, 0],
                    },
                }
            )
    elif item.points:
        radius: Any = s.radius
        if item.rule.kind == "proportional" and item.rule.max_value:
            radius = [
                "*",
                item.rule.max_radius,
                [
                    "sqrt",
                    ["/", ["max", ["to-number", ["get", s.field], 0], 0], item.rule.max_value],
                ],
            ]
        out = [
            {
                "id": f"{prefix}-points",
                "type": "circle",
                **common,
                "paint": {
                    "circle-color": colour,
                    "circle-radius": radius,
                    "circle-opacity": s.opacity,
                    "circle-stroke-color": s.outline,
                    "circle-stroke-width": 1,
                },
            }
        ]
    else:
        out = [
            {
                "id": f"{prefix}-fill",
                "type": "fill",
                **common,
                "paint": {"fill-color": colour, "fill-opacity": s.opacity},
            },
            {
                "id": f"{prefix}-outline",
                "type": "line",
                **common,
                "paint": {
                    "line-color": s.outline,
                    "line-width": 0.6,
                    "line-opacity": 0 if s.kind == "density" else 1,
                },
            },
        ]
    return out


def _colour(item: ComposedLayer) -> Any:
    """A colour, or an expression giving each feature the colour the composition chose."""
    rule = item.rule
    if rule.kind in ("single", "proportional"):
        return rule.colour
    if rule.kind == "categorised":
        pairs = [v for value, colour in rule.categories.items() for v in (value, colour)]
        return ["match", ["to-string", ["get", rule.field]], *pairs, rule.other or "rgba(0,0,0,0)"]
    if not rule.bounds:
        return "rgba(0,0,0,0)"
    if not _from_tiles(item):  # GeoJSON of our own: classes as steps on the value
        steps: list[Any] = ["step", ["to-number", ["get", rule.field], 0], rule.colours[0]]
        for bound, colour in zip(rule.bounds[:-1], rule.colours[1:], strict=True):
            steps += [bound + 1e-9, colour]
        return steps
    # tiles of a collection: the value may be a question's (richness), not in the tiles
    pairs = []
    for feature in item.features:
        colour = rule.colour_of(feature["properties"])
        if colour:
            pairs += [feature["id"], colour]
    if not pairs:
        return "rgba(0,0,0,0)"
    return ["match", ["get", "id"], *pairs, "rgba(0,0,0,0)"]
