"""A map layer's style for QGIS: Styled Layer Descriptor 1.1 with Symbology Encoding (OGC
05-078r4 and 05-077r4), which QGIS reads with "Load Style..." (``QgsVectorLayer.loadSldStyle``)
onto the layer opened from our OGC API Features collection, or, for a layer the maps API makes
(density cells, international titles), from its GeoJSON (``/maps/{id}/layers/{layer}.geojson``).

Each colour of the composed map is a rule: a category is a rule on its field, a class of a
graduated map a rule on the value where the layer holds it, else (richness, which a province
does not carry) on the codes of the provinces the composition put in that class. The map
layer's own filter is expressed the same way, by the codes of the features it kept, so QGIS
draws the features the PNG shows in the colours it shows them. Labels are a TextSymbolizer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vbis_geo.errors import NotFound
from vbis_geo.maps.compose import ComposedLayer, ComposedMap

SLD = "http://www.opengis.net/sld"
SE = "http://www.opengis.net/se"
OGC = "http://www.opengis.net/ogc"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
for _prefix, _uri in (("", SLD), ("se", SE), ("ogc", OGC), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)


def pick_layer(composed: ComposedMap, layer_id: str | None) -> ComposedLayer:
    """The map layer ``layer_id``; by default the topmost layer that is not a single symbol
    (the map's subject), else the topmost."""
    if layer_id:
        for item in composed.layers:
            if item.map_layer.id == layer_id:
                return item
        raise NotFound(
            f"the map {composed.definition.id!r} has no layer {layer_id!r}",
            hint=f"its layers: {', '.join(i.map_layer.id for i in composed.layers)}",
        )
    themed = [i for i in composed.layers if i.rule.kind != "single"]
    return (themed or composed.layers)[-1]


def sld(composed: ComposedMap, item: ComposedLayer) -> bytes:
    """The SLD of ``item`` (one map layer of ``composed``), as UTF-8 XML."""
    from_api = bool(item.map_layer.question) or item.map_layer.symbology.kind == "density"
    root = ET.Element(
        f"{{{SLD}}}StyledLayerDescriptor",
        {
            "version": "1.1.0",
            f"{{{XSI}}}schemaLocation": f"{SLD} "
            "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd",
        },
    )
    named = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{SE}}}Name").text = (
        item.map_layer.id if from_api else item.map_layer.layer.id
    )
    style = ET.SubElement(named, f"{{{SLD}}}UserStyle")
    ET.SubElement(style, f"{{{SE}}}Name").text = f"{composed.definition.id}-{item.map_layer.id}"
    description = ET.SubElement(style, f"{{{SE}}}Description")
    ET.SubElement(description, f"{{{SE}}}Title").text = composed.title
    source = (
        f"/maps/{composed.definition.id}/layers/{item.map_layer.id}.geojson"
        if from_api
        else f"/ogc/collections/{item.map_layer.layer.id}"
    )
    ET.SubElement(
        description, f"{{{SE}}}Abstract"
    ).text = (
        f"{item.map_layer.title[composed.lang]}: for the layer {source}. {composed.attribution}."
    )
    fts = ET.SubElement(style, f"{{{SE}}}FeatureTypeStyle")
    kept = _kept_codes(item)
    for title, colour, condition in _rules(item):
        rule = ET.SubElement(fts, f"{{{SE}}}Rule")
        ET.SubElement(rule, f"{{{SE}}}Name").text = title
        rule_description = ET.SubElement(rule, f"{{{SE}}}Description")
        ET.SubElement(rule_description, f"{{{SE}}}Title").text = title
        conditions = [c for c in (condition, kept) if c is not None]
        if conditions:
            filter_ = ET.SubElement(rule, f"{{{OGC}}}Filter")
            filter_.append(conditions[0] if len(conditions) == 1 else _and(conditions))
        _symbolizer(rule, item, colour)
    if item.map_layer.label_field:
        rule = ET.SubElement(fts, f"{{{SE}}}Rule")
        ET.SubElement(rule, f"{{{SE}}}Name").text = "labels"
        if kept is not None:
            ET.SubElement(rule, f"{{{OGC}}}Filter").append(kept)
        text = ET.SubElement(rule, f"{{{SE}}}TextSymbolizer")
        label = ET.SubElement(text, f"{{{SE}}}Label")
        ET.SubElement(label, f"{{{OGC}}}PropertyName").text = item.map_layer.label_field
        font = ET.SubElement(text, f"{{{SE}}}Font")
        _param(font, "font-family", "DejaVu Sans")
        _param(font, "font-size", "9")
        fill = ET.SubElement(text, f"{{{SE}}}Fill")
        _param(fill, "fill", "#212121")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _rules(item: ComposedLayer) -> list[tuple[str, str, ET.Element | None]]:
    """(title, colour, condition) per legend entry."""
    rule = item.rule
    if rule.kind in ("single", "proportional"):
        return [(item.legend[0].label if item.legend else item.map_layer.id, rule.colour, None)]
    if rule.kind == "categorised":
        return [
            (entry.label, colour, _equal(rule.field or "", value))
            for entry, (value, colour) in zip(item.legend, rule.categories.items(), strict=False)
        ]
    out: list[tuple[str, str, ET.Element | None]] = []
    joined = rule.field in item.map_layer.joined_fields
    for index, (entry, colour) in enumerate(zip(item.legend, rule.colours, strict=False)):
        if joined:  # the value is the map's, not the layer's: the class's features by code
            codes = [
                str(f["properties"]["code"])
                for f in item.features
                if item.rule.colour_of(f["properties"]) == colour
            ]
            out.append((entry.label, colour, _any_of("code", codes)))
        else:
            low = rule.bounds[index - 1] if index else None
            high = rule.bounds[index]
            parts = [_compare("PropertyIsLessThanOrEqualTo", rule.field or "", high)]
            if low is not None:
                parts.append(_compare("PropertyIsGreaterThan", rule.field or "", low))
            out.append((entry.label, colour, parts[0] if len(parts) == 1 else _and(parts)))
    return out


