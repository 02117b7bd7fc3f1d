"""Compose a map: read each layer's features for the reader, classify them, choose their
colours and build the legend. Every output (MapLibre style, PNG, PDF, QGIS style) draws from
the one :class:`ComposedMap`, so they agree.

>>> s = Symbology(kind="graduated", field="n", classes=3, method="equal_interval")
>>> rule = _graduated(s, [0, 30, 60, 90])
>>> rule.bounds, rule.colours
([30.0, 60.0, 90.0], ['#EDF8B1', '#1D91C0', '#081D58'])
>>> rule.colour_of({"n": 45})
'#1D91C0'
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.auth.principal import Principal
from vbis_geo.errors import InvalidInput
from vbis_geo.maps.classify import class_of, classify
from vbis_geo.maps.colours import qualitative, sequential
from vbis_geo.maps.data import layer_features
from vbis_geo.maps.definitions import MapDefinition, MapLayer, Symbology

#: the legend's words, by language
WORDS = {
    "vi": {"other": "Khác", "records": "bản ghi", "to": "đến", "none": "Không có"},
    "en": {"other": "Other", "records": "records", "to": "to", "none": "None"},
}


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    #: fill (a polygon), circle (a point), with its radius in pixels
    shape: str = "fill"
    radius: float = 5.0


@dataclass(frozen=True)
class Rule:
    """How a layer's features take their colour (and, for proportional symbols, their size)."""

    kind: str
    field: str | None = None
    colour: str = "#888888"
    #: categorised: value -> colour, in legend order; ``other`` for values not listed
    categories: dict[str, str] = default(default_factory=dict)
    other: str | None = None
    #: graduated and density: the classes' upper bounds and their colours
    bounds: list[float] = default(default_factory=list)
    colours: list[str] = default(default_factory=list)
    #: proportional: the largest value, drawn at ``max_radius`` pixels
    max_value: float = 0.0
    max_radius: float = 24.0

    def colour_of(self, properties: dict[str, Any]) -> str | None:
        """The colour of a feature (None: not drawn)."""
        if self.kind in ("single", "proportional"):
            return self.colour
        value = properties.get(self.field or "")
        if self.kind == "categorised":
            return self.categories.get(str(value), self.other)
        if value is None or not self.bounds:
            return None
        return self.colours[class_of(float(value), self.bounds)]

    def radius_of(self, properties: dict[str, Any], default: float) -> float:
        """Proportional symbols: the radius giving an area proportional to the value."""
        if self.kind != "proportional" or not self.max_value:
            return default
        value = max(float(properties.get(self.field or "") or 0), 0.0)
        return self.max_radius * math.sqrt(value / self.max_value)


@dataclass(frozen=True)
class ComposedLayer:
    map_layer: MapLayer
    features: list[dict[str, Any]]
    rule: Rule
    legend: list[LegendEntry]

    @property
    def points(self) -> bool:
        return self.map_layer.layer.geometry_type in ("Point", "MultiPoint") and (
            self.map_layer.symbology.kind != "density"
        )


@dataclass(frozen=True)
class ComposedMap:
    definition: MapDefinition
    lang: str
    title: str
    subtitle: str
    layers: list[ComposedLayer]
    #: what the map shows, for the footer: the data's date and whether locations are generalised
    as_of: dt.date
    generalised: bool
    params: dict[str, Any]

    @property
    def attribution(self) -> str:
        source = (
            "CSDL đa dạng sinh học quốc gia (vbis-geo)"
            if self.lang == "vi"
            else "National Biodiversity Database of Vietnam (vbis-geo)"
        )
        if self.generalised:
            source += (
                "; vị trí loài nhạy cảm được khái quát hóa"
                if self.lang == "vi"
                else "; locations of sensitive species generalised"
            )
        return source


