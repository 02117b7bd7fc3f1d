"""What a layer accepts: its fields, their types and allowed values, read from the table itself
(SQLAlchemy model: types, NOT NULL, lengths, CHECK lists) and from the layer's ``ingest:`` rules
(names the fields go by in files, value spellings, the upsert key).

One definition per layer, so that a change to the schema changes what the loader checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from vbis_geo.catalog import Layer, load_layers, load_tables
from vbis_geo.catalog.layers import IngestRules
from vbis_geo.db.base import Base
from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.names import fold_diacritics

#: Inputs the loader resolves into columns rather than copying them (see ``load``).
RESOLVED_INPUTS: dict[str, tuple[str, ...]] = {
    # input -> columns it resolves into
    "longitude": ("geom",),
    "latitude": ("geom",),
    "geodetic_datum": ("geom",),
    "protected_area_code": ("protected_area_id",),
    "scientific_name": ("taxon_id",),
    "year": ("event_date",),
    "month": ("event_date",),
    "day": ("event_date",),
}
#: Columns the database fills (keys, generated columns, lineage and timestamps).
SYSTEM_COLUMNS = frozenset({"id", "dataset_id", "created_at", "updated_at"})
_IN_LIST = re.compile(r"^(\w+) IN \((.*)\)$", re.S)


@dataclass(frozen=True)
class FieldSpec:
    """One input field of a layer.

    ``kind`` is one of text, integer, number, date, boolean, text_list; ``choices`` the allowed
    values of an enumerated field; ``column`` False for inputs resolved by the loader.
    """

    name: str
    kind: str
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    column: bool = True
    #: the bytes of an integer column (2, 4 or 8): its values' range
    int_bytes: int | None = None

    @property
    def int_range(self) -> tuple[int, int] | None:
        """The smallest and largest value an integer column holds."""
        if self.int_bytes is None:
            return None
        bound = 2 ** (8 * self.int_bytes - 1)
        return -bound, bound - 1

    @property
    def expected(self) -> str:
        """The expected form, for the report."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return {
            "text": f"text of at most {self.max_length} characters" if self.max_length else "text",
            "integer": "a whole number"
            + (f" from {self.int_range[0]} to {self.int_range[1]}" if self.int_range else ""),
            "number": "a number (decimal point '.')",
            "date": "a date YYYY-MM-DD (or YYYY-MM, YYYY, or an interval start/end)",
            "boolean": "yes/no (true/false, 1/0, có/không)",
            "text_list": "codes separated by ';' or ','",
        }[self.kind]


@dataclass(frozen=True)
class Target:
    """A layer as the loader sees it."""

    layer: Layer
    table: sa.Table
    fields: dict[str, FieldSpec]
    rules: IngestRules

    @property
    def key(self) -> tuple[str, ...]:
        """The columns of the upsert key (an input such as protected_area_code stands for the
        column it resolves into)."""
        return tuple(
            RESOLVED_INPUTS[k][0] if k in RESOLVED_INPUTS and k not in self.table.c else k
            for k in self.rules.key
        )

    @property
    def geometry_type(self) -> str:
        return self.layer.geometry_type

    @property
    def is_point(self) -> bool:
        return self.layer.geometry_type == "Point"

    @property
    def spatial(self) -> bool:
        return self.layer.geometry_type != "none"

    def lookup(self) -> dict[str, str]:
        """Normalised source column name -> field name: the layer's default mapping, the
        10-character names our Shapefile exports use, and WKT geometry columns.
        """
        names: dict[str, str] = {}
        for name, aliases in self.rules.fields.items():
            for alias in (name, *aliases):
                names.setdefault(normalise_name(alias), name)
        for name, short in shapefile_names(list(self.rules.fields)).items():
            names.setdefault(normalise_name(short), name)
        for alias in WKT_COLUMNS:
            names.setdefault(normalise_name(alias), "wkt")
        return names

    def canonical_value(self, field: str, value: str) -> str | None:
        """The allowed value ``value`` stands for (exact, or a spelling from the rules), or None."""
        spec = self.fields[field]
        if value in spec.choices:
            return value
        folded = normalise_name(value)
        for choice in spec.choices:
            if normalise_name(choice) == folded:
                return choice
        for choice, spellings in self.rules.values.get(field, {}).items():
            if any(normalise_name(s) == folded for s in spellings):
                return choice
        return None