def _kept_codes(item: ComposedLayer) -> ET.Element | None:
    """The map layer's filter as the codes of the features it kept (None: no filter, or a
    layer without codes)."""
    if not item.map_layer.filter or not item.features:
        return None
    if "code" not in item.features[0]["properties"]:
        return None
    return _any_of("code", [str(f["properties"]["code"]) for f in item.features])


def _symbolizer(rule: ET.Element, item: ComposedLayer, colour: str) -> None:
    s = item.map_layer.symbology
    if item.points:
        point = ET.SubElement(rule, f"{{{SE}}}PointSymbolizer")
        graphic = ET.SubElement(point, f"{{{SE}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{SE}}}Mark")
        ET.SubElement(mark, f"{{{SE}}}WellKnownName").text = "circle"
        fill = ET.SubElement(mark, f"{{{SE}}}Fill")
        _param(fill, "fill", colour)
        _param(fill, "fill-opacity", f"{s.opacity:g}")
        stroke = ET.SubElement(mark, f"{{{SE}}}Stroke")
        _param(stroke, "stroke", s.outline)
        _param(stroke, "stroke-width", "0.5")
        ET.SubElement(graphic, f"{{{SE}}}Size").text = f"{2 * s.radius:g}"
        return
    polygon = ET.SubElement(rule, f"{{{SE}}}PolygonSymbolizer")
    fill = ET.SubElement(polygon, f"{{{SE}}}Fill")
    _param(fill, "fill", colour)
    _param(fill, "fill-opacity", f"{s.opacity:g}")
    stroke = ET.SubElement(polygon, f"{{{SE}}}Stroke")
    _param(stroke, "stroke", s.outline)
    _param(stroke, "stroke-width", "0.4")


def _param(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, f"{{{SE}}}SvgParameter", {"name": name}).text = value


def _equal(field: str, value: str) -> ET.Element:
    node = ET.Element(f"{{{OGC}}}PropertyIsEqualTo")
    ET.SubElement(node, f"{{{OGC}}}PropertyName").text = field
    ET.SubElement(node, f"{{{OGC}}}Literal").text = value
    return node


def _compare(operator: str, field: str, value: float) -> ET.Element:
    node = ET.Element(f"{{{OGC}}}{operator}")
    ET.SubElement(node, f"{{{OGC}}}PropertyName").text = field
    ET.SubElement(node, f"{{{OGC}}}Literal").text = f"{value:g}"
    return node


def _any_of(field: str, values: list[str]) -> ET.Element:
    if len(values) == 1:
        return _equal(field, values[0])
    node = ET.Element(f"{{{OGC}}}Or")
    if not values:  # nothing kept: a condition no feature meets
        node.append(_equal(field, ""))
        node.append(_equal(field, ""))
    for value in values:
        node.append(_equal(field, value))
    return node


def _and(conditions: list[ET.Element]) -> ET.Element:
    node = ET.Element(f"{{{OGC}}}And")
    node.extend(conditions)
    return node
