"""Read and validate thematic map definitions: ``layers/maps/*.yml``, or one posted to the API.

A map is a title, an optional list of parameters, and an ordered list of map layers (the first
drawn first). Each map layer draws a published layer (``layers/*.yml``), optionally filtered by
a CQL2 text filter on its fields, with one symbology:

``single``
    every feature alike: ``colour``, ``outline``, ``opacity`` (points: ``radius``).
``categorised``
    one colour per value of ``field``, in the order of ``categories`` (value -> titles vi/en),
    from the qualitative ``palette`` (vbis_geo/maps/colours.py) unless a category names its own
    ``colour``; values not listed are drawn in ``other_colour`` if given, else not drawn.
``graduated``
    ``classes`` classes of the number ``field`` by ``method`` (equal_interval, quantiles,
    natural_breaks; vbis_geo/maps/classify.py), coloured along the sequential ``ramp``.
``proportional``
    points as circles whose area is proportional to ``field`` (e.g. ``individual_count``), up
    to ``max_radius`` pixels.
``density``
    points counted on an equal-area grid of ``cell_km`` km, coloured along ``ramp`` by count.

A map layer's ``field`` is a column of the layer, or a value joined to it by a question:
``values: {question: richness, by: province}`` adds ``species`` and ``records`` per province
(joined by ``code``), ``values: {question: international_titles}`` adds ``titles`` to protected
areas. ``labels: {field: name_vi}`` writes a field beside each feature.

Parameters (``parameters: {taxon: {required: true}}``) are given when a map is composed and fill
``{taxon}`` in filters; the one kind of parameter today is a taxon (its id or scientific name,
standing for the taxon and everything below it, as the questions' taxon filter does).

Every problem is an :class:`InvalidInput` naming the file (or "the map"), the key and what was
expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vbis_geo.analysis.taxa import GROUP_RANKS
from vbis_geo.catalog import Layer
from vbis_geo.errors import InvalidInput
from vbis_geo.maps.classify import METHODS
from vbis_geo.maps.colours import QUALITATIVE, SEQUENTIAL

LANGUAGES = ("vi", "en")
KINDS = ("single", "categorised", "graduated", "proportional", "density")
#: the values questions join to a layer, by question: (the layer they fit, key column, fields)
QUESTIONS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "richness": (("admin_units",), "code", ("species", "records", "threatened_species")),
}
#: features a question makes, drawn as a layer of their own (``question:`` in place of
#: ``layer:``): one point per international title of a protected area, placed around the
#: area's centre so that an area's titles stand side by side (vbis_geo/maps/data.py)
QUESTION_LAYERS = {
    "international_titles": Layer(
        id="international_titles",
        table="pa_designations",
        geometry_type="Point",
        title={"vi": "Danh hiệu quốc tế", "en": "International titles"},
        description={
            "vi": "Danh hiệu quốc tế của các khu bảo tồn",
            "en": "International titles of protected areas",
        },
        keywords={"vi": [], "en": []},
        field_titles={
            "code": {"vi": "Mã khu bảo tồn", "en": "Protected area code"},
            "name_vi": {"vi": "Tên", "en": "Name"},
            "title": {"vi": "Danh hiệu", "en": "Title"},
            "year": {"vi": "Năm công nhận", "en": "Year"},
        },
    ),
}
#: the symbology keys each kind accepts (beyond ``kind``)
KIND_KEYS = {
    "single": {"colour", "outline", "opacity", "radius"},
    "categorised": {"field", "palette", "categories", "other_colour", "outline", "opacity"},
    "graduated": {"field", "method", "classes", "ramp", "reverse", "outline", "opacity"},
    "proportional": {"field", "colour", "outline", "max_radius", "opacity"},
    "density": {"cell_km", "ramp", "reverse", "classes", "method", "opacity"},
}
PARAMETER_KINDS = ("taxon", "date")
#: what ``taxa:`` of a map layer of occurrences may hold: the questions' taxon filter
#: (vbis_geo/analysis/taxa.py) and ``taxon``, one taxon and everything below it
TAXA_KEYS = ("taxon", "status", "threatened", "endemic", "invasive", *GROUP_RANKS)


@dataclass(frozen=True)
class Category:
    value: str
    title: dict[str, str]
    colour: str | None = None


@dataclass(frozen=True)
class Symbology:
    kind: str
    field: str | None = None
    colour: str = "#888888"
    outline: str = "#333333"
    opacity: float = 0.8
    radius: float = 4.0
    palette: str = "okabe_ito"
    categories: tuple[Category, ...] = ()
    other_colour: str | None = None
    method: str = "natural_breaks"
    classes: int = 5
    ramp: str = "ylgnbu"
    reverse: bool = False
    max_radius: float = 24.0
    cell_km: float = 10.0


@dataclass(frozen=True)
class MapLayer:
    id: str
    layer: Layer
    title: dict[str, str]
    symbology: Symbology
    filter: str | None = None
    #: a question whose values are joined to the layer: {"question": ..., **options}
    values: dict[str, Any] | None = None
    #: occurrences only: which taxa (see :data:`TAXA_KEYS`)
    taxa: dict[str, Any] | None = None
    label_field: str | None = None
    #: drawn from a question's features (:data:`QUESTION_LAYERS`), not a published layer
    question: str | None = None

    @property
    def joined_fields(self) -> tuple[str, ...]:
        return QUESTIONS[self.values["question"]][2] if self.values else ()


@dataclass(frozen=True)
class MapDefinition:
    id: str
    title: dict[str, str]
    description: dict[str, str]
    layers: tuple[MapLayer, ...]
    #: name -> {"kind": "taxon", "required": bool}
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: lon/lat bounds the map shows: by default Vietnam with the Hoàng Sa (Paracel) and Trường Sa
    #: (Spratly) islands, as official maps of Vietnam show them
    bbox: tuple[float, float, float, float] = (102.0, 6.8, 117.2, 23.6)
    source: Path | None = None


def load_maps(maps_dir: Path, layers: list[Layer] | tuple[Layer, ...]) -> list[MapDefinition]:
    """The maps of ``maps_dir`` (``layers/maps``), sorted by id, checked against ``layers``."""
    maps = [load_map(path, layers) for path in sorted(maps_dir.glob("*.yml"))]
    seen: set[str] = set()
    for m in maps:
        if m.id in seen:
            raise InvalidInput(f"{m.source}: map id {m.id!r} is defined twice")
        seen.add(m.id)
    return maps


def load_map(path: Path, layers: list[Layer] | tuple[Layer, ...]) -> MapDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from None
    definition = parse_map(raw, layers, where=str(path))
    if definition.id != path.stem:
        raise InvalidInput(f"{path}: id {definition.id!r} differs from the file name")
    return MapDefinition(**{**definition.__dict__, "source": path})


def parse_map(
    raw: object, layers: list[Layer] | tuple[Layer, ...], where: str = "the map"
) -> MapDefinition:
    """A map definition from its parsed YAML or JSON (``where`` names it in errors)."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: expected a mapping with id, title and layers")
    by_id = {layer.id: layer for layer in layers}
    unknown = set(raw) - {"id", "title", "description", "layers", "parameters", "bbox"}
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}")
    map_id = _text(raw, "id", where)
    if not map_id.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput(f"{where}: id {map_id!r}: letters, digits, '-' and '_' only")
    parameters = _parameters(raw.get("parameters"), where)
    entries = raw.get("layers")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(f"{where}: 'layers' must be a non-empty list")
    map_layers = [
        _map_layer(entry, by_id, parameters, f"{where}: layers[{i}]")
        for i, entry in enumerate(entries)
    ]
    ids = [m.id for m in map_layers]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{where}: map layer ids repeat: {ids}")
    return MapDefinition(
        id=map_id,
        title=_bilingual(raw.get("title"), f"{where}: title"),
        description=_bilingual(
            raw.get("description") or {"vi": "", "en": ""}, f"{where}: description"
        ),
        layers=tuple(map_layers),
        parameters=parameters,
        bbox=_bbox(raw["bbox"], where) if "bbox" in raw else MapDefinition.bbox,
    )


