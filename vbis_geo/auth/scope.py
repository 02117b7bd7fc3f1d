"""Whether an account may write a row, and why not: the application's side of scoped writes.

The rules are the database's own (migration 0014: ``auth.may_write_occurrence`` and the
others, of ``auth.account_scope(account)``), called here on the rows about to be written, so
that a row out of scope is reported with its row number and a reason the user can act on
("outside your scope: lies in province VN-HN, you edit VN-44") instead of the policy's refusal.
The database applies the same functions again when :func:`vbis_geo.auth.writer.writer` writes.

* :func:`table_refusal`: whether the role writes the table at all (an expert writes
  occurrences only; the reference tables are the national administrator's);
* :func:`staged_refusals`: every row of a staging table (an upload) in one statement, each
  with the existing row it would replace (same key), so that an edit cannot reach a row out of
  scope either;
* :func:`row_refusal`: one row given by its values, and optionally the existing row it
  replaces (an edit through the OGC API, for instance); :func:`existing_row_refusal`: one
  stored row (a review, a delete).

What each role writes (vbis_geo/auth/SECURITY.md): the national admin everything; a provincial
editor the rows of the area layers, facilities and occurrences whose geometry intersects one
of its provinces; a reserve board its protected areas, their zones, its facilities and the
occurrences inside its protected areas; an expert the occurrences of its taxa (inside its
granted areas if it has any), as drafts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.auth.principal import Principal

#: per editable table: the rule of migration 0014 and the columns it reads
RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "occurrences": ("may_write_occurrence", ("geom", "taxon_id")),
    "protected_areas": ("may_write_protected_area", ("code", "geom")),
    "pa_zones": ("may_write_zone", ("protected_area_id", "geom")),
    "conservation_facilities": ("may_write_facility", ("code", "geom")),
    "wetlands": ("may_write_area", ("geom",)),
    "ecosystems": ("may_write_area", ("geom",)),
    "planning_zones": ("may_write_area", ("geom",)),
    "admin_units": ("may_write_reference", ()),
    "taxa": ("may_write_reference", ()),
    "taxon_statuses": ("may_write_reference", ()),
    "pa_designations": ("may_write_reference", ()),
}
EDITABLE = tuple(RULES)
#: the tables whose rows are reviewed (migration 0011)
REVIEWED = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
)
#: the tables each role writes at all (within its scope)
TABLES_OF_ROLE: dict[str, tuple[str, ...]] = {
    "national_admin": EDITABLE,
    "provincial_editor": REVIEWED,
    "reserve_board": ("occurrences", "protected_areas", "pa_zones", "conservation_facilities"),
    "expert": ("occurrences",),
}
#: the pre-2025 provinces end here (vbis_geo.ingest.load.PROVINCE_SET_VALID_TO)
_PROVINCES_63_END = "2025-06-30"


@dataclass(frozen=True)
class Refusal:
    """A row the account may not write: its number (a staging table's ``_row``, or the id),
    the field at fault, why, and the value."""

    row: int
    field: str
    problem: str
    value: str = ""


def review_status_of(principal: Principal) -> str:
    """How the rows ``principal`` writes start: an expert's as drafts, everyone else's
    published (they review what they write: their scope is where they may review)."""
    return "draft" if principal.role == "expert" else "published"


def table_refusal(principal: Principal, table: str) -> str | None:
    """Why ``principal`` may not write ``table`` at all, or None when it may (within scope)."""
    tables = TABLES_OF_ROLE.get(principal.role, ())
    if table in tables:
        return None
    if table not in RULES:
        return f"{table} is not an editable table"
    if table not in REVIEWED:
        return f"{table} is written by national administrators only"
    return f"a {principal.role} does not write {table} (it writes {', '.join(tables)})"


def staged_refusals(
    conn: Connection,
    principal: Principal,
    table: str,
    staging: str,
    key: tuple[str, ...],
) -> list[Refusal]:
    """The rows of ``staging`` (a table with ``table``'s columns and ``_row``, the row number)
    that ``principal`` may not write, in one statement: those out of scope, and those whose key
    matches an existing row out of scope. ``staging`` and ``key`` are identifiers the caller
    made, not user input."""
    if principal.is_admin:
        return []
    refusal = table_refusal(principal, table)
    if refusal is not None:
        raise ValueError(refusal)  # the caller checks the table first (a 403, not row by row)
    join = " AND ".join(f's."{k}" = t."{k}"' for k in key)
    return _refusals(conn, principal, table, f"{staging} s", f"public.{table} t ON {join}", {})


def row_refusal(
    conn: Connection,
    principal: Principal,
    table: str,
    values: Mapping[str, object],
    *,
    replaces: int | None = None,
) -> str | None:
    """Why ``principal`` may not write a row of ``table`` with ``values`` (those the rule reads:
    ``RULES``; ``geom`` as a shapely geometry or WKT in EPSG:4326), replacing row ``replaces``
    if given; None when it may."""
    refusal = table_refusal(principal, table)
    if refusal is not None:
        return refusal
    if principal.is_admin:
        return None
    from shapely.geometry.base import BaseGeometry

    _, columns = RULES[table]
    params: dict[str, object] = {"replaces": replaces}
    selects = []
    for column in columns:
        value = values.get(column)
        if column == "geom":
            params["geom"] = value.wkt if isinstance(value, BaseGeometry) else value
            selects.append("ST_GeomFromText(CAST(:geom AS text), 4326) AS geom")
        else:
            params[column] = value
            kind = "integer" if column.endswith("_id") else "text"
            selects.append(f'CAST(:{column} AS {kind}) AS "{column}"')
    source = f"(SELECT 0 AS _row, {', '.join(selects)}) s"
    refusals = _refusals(
        conn, principal, table, source, f"public.{table} t ON t.id = :replaces", params
    )
    return refusals[0].problem if refusals else None


def existing_row_refusal(
    conn: Connection, principal: Principal, table: str, row_id: int
) -> str | None:
    """Why ``principal`` may not change or delete row ``row_id`` of ``table`` (None: it may, or
    there is no such row)."""
    refusal = table_refusal(principal, table)
    if refusal is not None:
        return refusal
    if principal.is_admin:
        return None
    source = f"(SELECT r.*, r.id AS _row FROM public.{table} r WHERE r.id = :row_id) s"  # noqa: S608 (a table of RULES)
    refusals = _refusals(conn, principal, table, source, None, {"row_id": row_id})
    return refusals[0].problem if refusals else None


def _refusals(
    conn: Connection,
    principal: Principal,
    table: str,
    source: str,
    existing: str | None,
    params: dict[str, object],
) -> list[Refusal]:
    """The rows of ``source`` (aliased ``s``) refused, and why; ``existing`` joins each to the
    stored row it replaces (aliased ``t``)."""
    function, columns = RULES[table]
    spatial = "geom" in columns

    def rule(alias: str) -> str:
        return f"auth.{function}({', '.join(['x.scope', *(f'{alias}.{c}' for c in columns)])})"

    old = f"CASE WHEN t.id IS NULL THEN NULL ELSE {rule('t')} END" if existing else "NULL::boolean"
    geoms = "s.geom AS new_geom, " + ("t.geom" if existing else "NULL::geometry") + " AS old_geom"
    details = {
        "occurrences": "s.taxon_id = ANY ((x.scope).taxa) AS taxon_ok, "
        "(SELECT scientific_name FROM taxa WHERE id = s.taxon_id) AS taxon_name",
        "pa_zones": "(SELECT code FROM protected_areas WHERE id = s.protected_area_id) AS area",
        "protected_areas": "s.code AS code",
        "conservation_facilities": "s.code AS code",
    }
    detail = details.get(table, "NULL AS detail")
    join = f"LEFT JOIN {existing}" if existing else ""
    rows = conn.execute(
        sa.text(
            f"""
            WITH x AS MATERIALIZED (SELECT auth.account_scope(:account) AS scope),
            checked AS (
                SELECT s._row, {geoms if spatial else "NULL AS new_geom, NULL AS old_geom"},
                       {detail},
                       {rule("s")} AS new_ok, {old} AS old_ok
                FROM {source} CROSS JOIN x {join}
            )
            SELECT c.*, {_where("c.new_geom")} AS new_where, {_where("c.old_geom")} AS old_where,
                   CASE WHEN GeometryType(c.new_geom) = 'POINT'
                        THEN ST_X(c.new_geom) || ' ' || ST_Y(c.new_geom) END AS point
            FROM checked c
            WHERE NOT c.new_ok OR NOT coalesce(c.old_ok, true)
            ORDER BY c._row
            """  # noqa: S608 (identifiers and rules written here; values bound)
        ),
        {**params, "account": principal.account_id, "end": _PROVINCES_63_END},
    ).mappings()
    names = _ScopeNames(conn, principal)
    return [_refusal(principal, table, r, names) for r in rows]


def _where(geom: str) -> str:
    """SQL: the units a geometry lies in, 'VN-21 / VN34-THANH-HOA' (the provinces before the
    2025 reform, then the units in force today), or NULL."""
    units = (
        "(SELECT string_agg(u.code, ', ' ORDER BY u.code) FROM admin_units u "  # noqa: S608 (written here)
        f"WHERE {{}} AND ST_Intersects(u.geom, {geom}))"
    )
    before = units.format("u.valid_to = CAST(:end AS date)")
    today = units.format(
        "u.valid_from <= current_date AND (u.valid_to IS NULL OR u.valid_to >= current_date)"
    )
    return f"concat_ws(' / ', {before}, {today})"


class _ScopeNames:
    """The account's scope as the messages show it (its codes and its taxa's names)."""

    def __init__(self, conn: Connection, principal: Principal) -> None:
        self.conn = conn
        self.scopes = principal.scopes
        self._taxa: str | None = None

    def provinces(self) -> str:
        return ", ".join(sorted(self.scopes.provinces)) or "no province"

    def protected_areas(self) -> str:
        return ", ".join(sorted(self.scopes.protected_areas)) or "none"

    def facilities(self) -> str:
        return ", ".join(sorted(self.scopes.facilities)) or "none"

    def areas(self) -> str:
        return ", ".join(sorted(self.scopes.provinces | self.scopes.protected_areas))

    def taxa(self) -> str:
        if self._taxa is None:
            names = self.conn.execute(
                sa.text(
                    "SELECT scientific_name FROM taxa WHERE id = ANY(:ids) ORDER BY scientific_name"
                ),
                {"ids": sorted(self.scopes.taxa)},
            ).scalars()
            self._taxa = ", ".join(names) or "none"
        return self._taxa


def _refusal(principal: Principal, table: str, r: Mapping[Any, Any], names: _ScopeNames) -> Refusal:
    """The reason row ``r`` of :func:`_refusals` is refused, in the words of its role."""
    role = principal.role
    replaces = bool(r["new_ok"])  # the new row is fine: the row it replaces is not
    where = str((r["old_where"] if replaces else r["new_where"]) or "no province")
    field, value = "geometry", str(r["point"] or "")
    detail = f"lies in {where}"
    if role == "provincial_editor":
        detail = f"lies in province {where}, you edit {names.provinces()}"
    elif role == "reserve_board" and table == "occurrences":
        detail = f"lies in none of your protected areas ({names.protected_areas()})"
    elif role == "reserve_board" and table == "pa_zones":
        field, value = "protected_area_code", str(r["area"])
        detail = f"a zone of {value}, not of your protected areas ({names.protected_areas()})"
    elif role == "reserve_board" and table in ("protected_areas", "conservation_facilities"):
        field, value = "code", str(r["code"])
        yours = "protected areas" if table == "protected_areas" else "facilities"
        codes = names.protected_areas() if table == "protected_areas" else names.facilities()
        detail = f"{value} is not one of your {yours} ({codes})"
    elif role == "expert" and not r["taxon_ok"]:
        field, value = "scientific_name", str(r["taxon_name"])
        detail = f"{value} is not in your taxa ({names.taxa()})"
    elif role == "expert":
        detail = f"lies in {where}, outside your areas ({names.areas()})"
    if replaces:
        problem = f"outside your scope: the existing {table} row it would replace {detail}"
    else:
        problem = f"outside your scope: {detail}"
    return Refusal(int(str(r["_row"])), field, problem, value)
