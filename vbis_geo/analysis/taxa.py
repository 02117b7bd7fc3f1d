"""Which taxa a question keeps, and what it says about each: statuses and taxonomic groups.

Statuses are the lists of ``taxon_statuses`` (vbis_geo/db/models/taxa.py). *Threatened* means
CR, EN or VU on the IUCN Red List or in the Vietnam Red Data Book, the IUCN's definition of the
threatened categories (IUCN Red List Categories and Criteria 3.1, section V) applied to both.
A species' statuses are its own (those of its accepted name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sqlalchemy as sa

from vbis_geo.analysis.inputs import plain_text
from vbis_geo.db.models.taxa import STATUS_CATEGORIES
from vbis_geo.errors import InvalidInput

THREATENED_LISTS = ("iucn_red_list", "vn_red_data_book")
THREATENED_CATEGORIES = ("CR", "EN", "VU")
#: taxonomic groups a question can be narrowed to (columns of analysis.taxon_species)
GROUP_RANKS = ("kingdom", "phylum", "class", "order", "family")


@dataclasses.dataclass(frozen=True)
class TaxonFilter:
    """Conditions on a species: all must hold."""

    #: (list, categories) pairs: on that list, in one of the categories (any when empty)
    statuses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    threatened: bool | None = None
    endemic: bool | None = None
    invasive: bool | None = None
    #: rank -> scientific name, e.g. {"class": "Aves"}
    groups: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, object]) -> TaxonFilter:
        """From query parameters: ``status=iucn_red_list:CR,EN`` (repeatable), ``threatened``,
        ``endemic``, ``invasive`` (true/false), ``kingdom``...``family`` (a scientific name)."""
        getlist = getattr(args, "getlist", None)
        raw_statuses = getlist("status") if getlist else _as_list(args.get("status"))
        statuses = tuple(_status(s) for s in raw_statuses if s)
        groups = tuple(
            (rank, plain_text(rank, str(args[rank]), f"the scientific name of a {rank}"))
            for rank in GROUP_RANKS
            if args.get(rank)
        )
        return cls(
            statuses=statuses,
            threatened=_flag(args, "threatened"),
            endemic=_flag(args, "endemic"),
            invasive=_flag(args, "invasive"),
            groups=groups,
        )

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.statuses:
            out["status"] = [
                f"{lst}:{','.join(cats)}" if cats else lst for lst, cats in self.statuses
            ]
        for name in ("threatened", "endemic", "invasive"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update(dict(self.groups))
        return out

    def where(self, species: str, params: dict[str, object]) -> list[str]:
        """SQL conditions on the species id expression ``species`` (names from a fixed set,
        values bound into ``params``)."""
        conditions = []
        for i, (lst, cats) in enumerate(self.statuses):
            params[f"status_list_{i}"] = lst
            clause = f"st.list = :status_list_{i}"
            if cats:
                params[f"status_cats_{i}"] = list(cats)
                clause += f" AND st.category = ANY(:status_cats_{i})"
            conditions.append(_exists(species, clause))
        if self.threatened is not None:
            params["threatened_lists"] = list(THREATENED_LISTS)
            params["threatened_categories"] = list(THREATENED_CATEGORIES)
            clause = _exists(
                species,
                "st.list = ANY(:threatened_lists) AND st.category = ANY(:threatened_categories)",
            )
            conditions.append(clause if self.threatened else f"NOT {clause}")
        for name, lst in (("endemic", "endemic"), ("invasive", "invasive_alien")):
            flag = getattr(self, name)
            if flag is not None:
                clause = _exists(species, f"st.list = '{lst}'")
                conditions.append(clause if flag else f"NOT {clause}")
        for rank, name in self.groups:
            params[f"group_{rank}"] = name
            conditions.append(
                f"EXISTS (SELECT 1 FROM analysis.taxon_species g WHERE g.taxon_id = {species} "  # noqa: S608 (rank from GROUP_RANKS)
                f'AND lower(g."{rank}") = lower(:group_{rank}))'
            )
        return conditions


def statuses_json(species: str) -> str:
    """A JSON object of the species' statuses: list -> category (true for lists without)."""
    return (
        "(SELECT coalesce(jsonb_object_agg(st.list, CASE WHEN st.category IS NULL "  # noqa: S608 (a column name)
        "THEN 'true'::jsonb ELSE to_jsonb(st.category) END), '{}'::jsonb) "
        f"FROM taxon_statuses st WHERE st.taxon_id = {species})"
    )


def is_threatened(statuses: Mapping[str, object]) -> bool:
    return any(statuses.get(lst) in THREATENED_CATEGORIES for lst in THREATENED_LISTS)


def _exists(species: str, clause: str) -> str:
    return f"EXISTS (SELECT 1 FROM taxon_statuses st WHERE st.taxon_id = {species} AND {clause})"  # noqa: S608


def _status(raw: object) -> tuple[str, tuple[str, ...]]:
    text = str(raw)
    lst, _, cats = text.partition(":")
    if lst not in STATUS_CATEGORIES:
        raise InvalidInput(
            f"status {text!r}: unknown list {lst!r}",
            hint=f"lists: {', '.join(STATUS_CATEGORIES)}; e.g. status=iucn_red_list:CR,EN",
        )
    categories = tuple(c.strip() for c in cats.split(",") if c.strip())
    allowed = STATUS_CATEGORIES[lst]
    wrong = [c for c in categories if allowed is None or c not in allowed]
    if wrong:
        expected = ", ".join(allowed) if allowed else "none (the list has no categories)"
        raise InvalidInput(
            f"status {text!r}: {lst} has no category {wrong[0]!r}; expected {expected}"
        )
    return lst, categories


def _flag(args: Mapping[str, object], name: str) -> bool | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise InvalidInput(f"{name}={value!r}: expected true or false")


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def bind_lists(statement: sa.TextClause, params: dict[str, object]) -> sa.TextClause:
    """Bind the list-valued parameters as arrays of text."""
    arrays = [
        sa.bindparam(name, type_=sa.ARRAY(sa.Text))
        for name, v in params.items()
        if isinstance(v, list)
    ]
    return statement.bindparams(*arrays) if arrays else statement
