"""Read and validate ``layers/*.yml``."""

from __future__ import annotations

from dataclasses import dataclass
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
    source: Path | None = None


def load_layers(layers_dir: Path) -> list[Layer]:
    """Return the layers defined in ``layers_dir``, sorted by id.

    Raises :class:`InvalidInput` naming the file and the key when a definition is malformed.
    """
    layers = [load_layer(path) for path in sorted(layers_dir.glob("*.yml"))]
    seen: dict[str, Path | None] = {}
    for layer in layers:
        if layer.id in seen:
            raise InvalidInput(f"{layer.source}: layer id {layer.id!r} is also in {seen[layer.id]}")
        seen[layer.id] = layer.source
    return layers


def load_layer(path: Path) -> Layer:
    """Read one layer definition file."""
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
    if geometry_type not in GEOMETRY_TYPES:
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
        source=path,
    )


def _bilingual(path: Path, key: str, value: object) -> dict:  # type: ignore[type-arg]
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise InvalidInput(f"{path}: {key!r} must have exactly the languages {LANGUAGES}")
    return value