#: Columns holding a geometry as WKT in a table (CSV, XLSX): EPSG:4326 unless --crs says otherwise.
WKT_COLUMNS = ("wkt", "geometry_wkt", "geom_wkt", "the_geom", "geometry")


def shapefile_names(fields: list[str]) -> dict[str, str]:
    """Field name -> a unique name of at most 10 characters (the .dbf limit), deterministic.

    >>> shapefile_names(["occurrence_id", "occurrence_remarks", "code"])
    {'occurrence_id': 'occurrence', 'occurrence_remarks': 'occurrenc1', 'code': 'code'}
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in fields:
        short = name[:10]
        n = 0
        while short.lower() in taken:
            n += 1
            short = f"{name[: 10 - len(str(n))]}{n}"
        taken.add(short.lower())
        out[name] = short
    return out


def normalise_name(text: str) -> str:
    """Fold a column name or value for matching: no case, diacritics, spaces or punctuation.

    >>> normalise_name("Tên KBT")
    'tenkbt'
    >>> normalise_name("decimal_Latitude")
    'decimallatitude'
    """
    return re.sub(r"[^a-z0-9]", "", fold_diacritics(str(text)).lower())


def layers_dir() -> Path:
    from vbis_geo.settings import PROJECT_DIR

    return PROJECT_DIR / "layers"


@cache
def all_targets() -> dict[str, Target]:
    """Every layer that can be loaded, by id."""
    import vbis_geo.db.models  # noqa: F401  (registers the tables)

    targets = {}
    for layer in [*load_layers(layers_dir()), *load_tables(layers_dir() / "tables")]:
        if layer.ingest is None:
            continue
        table = Base.metadata.tables[layer.table]
        targets[layer.id] = Target(layer, table, _field_specs(table, layer.ingest), layer.ingest)
    return targets


def target(layer_id: str) -> Target:
    """The loadable layer ``layer_id``; raises :class:`NotFound` listing the layers there are."""
    targets = all_targets()
    if layer_id not in targets:
        raise NotFound(
            f"no layer {layer_id!r} to load into",
            hint="layers: " + ", ".join(sorted(targets)),
        )
    return targets[layer_id]


def _field_specs(table: sa.Table, rules: IngestRules) -> dict[str, FieldSpec]:
    choices = _check_lists(table)
    specs: dict[str, FieldSpec] = {}
    for name in rules.fields:
        if name in table.c and name not in SYSTEM_COLUMNS:
            column = table.c[name]
            required = (
                not column.nullable and column.server_default is None and name not in rules.defaults
            )
            specs[name] = FieldSpec(
                name=name,
                kind=column_kind(column.type),
                required=required,
                max_length=getattr(column.type, "length", None),
                choices=choices.get(name, ()),
                int_bytes=_int_bytes(column.type),
            )
        elif name in RESOLVED_INPUTS or name not in table.c:
            kind = "number" if name in ("longitude", "latitude") else "text"
            kind = "integer" if name in ("year", "month", "day") else kind
            specs[name] = FieldSpec(name=name, kind=kind, column=False)
        else:
            raise InvalidInput(f"layers/{table.name}.yml: ingest field {name!r} is a system column")
    return specs


def _int_bytes(column_type: sa.types.TypeEngine) -> int | None:  # type: ignore[type-arg]
    if isinstance(column_type, sa.SmallInteger):
        return 2
    if isinstance(column_type, sa.BigInteger):
        return 8
    return 4 if isinstance(column_type, sa.Integer) else None


def column_kind(column_type: sa.types.TypeEngine) -> str:  # type: ignore[type-arg]
    """The value kind (see :class:`FieldSpec`) of a column of this type."""
    if isinstance(column_type, ARRAY):
        return "text_list"
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Float | sa.Numeric):
        return "number"
    return "text"


def _check_lists(table: sa.Table) -> dict[str, tuple[str, ...]]:
    """Allowed values of each column that has an ``enum_check`` CHECK constraint."""
    lists = {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            match = _IN_LIST.match(str(constraint.sqltext).strip())
            if match:
                lists[match.group(1)] = tuple(re.findall(r"'([^']*)'", match.group(2)))
    return lists
