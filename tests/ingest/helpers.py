"""Shared helpers of the ingest tests."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from vbis_geo.ingest.load import IngestOptions, ingest_file
from vbis_geo.ingest.report import Report

#: Tables a load may write to: a rejected load must leave every one as it was.
WRITTEN = (
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "admin_units",
    "taxa",
    "datasets",
)


def counts(conn: Connection) -> dict[str, tuple[int, object]]:
    """Row count and the latest change of every table a load writes to."""
    out = {}
    for table in WRITTEN:
        stamp = "max(loaded_at)" if table == "datasets" else "max(updated_at)"
        out[table] = tuple(
            conn.execute(sa.text(f"SELECT count(*), {stamp} FROM {table}")).one()  # noqa: S608
        )
    return out


def ingest(conn: Connection, layer: str, path: Path, **options: object) -> Report:
    """Load ``path`` into ``layer`` inside the test's transaction."""
    return ingest_file(conn, layer, path, IngestOptions(**options))  # type: ignore[arg-type]


def write_mapping(folder: Path, **sections: dict[str, str]) -> Path:
    path = folder / "mapping.yml"
    path.write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    return path