def compose(
    conn: Connection,
    definition: MapDefinition,
    params: dict[str, Any],
    principal: Principal | None,
    *,
    lang: str = "vi",
    tolerance_deg: float = 0.0,
    bbox: tuple[float, float, float, float] | None = None,
) -> ComposedMap:
    """The map ``definition`` with ``params`` (resolved, vbis_geo/maps/data.py) as
    ``principal`` may see it, its text in ``lang``."""
    from vbis_geo.analysis.access import Audience, audience

    if lang not in WORDS:
        raise InvalidInput(f"lang={lang!r}: expected vi or en")
    layers = []
    for map_layer in definition.layers:
        features = layer_features(
            conn, map_layer, params, principal, tolerance_deg=tolerance_deg, bbox=bbox
        )
        rule, legend = _rule(map_layer, features, lang)
        layers.append(ComposedLayer(map_layer, features, rule, legend))
    return ComposedMap(
        definition=definition,
        lang=lang,
        title=definition.title[lang],
        subtitle=_subtitle(conn, definition, params, lang),
        layers=layers,
        as_of=next((v for v in params.values() if isinstance(v, dt.date)), dt.date.today()),
        generalised=audience(principal) is Audience.PUBLIC
        and any(m.layer.id == "occurrences" for m in definition.layers),
        params=params,
    )


def _subtitle(
    conn: Connection, definition: MapDefinition, params: dict[str, Any], lang: str
) -> str:
    parts = []
    for name, spec in definition.parameters.items():
        value = params.get(name)
        if value is None:
            continue
        if spec["kind"] == "taxon":
            parts.append(
                str(
                    conn.execute(
                        sa.text("SELECT scientific_name FROM taxa WHERE id = :id"), {"id": value}
                    ).scalar_one()
                )
            )
        elif spec["kind"] == "date":
            parts.append(("ngày " if lang == "vi" else "as of ") + value.strftime("%d/%m/%Y"))
    return ", ".join(parts)


def _rule(
    map_layer: MapLayer, features: list[dict[str, Any]], lang: str
) -> tuple[Rule, list[LegendEntry]]:
    s = map_layer.symbology
    shape = "circle" if map_layer.layer.geometry_type in ("Point", "MultiPoint") else "fill"
    if s.kind == "density":
        shape = "fill"
    words = WORDS[lang]
    if s.kind == "single":
        rule = Rule(kind="single", colour=s.colour)
        return rule, [LegendEntry(map_layer.title[lang], s.colour, shape, s.radius)]
    if s.kind == "categorised":
        colours = iter(qualitative(s.palette, sum(1 for c in s.categories if c.colour is None)))
        categories = {c.value: c.colour or next(colours) for c in s.categories}
        rule = Rule(kind="categorised", field=s.field, categories=categories, other=s.other_colour)
        legend = [
            LegendEntry(c.title[lang], categories[c.value], shape, s.radius) for c in s.categories
        ]
        if s.other_colour:
            legend.append(LegendEntry(words["other"], s.other_colour, shape, s.radius))
        return rule, legend
    if s.kind == "proportional":
        values = [float(f["properties"].get(s.field) or 0) for f in features]
        top = max(values, default=0.0)
        rule = Rule(kind="proportional", field=s.field, colour=s.colour, max_value=top,
                    max_radius=s.max_radius)  # fmt: skip
        legend = [
            LegendEntry(_number(v), s.colour, "circle", rule.radius_of({s.field: v}, s.radius))
            for v in (top / 4, top)
            if top
        ]
        return rule, legend
    # graduated, density: classes of a number
    key = "count" if s.kind == "density" else s.field
    values = [f["properties"].get(key) for f in features]
    numbers = [float(v) for v in values if v is not None]
    if not numbers:
        rule = Rule(kind=s.kind, field=key)
        return rule, [LegendEntry(words["none"], "#ffffff", shape)]
    rule = _graduated(s, numbers, field_name=key)
    legend = []
    low = min(numbers)
    for bound, colour in zip(rule.bounds, rule.colours, strict=True):
        label = _number(low) if low == bound else f"{_number(low)} – {_number(bound)}"
        legend.append(LegendEntry(label, colour, shape))
        low = bound
    return rule, legend


def _graduated(s: Symbology, numbers: list[float], field_name: str | None = None) -> Rule:
    bounds = classify(numbers, s.method, s.classes)
    colours = sequential(s.ramp, len(bounds), reverse=s.reverse)
    return Rule(kind=s.kind, field=field_name or s.field, bounds=bounds, colours=colours)


def _number(value: float) -> str:
    """A number for a legend: whole numbers without decimals, with thin grouping."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.1f}".replace(",", " ")
