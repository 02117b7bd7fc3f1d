"""Read and validate ``layers/*.yml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vbis_geo.errors import InvalidInput

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class Layer:
    """One published layer: a PostGIS table and how it is described to clients."""

    id: str
    table: str
    geometry_type: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    id_field: str = "id"
    geometry_field: str = "geom"
    time_field: str | None = None
    ingest: IngestRules | None = None
    #: vector tiles: ``fields`` carried in tiles, ``zoom`` {min, max}, ``grid_until_zoom``
    #: (points counted on a grid up to that zoom), ``max_features`` per tile
    tiles: dict | None = None  # type: ignore[type-arg]
    #: field -> {language: title}: the layer's own titles over the common ones
    #: (``layers/common/field_titles.yml``)
    field_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    #: default order of items: field names, ``-`` in front for descending
    sort: tuple[str, ...] = ()
    #: how maps draw the layer (see ``vbis_geo/publish/styles.py``)
    style: dict | None = None  # type: ignore[type-arg]
    source: Path | None = None


@dataclass(frozen=True)
class IngestRules:
    """How files are read into a layer: the default field mapping (``ingest:`` in the YAML).

    ``key`` are the fields that identify a row in its source (the upsert key); ``fields`` maps a
    field of the layer (a column, or an input the loader resolves such as ``scientific_name``)
    to the column names it is recognised by in a file; ``values`` maps an enumerated field's
    allowed values to the spellings accepted for them; ``defaults`` fills a missing field from
    another one (``name_en: name_vi``).
    """

    key: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, tuple[str, ...]]]
    defaults: dict[str, str]


def load_layers(layers_dir: Path) -> list[Layer]:
    """Return the layers defined in ``layers_dir``, sorted by id.

    Raises :class:`InvalidInput` naming the file and the key when a definition is malformed.
    """
    common = _common_titles(layers_dir / "common" / "field_titles.yml")
    layers = [load_layer(path, common_titles=common) for path in sorted(layers_dir.glob("*.yml"))]
    seen: dict[str, Path | None] = {}
    for layer in layers:
        if layer.id in seen:
            raise InvalidInput(f"{layer.source}: layer id {layer.id!r} is also in {seen[layer.id]}")
        seen[layer.id] = layer.source
    return layers


def load_tables(tables_dir: Path) -> list[Layer]:
    """Non-spatial tables that files load into (``layers/tables/*.yml``: the checklist of
    taxa), defined like layers but with ``geometry_type: none`` and never published as layers.
    """
    return [load_layer(path, spatial=False) for path in sorted(tables_dir.glob("*.yml"))]


def load_layer(
    path: Path, *, spatial: bool = True, common_titles: dict[str, dict[str, str]] | None = None
) -> Layer:
    """Read one layer definition file (``common_titles``: the titles of fields many layers
    share, which the layer's ``fields`` override)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path}: expected a mapping of layer properties")

    def require(key: str) -> object:
        if key not in raw:
            raise InvalidInput(f"{path}: missing key {key!r}")
        return raw[key]

    layer_id = str(require("id"))
    if path.stem != layer_id:
        raise InvalidInput(f"{path}: id {layer_id!r} differs from the file name {path.stem!r}")
    geometry_type = str(require("geometry_type"))
    if not spatial and geometry_type == "none":
        pass
    elif geometry_type not in GEOMETRY_TYPES or not spatial:
        raise InvalidInput(
            f"{path}: geometry_type {geometry_type!r} is not one of {', '.join(GEOMETRY_TYPES)}"
        )
    return Layer(
        id=layer_id,
        table=str(require("table")),
        geometry_type=geometry_type,
        title=_bilingual(path, "title", require("title")),
        description=_bilingual(path, "description", require("description")),
        keywords={
            lang: [str(k) for k in words]
            for lang, words in _bilingual(path, "keywords", require("keywords")).items()
        },
        id_field=str(raw.get("id_field", "id")),
        geometry_field=str(raw.get("geometry_field", "geom")),
        time_field=raw.get("time_field"),
        ingest=_ingest_rules(path, raw["ingest"]) if "ingest" in raw else None,
        tiles=raw.get("tiles"),
        field_titles={
            **(common_titles or {}),
            **{
                str(name): _bilingual(path, f"fields.{name}", titles)
                for name, titles in (raw.get("fields") or {}).items()
            },
        },
        sort=_names(path, "sort", raw.get("sort")),
        style=_style(path, raw.get("style")),
        source=path,
    )


def _common_titles(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path}: expected a mapping of field -> {{vi: title, en: title}}")
    return {str(name): _bilingual(path, str(name), titles) for name, titles in raw.items()}


def _names(path: Path, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{path}: {key!r} must be a field name or a list of them")
    return tuple(value)


#: what a ``style`` section may hold
STYLE_KEYS = {"kind", "colour", "outline", "opacity", "by", "colours", "labels", "radius"}
STYLE_KINDS = ("fill", "circle", "grid")


def _style(path: Path, value: object) -> dict | None:  # type: ignore[type-arg]
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in STYLE_KINDS:
        raise InvalidInput(f"{path}: 'style' must be a mapping with kind one of {STYLE_KINDS}")
    unknown = set(value) - STYLE_KEYS
    if unknown:
        raise InvalidInput(
            f"{path}: style keys {sorted(unknown)} are not among {sorted(STYLE_KEYS)}"
        )
    if "by" in value and not isinstance(value.get("colours"), dict):
        raise InvalidInput(f"{path}: style.by needs style.colours (value -> colour)")
    for key, titles in (value.get("labels") or {}).items():
        if key not in (value.get("colours") or {}):
            raise InvalidInput(f"{path}: style.labels.{key} is not a value of style.colours")
        _bilingual(path, f"style.labels.{key}", titles)
    return value


def _bilingual(path: Path, key: str, value: object) -> dict:  # type: ignore[type-arg]
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise InvalidInput(f"{path}: {key!r} must have exactly the languages {LANGUAGES}")
    return value


def _ingest_rules(path: Path, raw: object) -> IngestRules:
    if not isinstance(raw, dict) or "key" not in raw or "fields" not in raw:
        raise InvalidInput(f"{path}: 'ingest' must be a mapping with 'key' and 'fields'")
    key = raw["key"]
    key = (key,) if isinstance(key, str) else tuple(str(k) for k in key)

    def names(where: str, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise InvalidInput(f"{path}: {where} must be a list of names")
        return tuple(str(v) for v in value)

    fields = {str(f): names(f"ingest.fields.{f}", v) for f, v in raw["fields"].items()}
    values = {
        str(f): {str(v): names(f"ingest.values.{f}.{v}", s) for v, s in spellings.items()}
        for f, spellings in (raw.get("values") or {}).items()
    }
    missing = [k for k in key if k not in fields]
    if missing:
        raise InvalidInput(f"{path}: ingest key {missing} not among ingest.fields")
    return IngestRules(
        key=key,
        fields=fields,
        values=values,
        defaults={str(k): str(v) for k, v in (raw.get("defaults") or {}).items()},
    )