def _map_layer(
    raw: object, layers: dict[str, Layer], parameters: dict[str, Any], where: str
) -> MapLayer:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: expected a mapping with id, layer and symbology")
    unknown = set(raw) - {
        "id", "layer", "question", "title", "filter", "values", "taxa", "symbology", "labels",
    }  # fmt: skip
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}")
    if ("layer" in raw) == ("question" in raw):
        raise InvalidInput(f"{where}: expected either 'layer' (a published layer) or 'question'")
    if "question" in raw:
        if raw["question"] not in QUESTION_LAYERS:
            raise InvalidInput(
                f"{where}: unknown question {raw['question']!r}",
                hint=f"one of {', '.join(QUESTION_LAYERS)}",
            )
        layer = QUESTION_LAYERS[raw["question"]]
        layer_id = layer.id
    else:
        layer_id = _text(raw, "layer", where)
        if layer_id not in layers:
            raise InvalidInput(
                f"{where}: unknown layer {layer_id!r}", hint=f"one of {', '.join(sorted(layers))}"
            )
        layer = layers[layer_id]
    values = raw.get("values")
    joined: tuple[str, ...] = ()
    if values is not None:
        if not isinstance(values, dict) or values.get("question") not in QUESTIONS:
            raise InvalidInput(
                f"{where}: values: expected {{question: one of {', '.join(QUESTIONS)}}}"
            )
        fits, _, joined = QUESTIONS[values["question"]]
        if layer_id not in fits:
            raise InvalidInput(
                f"{where}: the question {values['question']!r} gives values of "
                f"{', '.join(fits)}, not of {layer_id!r}"
            )
    fields = set(layer.field_titles) | set(joined) | {layer.id_field}
    symbology = _symbology(raw.get("symbology"), layer, fields, f"{where}: symbology")
    filter_text = raw.get("filter")
    if filter_text is not None:
        filter_text = str(filter_text)
        _check_filter(filter_text, layer, parameters, f"{where}: filter")
    taxa = raw.get("taxa")
    if taxa is not None:
        if layer_id != "occurrences":
            raise InvalidInput(f"{where}: taxa: only a layer of occurrences is filtered by taxa")
        if not isinstance(taxa, dict) or not taxa or set(taxa) - set(TAXA_KEYS):
            raise InvalidInput(f"{where}: taxa: expected a mapping of {', '.join(TAXA_KEYS)}")
        for value in taxa.values():
            _check_references(str(value), parameters, f"{where}: taxa")
    label = None
    if raw.get("labels") is not None:
        labels = raw["labels"]
        if not isinstance(labels, dict) or labels.get("field") not in fields:
            raise InvalidInput(f"{where}: labels: expected {{field: one of the layer's fields}}")
        label = str(labels["field"])
    return MapLayer(
        id=_text(raw, "id", where),
        layer=layer,
        title=_bilingual(raw.get("title") or layer.title, f"{where}: title"),
        symbology=symbology,
        filter=filter_text,
        values=dict(values) if values else None,
        taxa=dict(taxa) if taxa else None,
        question=str(raw["question"]) if "question" in raw else None,
        label_field=label,
    )


