"""Load the generated demo dataset into PostGIS: one transaction, idempotent.

The demo's ``datasets`` entries carry the generator's parameters (seed, size, generator version,
digest of the reference files). Loading again with the same parameters changes nothing; with
other parameters (another size), the previous demo rows are replaced in the same transaction.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from vbis_geo.demo.generate import (
    GENERATED_RECORD,
    DemoData,
    DemoParameters,
    generate,
    strip_private,
)
from vbis_geo.errors import InvalidInput

#: one ``datasets`` entry per demo layer: code, title vi, title en
DEMO_DATASETS = {
    "protected_areas": (
        "demo-protected-areas",
        "Khu bảo tồn (dữ liệu mẫu)",
        "Protected areas (demo)",
    ),
    "pa_zones": (
        "demo-pa-zones",
        "Phân khu và vùng đệm (dữ liệu mẫu)",
        "Protected-area zones (demo)",
    ),
    "wetlands": (
        "demo-wetlands",
        "Đất ngập nước quan trọng (dữ liệu mẫu)",
        "Important wetlands (demo)",
    ),
    "ecosystems": (
        "demo-ecosystems",
        "Hệ sinh thái tự nhiên (dữ liệu mẫu)",
        "Natural ecosystems (demo)",
    ),
    "planning_zones": (
        "demo-planning-zones",
        "Quy hoạch bảo tồn ĐDSH (dữ liệu mẫu)",
        "Biodiversity planning zones (demo)",
    ),
    "conservation_facilities": (
        "demo-facilities",
        "Cơ sở bảo tồn (dữ liệu mẫu)",
        "Conservation facilities (demo)",
    ),
    "taxa": ("demo-taxa", "Danh lục loài (dữ liệu mẫu)", "Taxonomy backbone (demo)"),
    "occurrences": (
        "demo-occurrences",
        "Dữ liệu phân bố loài (dữ liệu mẫu)",
        "Species occurrences (demo)",
    ),
}
ABSTRACT_VI = (
    "Dữ liệu mẫu do vbis-geo sinh ra một cách tất định từ các thông tin công khai (tên, loại "
    "hình, tỉnh, vị trí và diện tích gần đúng, tình trạng bảo tồn của loài). Ranh giới và bản ghi "
    "phân bố là minh hoạ, không phải dữ liệu chính thức."
)
ABSTRACT_EN = (
    "Demo data generated deterministically by vbis-geo from public facts (names, categories, "
    "provinces, approximate centres and areas, species statuses). Boundaries and occurrence "
    "records are illustrative, not official data."
)
OCCURRENCE_COLUMNS = (
    "occurrence_id",
    "taxon_id",
    "basis_of_record",
    "event_date",
    "recorded_by",
    "individual_count",
    "coordinate_uncertainty_m",
    "locality",
    "occurrence_remarks",
    "geom",
    "dataset_id",
)
COPY_CHUNK = 500_000


@dataclass(frozen=True)
class DemoLoadResult:
    skipped: bool
    counts: dict[str, int]
    seconds: float

    def summary(self) -> str:
        if self.skipped:
            return "demo data already loaded with these parameters: nothing changed"
        parts = ", ".join(f"{n:,} {table}" for table, n in self.counts.items())
        return f"demo data loaded in {self.seconds:.1f} s: {parts}"


def load_demo(
    conn: Connection, params: DemoParameters, echo: Callable[[str], Any] = print
) -> DemoLoadResult:
    """Generate and load the demo dataset unless it is already there with ``params``.

    Runs inside the caller's transaction (``with engine.begin() as conn``): all or nothing.
    """
    started = time.perf_counter()
    wanted = params.as_dict()
    current = conn.execute(
        sa.text("SELECT parameters FROM datasets WHERE code = :code"),
        {"code": DEMO_DATASETS["occurrences"][0]},
    ).scalar()
    if current == wanted:
        return DemoLoadResult(True, {}, time.perf_counter() - started)
    echo(f"generating the demo dataset ({params.n_occurrences:,} occurrences, seed {params.seed})")
    data = generate(params)
    echo("loading it in one transaction")
    remove_demo(conn)
    dataset_ids = _upsert_datasets(conn, wanted, data)
    counts = write_demo(conn, data, dataset_ids)
    return DemoLoadResult(False, counts, time.perf_counter() - started)


def remove_demo(conn: Connection) -> None:
    """Delete every row of the previous demo load (its ``datasets`` entries stay, updated)."""
    ids = (
        conn.execute(
            sa.text("SELECT id FROM datasets WHERE code = ANY(:codes)"),
            {"codes": [code for code, _, _ in DEMO_DATASETS.values()]},
        )
        .scalars()
        .all()
    )
    if not ids:
        return
    try:
        with conn.begin_nested():
            for table in (
                "occurrences",
                "taxa",
                "pa_zones",
                "protected_areas",
                "wetlands",
                "ecosystems",
                "planning_zones",
                "conservation_facilities",
            ):
                conn.execute(
                    sa.text(f"DELETE FROM {table} WHERE dataset_id = ANY(:ids)"),  # noqa: S608
                    {"ids": ids},
                )
    except IntegrityError as exc:
        raise InvalidInput(
            "the demo data cannot be replaced: rows of other datasets refer to it "
            f"({str(exc.orig).splitlines()[0]})",
            hint="load the demo into a database of its own",
        ) from None


def _upsert_datasets(conn: Connection, parameters: dict, data: DemoData) -> dict[str, int]:
    counts = _counts(data)
    ids: dict[str, int] = {}
    for layer, (code, title_vi, title_en) in DEMO_DATASETS.items():
        ids[layer] = conn.execute(
            sa.text(
                """
                INSERT INTO datasets (code, title_vi, title_en, abstract_vi, abstract_en,
                    keywords, publisher, licence, target_layer, source_name, lineage,
                    parameters, n_loaded, loaded_by)
                VALUES (:code, :title_vi, :title_en, :abstract_vi, :abstract_en, :keywords,
                    'vbis-geo', 'CC BY 4.0', :layer, 'vbis_geo.demo', :lineage,
                    CAST(:parameters AS jsonb), :n, 'vbis-geo demo')
                ON CONFLICT (code) DO UPDATE SET parameters = EXCLUDED.parameters,
                    n_loaded = EXCLUDED.n_loaded, lineage = EXCLUDED.lineage, loaded_at = now()
                RETURNING id
                """
            ),
            {
                "code": code,
                "title_vi": title_vi,
                "title_en": title_en,
                "abstract_vi": ABSTRACT_VI,
                "abstract_en": ABSTRACT_EN,
                "keywords": ["demo", "dữ liệu mẫu"],
                "layer": layer,
                "lineage": "generated by vbis_geo.demo.generate from vbis_geo/demo/reference "
                f"(seed {parameters['seed']}, generator v{parameters['generator_version']})",
                "parameters": json.dumps(parameters, sort_keys=True),
                "n": counts.get(layer, 0),
            },
        ).scalar_one()
    return ids


def _counts(data: DemoData) -> dict[str, int]:
    return {
        "protected_areas": len(data.protected_areas),
        "pa_designations": len(data.designations),
        "pa_zones": len(data.zones),
        "wetlands": len(data.wetlands),
        "ecosystems": len(data.ecosystems),
        "planning_zones": len(data.planning_zones),
        "conservation_facilities": len(data.facilities),
        "taxa": len(data.taxa),
        "taxon_statuses": len(data.statuses),
        "occurrences": len(data.occurrences),
    }


def write_demo(conn: Connection, data: DemoData, dataset_ids: dict[str, int]) -> dict[str, int]:
    """Insert every generated row; returns the counts per table."""
    pa_ids = _insert_features(
        conn, "protected_areas", data.protected_areas, dataset_ids["protected_areas"]
    )
    if data.designations:
        conn.execute(
            sa.text(
                "INSERT INTO pa_designations (protected_area_id, designation_type, year, name, "
                "reference) VALUES (:pa_id, :designation_type, :year, :name, :reference)"
            ),
            [{**d, "pa_id": pa_ids[d["pa_code"]]} for d in data.designations],
        )
    _insert_features(
        conn,
        "pa_zones",
        [
            {
                **{k: v for k, v in z.items() if k != "pa_code"},
                "protected_area_id": pa_ids[z["pa_code"]],
            }
            for z in data.zones
        ],
        dataset_ids["pa_zones"],
    )
    _insert_features(conn, "wetlands", data.wetlands, dataset_ids["wetlands"])
    _insert_features(conn, "ecosystems", data.ecosystems, dataset_ids["ecosystems"])
    _insert_features(conn, "planning_zones", data.planning_zones, dataset_ids["planning_zones"])
    _insert_features(
        conn, "conservation_facilities", data.facilities, dataset_ids["conservation_facilities"]
    )
    taxon_ids = _insert_taxa(conn, data.taxa, dataset_ids["taxa"])
    if data.statuses:
        conn.execute(
            sa.text(
                "INSERT INTO taxon_statuses (taxon_id, list, category, source) "
                "VALUES (:taxon_id, :list, :category, :source)"
            ),
            [
                {
                    **{k: v for k, v in s.items() if k != "taxon_key"},
                    "taxon_id": taxon_ids[s["taxon_key"]],
                }
                for s in data.statuses
            ],
        )
    _copy_occurrences(conn, data.occurrences, taxon_ids, dataset_ids["occurrences"])
    return _counts(data)


def _insert_features(
    conn: Connection, table: str, rows: list[dict[str, Any]], dataset_id: int
) -> dict[str, int]:
    """Insert rows with a shapely ``geom``; returns {code: id}."""
    if not rows:
        return {}
    columns = [k for k in strip_private(rows[0]) if k != "geom"]
    placeholders = ", ".join(f":{c}" for c in columns)
    statement = sa.text(
        f"INSERT INTO {table} ({', '.join(columns)}, geom, dataset_id) "  # noqa: S608
        f"VALUES ({placeholders}, ST_GeomFromWKB(:wkb, 4326), :dataset_id) RETURNING id, code"
    )
    ids = {}
    for row in rows:
        values = strip_private(row)
        values["wkb"] = values.pop("geom").wkb
        values["dataset_id"] = dataset_id
        rid, code = conn.execute(statement, values).one()
        ids[code] = rid
    return ids


def _insert_taxa(conn: Connection, taxa: list[dict[str, Any]], dataset_id: int) -> dict[str, int]:
    """Insert taxa parents first; returns {key: id}."""
    ids: dict[str, int] = {}
    statement = sa.text(
        "INSERT INTO taxa (rank, scientific_name, authorship, parent_id, vernacular_name_vi, "
        "vernacular_name_en, remarks, dataset_id) VALUES (:rank, :scientific_name, :authorship, "
        ":parent_id, :vernacular_name_vi, :vernacular_name_en, :remarks, :dataset_id) "
        "RETURNING id"
    )
    for taxon in taxa:
        values = {k: v for k, v in strip_private(taxon).items() if k not in ("key", "parent_key")}
        values["parent_id"] = ids[taxon["parent_key"]] if taxon["parent_key"] else None
        values["dataset_id"] = dataset_id
        ids[taxon["key"]] = conn.execute(statement, values).scalar_one()
    return ids


def _copy_occurrences(
    conn: Connection, frame: pd.DataFrame, taxon_ids: dict[str, int], dataset_id: int
) -> None:
    if frame.empty:
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = f"COPY occurrences ({', '.join(OCCURRENCE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    with cursor.copy(sql) as copy:
        for start in range(0, len(frame), COPY_CHUNK):
            chunk = frame.iloc[start : start + COPY_CHUNK]
            out = pd.DataFrame(
                {
                    "occurrence_id": chunk["occurrence_id"],
                    "taxon_id": chunk["taxon_key"].map(taxon_ids),
                    "basis_of_record": chunk["basis_of_record"],
                    "event_date": chunk["event_date"],
                    "recorded_by": chunk["recorded_by"],
                    "individual_count": chunk["individual_count"],
                    "coordinate_uncertainty_m": chunk["coordinate_uncertainty_m"],
                    "locality": chunk["locality"],
                    "occurrence_remarks": GENERATED_RECORD,
                    "geom": "SRID=4326;POINT("
                    + np.char.mod("%.6f", chunk["lon"].to_numpy())
                    + " "
                    + np.char.mod("%.6f", chunk["lat"].to_numpy())
                    + ")",
                    "dataset_id": dataset_id,
                }
            )
            buffer = io.StringIO()
            out.to_csv(buffer, header=False, index=False)
            copy.write(buffer.getvalue())
