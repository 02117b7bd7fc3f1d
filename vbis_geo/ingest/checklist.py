"""Checklists into the taxonomy backbone (``taxa`` and ``taxon_statuses``).

One taxon per row: its name and rank (the key), authorship, vernacular names, its place in the
tree (``parentNameUsage``, or the kingdom ... genus columns, whose missing taxa are added), its
nomenclatural status (a synonym names its accepted taxon, which must be in the file or the
backbone), and its statuses, one column per list (a category such as ``EN``, or yes/no for the
lists without categories). A status cell left empty leaves the taxon's status on that list as
it was: a checklist updates the lists it carries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.db.models.taxa import RANKS, STATUS_CATEGORIES
from vbis_geo.ingest.report import Report
from vbis_geo.ingest.targets import Target
from vbis_geo.ingest.taxa import CLASSIFICATION, _ensure, canonical_name
from vbis_geo.ingest.values import reject_cells

_TRUE = {"x", "yes", "y", "true", "1", "có", "co"}
_FALSE = {"no", "n", "false", "0", "không", "khong"}


def status_values(
    raw: dict[str, pd.Series], rows: np.ndarray, report: Report
) -> dict[str, pd.Series]:
    """Each status list's column, checked: the category (or "" for a yes), None where empty or
    no; bad cells are rejected in ``report``."""
    out = {}
    for name, categories in STATUS_CATEGORIES.items():
        if name not in raw:
            continue
        text = raw[name].astype(object).where(raw[name].notna(), None)
        if categories:
            values = text.map(lambda v: v.strip().upper() if isinstance(v, str) else None)
            bad = values.notna().to_numpy() & ~values.isin(categories).to_numpy()
            expected = "one of " + ", ".join(categories)
        else:
            folded = text.map(lambda v: v.strip().lower() if isinstance(v, str) else None)
            bad = folded.notna().to_numpy() & ~folded.isin(_TRUE | _FALSE).to_numpy()
            values = folded.map(lambda v: "" if v in _TRUE else None)
            expected = "yes or no (x, có/không, 1/0)"
        reject_cells(report, rows, bad, name, text, f"not a value of the {name} list", expected)
        out[name] = values.where(~bad, None)
    return out


def check_synonyms(
    columns: dict[str, pd.Series], raw: dict[str, pd.Series], rows: np.ndarray, report: Report
) -> None:
    """A synonym must name its accepted taxon."""
    status = columns.get("taxonomic_status")
    if status is None:
        return
    accepted = raw.get("accepted_name")
    missing = (status == "synonym").to_numpy() & (
        accepted.isna().to_numpy() if accepted is not None else np.ones(len(rows), dtype=bool)
    )
    reject_cells(
        report,
        rows,
        missing,
        "accepted_name",
        status,
        "a synonym without its accepted name",
        "acceptedNameUsage",
    )


def write_checklist(
    conn: Connection,
    tgt: Target,
    raw: dict[str, pd.Series],
    columns: dict[str, pd.Series],
    statuses: dict[str, pd.Series],
    rows: np.ndarray,
    keep: np.ndarray,
    dataset_id: int,
    report: Report,
    write_rows,  # type: ignore[no-untyped-def]  (load.write_rows, passed to avoid a cycle)
    options: object,
) -> None:
    """Upsert the kept rows, parents before children and accepted names before synonyms."""
    n = len(rows)
    names = columns["scientific_name"].map(canonical_name, na_action="ignore")
    columns = {**columns, "scientific_name": names}
    rank_order = {rank: i for i, rank in enumerate(RANKS)}
    ranks = columns["rank"]
    classification_parent = _classification_parents(conn, raw, ranks, rank_order, dataset_id)
    status = columns.get("taxonomic_status", pd.Series([None] * n, dtype=object))
    status = status.where(status.notna(), "accepted").astype(object)
    columns["taxonomic_status"] = status
    synonym = (status == "synonym").to_numpy()
    parent_ids = pd.Series([None] * n, dtype=object)
    accepted_ids = pd.Series([None] * n, dtype=object)
    for rank in RANKS:
        group = keep & (ranks == rank).to_numpy()
        for is_synonym in (False, True):
            part = group & (synonym == is_synonym)
            if not part.any():
                continue
            for i in np.flatnonzero(part):
                parent_ids.iloc[i] = _parent_of(
                    conn, raw, i, rank, rank_order, classification_parent[i], report, rows
                )
                if is_synonym:
                    accepted_ids.iloc[i] = _accepted_of(conn, raw["accepted_name"].iloc[i])
            unresolved = part & synonym & accepted_ids.isna().to_numpy()
            if unresolved.any():
                reject_cells(
                    report,
                    rows,
                    unresolved,
                    "accepted_name",
                    raw["accepted_name"],
                    "the accepted name is neither in the file nor in the backbone",
                    "an accepted taxon listed above, or already in the backbone",
                )
                part &= ~unresolved
                keep &= ~unresolved
            write = {**columns, "parent_id": parent_ids, "accepted_id": accepted_ids}
            write_rows(conn, tgt, write, part, dataset_id, report, options, rows=rows)
    _write_statuses(conn, names, ranks, statuses, keep, report)


def _classification_parents(
    conn: Connection,
    raw: dict[str, pd.Series],
    ranks: pd.Series,
    rank_order: dict[str, int],
    dataset_id: int,
) -> list[int | None]:
    """For each row, the id of the lowest classification taxon above its rank (added if
    missing), or None."""
    levels = [level for level in CLASSIFICATION if level in raw]
    cache: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    out: list[int | None] = []
    for i in range(len(ranks)):
        chain = tuple(
            (raw[level].iloc[i] or "") if pd.notna(raw[level].iloc[i]) else "" for level in levels
        )
        if chain not in cache:
            ids: list[tuple[str, int]] = []
            parent = None
            for level, value in zip(levels, chain, strict=True):
                if value:
                    parent = _ensure(conn, canonical_name(value), level, parent, None, dataset_id)
                    ids.append((level, parent))
            cache[chain] = ids
        rank = ranks.iloc[i]
        above = [
            tid
            for level, tid in cache[chain]
            if rank in rank_order and rank_order[level] < rank_order[rank]
        ]
        out.append(above[-1] if above else None)
    return out


def _parent_of(
    conn: Connection,
    raw: dict[str, pd.Series],
    i: int,
    rank: str,
    rank_order: dict[str, int],
    fallback: int | None,
    report: Report,
    rows: np.ndarray,
) -> int | None:
    name = raw["parent_name"].iloc[i] if "parent_name" in raw else None
    if name is None or pd.isna(name):
        return fallback
    candidates = conn.execute(
        sa.text(
            "SELECT id, rank FROM taxa WHERE scientific_name = :n AND taxonomic_status <> 'synonym'"
        ),
        {"n": canonical_name(name)},
    ).all()
    higher = [c.id for c in candidates if rank_order.get(c.rank, 99) < rank_order[rank]]
    return higher[0] if higher else fallback


def _accepted_of(conn: Connection, name: object) -> int | None:
    if name is None or pd.isna(name):
        return None
    return conn.execute(
        sa.text(
            "SELECT id FROM taxa WHERE scientific_name = :n AND taxonomic_status <> 'synonym' "
            "ORDER BY id LIMIT 1"
        ),
        {"n": canonical_name(str(name))},
    ).scalar()


def _write_statuses(
    conn: Connection,
    names: pd.Series,
    ranks: pd.Series,
    statuses: dict[str, pd.Series],
    keep: np.ndarray,
    report: Report,
) -> None:
    if not statuses:
        return
    ids = {
        (r.scientific_name, r.rank): r.id
        for r in conn.execute(
            sa.text("SELECT id, scientific_name, rank FROM taxa WHERE scientific_name = ANY(:n)"),
            {"n": list(names[keep].dropna().unique())},
        )
    }
    params = []
    for name, values in statuses.items():
        for i in np.flatnonzero(keep & values.notna().to_numpy()):
            taxon = ids.get((names.iloc[i], ranks.iloc[i]))
            if taxon is not None:
                params.append(
                    {
                        "taxon_id": taxon,
                        "list": name,
                        "category": values.iloc[i] or None,
                        "source": report.source,
                    }
                )
    if params:
        conn.execute(
            sa.text(
                "INSERT INTO taxon_statuses (taxon_id, list, category, source) VALUES "
                "(:taxon_id, :list, :category, :source) ON CONFLICT (taxon_id, list) DO UPDATE "
                "SET category = EXCLUDED.category, source = EXCLUDED.source "
                "WHERE taxon_statuses.category IS DISTINCT FROM EXCLUDED.category"
            ),
            params,
        )