def _symbology(raw: object, layer: Layer, fields: set[str], where: str) -> Symbology:
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise InvalidInput(f"{where}: expected a mapping with kind one of {', '.join(KINDS)}")
    kind = raw["kind"]
    unknown = set(raw) - KIND_KEYS[kind] - {"kind"}
    if unknown:
        raise InvalidInput(
            f"{where}: {sorted(unknown)} do not apply to {kind} symbols",
            hint=f"{kind} takes {', '.join(sorted(KIND_KEYS[kind]))}",
        )
    points = layer.geometry_type in ("Point", "MultiPoint")
    if kind in ("density", "proportional") and not points:
        raise InvalidInput(f"{where}: {kind} symbols are for point layers; {layer.id} has polygons")
    if "field" in KIND_KEYS[kind] and kind != "density":
        if raw.get("field") not in fields:
            raise InvalidInput(
                f"{where}: field {raw.get('field')!r} is not a field of {layer.id}",
                hint=f"one of {', '.join(sorted(fields))}",
            )
    options: dict[str, Any] = {"kind": kind}
    for key in ("field", "colour", "outline", "other_colour"):
        if key in raw:
            options[key] = str(raw[key])
    for key in ("opacity", "radius", "max_radius", "cell_km"):
        if key in raw:
            options[key] = _number(raw[key], f"{where}: {key}", positive=True)
    if "opacity" in options and options["opacity"] > 1:
        raise InvalidInput(f"{where}: opacity {options['opacity']}: expected 0 to 1")
    if "cell_km" in options and not 1 <= options["cell_km"] <= 200:
        raise InvalidInput(f"{where}: cell_km {options['cell_km']}: expected 1 to 200")
    if "reverse" in raw:
        options["reverse"] = bool(raw["reverse"])
    if "classes" in raw:
        classes = raw["classes"]
        if not isinstance(classes, int) or not 2 <= classes <= 9:
            raise InvalidInput(f"{where}: classes {classes!r}: expected a whole number 2 to 9")
        options["classes"] = classes
    if "method" in raw:
        if raw["method"] not in METHODS:
            raise InvalidInput(f"{where}: method {raw['method']!r}: one of {', '.join(METHODS)}")
        options["method"] = raw["method"]
    if "ramp" in raw:
        if raw["ramp"] not in SEQUENTIAL:
            raise InvalidInput(f"{where}: ramp {raw['ramp']!r}: one of {', '.join(SEQUENTIAL)}")
        options["ramp"] = raw["ramp"]
    if kind == "categorised":
        palette = raw.get("palette", "okabe_ito")
        if palette not in QUALITATIVE:
            raise InvalidInput(f"{where}: palette {palette!r}: one of {', '.join(QUALITATIVE)}")
        options["palette"] = palette
        categories = raw.get("categories")
        if not isinstance(categories, dict) or not categories:
            raise InvalidInput(
                f"{where}: categories: expected value -> {{vi: title, en: title}} in order"
            )
        options["categories"] = tuple(
            Category(
                value=str(value),
                title=_bilingual(
                    {k: v for k, v in spec.items() if k in LANGUAGES}
                    if isinstance(spec, dict)
                    else spec,
                    f"{where}: categories.{value}",
                ),
                colour=str(spec["colour"]) if isinstance(spec, dict) and "colour" in spec else None,
            )
            for value, spec in categories.items()
        )
        uncoloured = sum(1 for c in options["categories"] if c.colour is None)
        if uncoloured > len(QUALITATIVE[palette]):
            raise InvalidInput(
                f"{where}: {uncoloured} categories without a colour; palette {palette!r} has "
                f"{len(QUALITATIVE[palette])}"
            )
    return Symbology(**options)


