"""Sensitivity levels of taxa: the national level of the rule (``analysis.taxon_sensitivity``,
migration 0009, which documents the rule) and the admin's overrides, national or per province
(``sensitivity_overrides``). What ``vbis-geo taxa sensitivity`` shows and changes.

The level is the size in km of the grid cell a taxon's public locations are generalised to:
0 (exact), 1, 10 or 25. Every value is a bound parameter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.db.history import set_change_context
from vbis_geo.db.lookups import find_taxon
from vbis_geo.db.models.taxa import SENSITIVITY_LEVELS_KM
from vbis_geo.errors import InvalidInput, NotFound


@dataclasses.dataclass(frozen=True)
class Override:
    province_code: str | None  # None: national
    level_km: int
    reason: str
    set_by: str | None  # the username, if the account still exists
    set_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class TaxonSensitivity:
    taxon_id: int
    scientific_name: str
    rank: str
    taxonomic_status: str
    level_km: int  # the national level
    rule: str  # why
    overrides: tuple[Override, ...]


def resolve_taxon(conn: Connection, raw: str) -> int:
    """A taxon's id from its id or its scientific name (any taxonomic status)."""
    return find_taxon(conn, raw)


def resolve_province(conn: Connection, code: str) -> str:
    """The ``admin_units`` code, as stored, of a province code of the 63 or of the 34."""
    found = conn.execute(
        sa.text("SELECT code FROM admin_units WHERE upper(code) = upper(:code) LIMIT 1"),
        {"code": code.strip()},
    ).scalar()
    if found is None:
        raise InvalidInput(
            f"unknown province code {code!r}",
            hint="a code of the 63 provinces (VN-HN, VN-44, ...) or of the 34 units of 2025 "
            "(VN34-AN-GIANG, ...)",
        )
    return str(found)


def _check_level(level_km: int) -> None:
    if level_km not in SENSITIVITY_LEVELS_KM:
        allowed = ", ".join(str(k) for k in SENSITIVITY_LEVELS_KM)
        raise InvalidInput(f"no sensitivity level {level_km} km", hint=f"one of {allowed}")


def get_sensitivity(conn: Connection, taxon: str) -> TaxonSensitivity:
    """A taxon's national level (recomputed first if a change left it stale) and overrides."""
    taxon_id = resolve_taxon(conn, taxon)
    recompute_if_stale(conn)
    row = conn.execute(
        sa.text(
            "SELECT t.id, t.scientific_name, t.rank, t.taxonomic_status, s.level_km, s.rule "
            "FROM taxa t JOIN analysis.taxon_sensitivity s ON s.taxon_id = t.id "
            "WHERE t.id = :id"
        ),
        {"id": taxon_id},
    ).one()
    overrides = conn.execute(
        sa.text(
            "SELECT o.province_code, o.level_km, o.reason, a.username AS set_by, o.set_at "
            "FROM sensitivity_overrides o LEFT JOIN auth.accounts a ON a.id = o.set_by "
            "WHERE o.taxon_id = :id ORDER BY o.province_code NULLS FIRST"
        ),
        {"id": taxon_id},
    ).all()
    return TaxonSensitivity(
        taxon_id=row.id,
        scientific_name=row.scientific_name,
        rank=row.rank,
        taxonomic_status=row.taxonomic_status,
        level_km=row.level_km,
        rule=row.rule,
        overrides=tuple(Override(*o) for o in overrides),
    )


def set_override(
    conn: Connection,
    taxon: str,
    level_km: int,
    reason: str,
    *,
    province: str | None = None,
    set_by: int | None = None,
) -> TaxonSensitivity:
    """Set (or replace) the override of a taxon, national or in ``province``."""
    _check_level(level_km)
    if not reason.strip():
        raise InvalidInput("an override needs its reason (--reason)")
    taxon_id = resolve_taxon(conn, taxon)
    code = resolve_province(conn, province) if province is not None else None
    set_change_context(conn, set_by, reason.strip())  # the history of a replaced override
    conn.execute(
        sa.text(
            "INSERT INTO sensitivity_overrides (taxon_id, province_code, level_km, reason, "
            "set_by) VALUES (:taxon, :province, :level, :reason, :by) "
            "ON CONFLICT (taxon_id, province_code) DO UPDATE SET level_km = excluded.level_km, "
            "reason = excluded.reason, set_by = excluded.set_by, set_at = now()"
        ),
        {
            "taxon": taxon_id,
            "province": code,
            "level": level_km,
            "reason": reason.strip(),
            "by": set_by,
        },
    )
    return get_sensitivity(conn, str(taxon_id))


def clear_override(
    conn: Connection,
    taxon: str,
    reason: str,
    *,
    province: str | None = None,
    cleared_by: int | None = None,
) -> TaxonSensitivity:
    """Remove the override of a taxon, national or in ``province``: the rule applies again.
    The removed override stays in its history, with ``cleared_by`` and ``reason``."""
    if not reason.strip():
        raise InvalidInput("removing an override needs its reason (--reason)")
    taxon_id = resolve_taxon(conn, taxon)
    code = resolve_province(conn, province) if province is not None else None
    set_change_context(conn, cleared_by, reason.strip())
    deleted = conn.execute(
        sa.text(
            "DELETE FROM sensitivity_overrides WHERE taxon_id = :taxon "
            "AND province_code IS NOT DISTINCT FROM :province"
        ),
        {"taxon": taxon_id, "province": code},
    ).rowcount
    if not deleted:
        where = f"in {code}" if code else "national"
        raise NotFound(f"taxon {taxon_id} has no {where} override")
    return get_sensitivity(conn, str(taxon_id))


def recompute_if_stale(conn: Connection) -> bool:
    """Recompute ``analysis.taxon_sensitivity`` on ``conn`` if a change left it stale (in the
    caller's transaction, which sees its own changes); whether it did."""
    stale = conn.execute(
        sa.text("SELECT stale FROM analysis.state WHERE name = 'taxon_sensitivity' FOR UPDATE")
    ).scalar_one()
    if stale:
        conn.execute(sa.text("SELECT analysis.recompute_taxon_sensitivity()"))
    return bool(stale)
