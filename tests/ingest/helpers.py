"""Shared helpers of the ingest tests."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from vbis_geo.db.history import TABLES as HISTORY_TABLES
from vbis_geo.ingest.load import IngestOptions, ingest_file
from vbis_geo.ingest.report import Report

#: Tables a load may write to: a rejected load must leave every one as it was.
LAYER_TABLES = (
    "protected_areas",
    "pa_designations",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "admin_units",
    "admin_unit_lineage",
    "taxa",
    "taxon_statuses",
    "sensitivity_overrides",
)
WRITTEN = (*LAYER_TABLES, "datasets", *(f"history.{t}" for t in HISTORY_TABLES))


def counts(conn: Connection) -> dict[str, tuple[int, int]]:
    """Row count and a digest of every row of every table a load writes to: a sum of row
    hashes, so that any changed value shows, whatever the order of the rows."""
    out = {}
    for table in WRITTEN:
        out[table] = tuple(
            conn.execute(
                sa.text(f"SELECT count(*), coalesce(sum(hashtext(t::text)), 0) FROM {table} AS t")  # noqa: S608
            ).one()
        )
    return out


def ingest(conn: Connection, layer: str, path: Path, **options: object) -> Report:
    """Load ``path`` into ``layer`` inside the test's transaction."""
    return ingest_file(conn, layer, path, IngestOptions(**options))  # type: ignore[arg-type]


def write_mapping(folder: Path, **sections: dict[str, str]) -> Path:
    path = folder / "mapping.yml"
    path.write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    return path