def _check_filter(text: str, layer: Layer, parameters: dict[str, Any], where: str) -> None:
    """The filter parses as CQL2 text (parameters filled with a stand-in value) and names only
    fields of the layer."""
    from vbis_geo.publish.cql import attributes, is_condition, parse_filter_text

    _check_references(text, parameters, where)
    probe = text
    for name, spec in parameters.items():
        probe = probe.replace("{" + name + "}", "2000-01-01" if spec["kind"] == "date" else "0")
    try:
        node = parse_filter_text(probe)
    except Exception as exc:  # noqa: BLE001 (lark's many parse errors)
        raise InvalidInput(f"{where}: {text!r} is not CQL2 text: {exc}") from None
    if not is_condition(node):
        raise InvalidInput(f"{where}: {text!r} is not a condition")
    unknown = attributes(node) - set(layer.field_titles) - {layer.id_field}
    if unknown:
        raise InvalidInput(
            f"{where}: {text!r} names {sorted(unknown)}, not fields of {layer.id}",
            hint=f"fields: {', '.join(sorted(layer.field_titles))}",
        )


def _check_references(text: str, parameters: dict[str, Any], where: str) -> None:
    """Every ``{name}`` in ``text`` is a declared parameter."""
    import re

    for name in re.findall(r"\{([^}]*)\}", text):
        if name not in parameters:
            raise InvalidInput(f"{where}: {text!r} uses {{{name}}}, not a parameter of the map")


def _parameters(raw: object, where: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: parameters: expected name -> {{kind, required}}")
    out = {}
    for name, spec in raw.items():
        spec = spec or {}
        kind = spec.get("kind", "taxon")
        if kind not in PARAMETER_KINDS or not str(name).isidentifier():
            raise InvalidInput(f"{where}: parameters.{name}: kind one of {PARAMETER_KINDS}")
        out[str(name)] = {"kind": kind, "required": bool(spec.get("required", True))}
    return out


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: {key!r} must be a non-empty text")
    return value


def _number(value: object, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}: {value!r} is not a number")
    if positive and value <= 0:
        raise InvalidInput(f"{where}: {value!r}: expected more than 0")
    return float(value)


def _bilingual(value: object, where: str) -> dict[str, str]:
    if isinstance(value, dict) and set(value) == set(LANGUAGES):
        return {lang: str(value[lang]) for lang in LANGUAGES}
    raise InvalidInput(f"{where}: expected exactly the languages {LANGUAGES}")


def _bbox(value: object, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise InvalidInput(f"{where}: bbox: expected [west, south, east, north]")
    west, south, east, north = (_number(v, f"{where}: bbox") for v in value)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput(f"{where}: bbox {value}: expected west < east, south < north, degrees")
    return west, south, east, north
