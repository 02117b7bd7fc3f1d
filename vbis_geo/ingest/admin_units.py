"""Load Vietnam's provincial-level units: the 63 provinces and the 34 units of 2025.

Sources (read from the shared data folder, never copied into the repository):

* ``vn-provinces-63-odv/vn_provinces_63_odv.geojson`` with ``vn_provinces_63_to_34_crosswalk.csv``:
  the 63 provinces (Open Development Vietnam geometry, names corrected by the crosswalk, ISO
  3166-2 codes), valid from 2008-08-01 (Resolution 15/2008/QH12 merged Hà Tây into Hà Nội, the
  last change to the provincial map before 2025) to 2025-06-30;
* ``vn-provinces-34-2025/diaphantinhvn_merged.geojson``: the 34 units created by Resolution
  202/2025/QH15, valid from 2025-07-01;
* the crosswalk gives the lineage: which old provinces each new unit was formed from.

The load is one transaction and idempotent: units are upserted on (code, valid_from).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from shapely import make_valid
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from vbis_geo.errors import InvalidInput
from vbis_geo.names import fold_diacritics, slug

VALID_FROM_63 = dt.date(2008, 8, 1)
VALID_TO_63 = dt.date(2025, 6, 30)
VALID_FROM_34 = dt.date(2025, 7, 1)
REFORM_BASIS = "Nghị quyết 202/2025/QH15 (hiệu lực 01/7/2025)"
MUNICIPALITIES_63 = {"VN-HN", "VN-HP", "VN-DN", "VN-SG", "VN-CT"}
ODV_63 = Path("vn-provinces-63-odv/vn_provinces_63_odv.geojson")
CROSSWALK = Path("vn-provinces-63-odv/vn_provinces_63_to_34_crosswalk.csv")
ODV_34 = Path("vn-provinces-34-2025/diaphantinhvn_merged.geojson")


def load_vietnam_provinces(conn: Connection, data_dir: Path) -> dict[str, int]:
    """Load both sets and their lineage from ``data_dir``; returns counts per part.

    Runs inside the caller's transaction (``with engine.begin() as conn``): all or nothing.
    """
    crosswalk = read_crosswalk(data_dir / CROSSWALK)
    old = read_provinces_63(data_dir / ODV_63, crosswalk)
    new = read_units_34(data_dir / ODV_34)
    missing = {row["ten_tinh_34"] for row in crosswalk.values()} - set(new["source_name"])
    if missing:
        raise InvalidInput(f"{data_dir / CROSSWALK}: units {sorted(missing)} are not in {ODV_34}")
    if _already_loaded(
        conn, {"admin-units-63-odv": data_dir / ODV_63, "admin-units-34-2025": data_dir / ODV_34}
    ):
        return {"63": len(old), "34": len(new), "lineage": len(crosswalk), "unchanged": 1}
    ds_63 = upsert_source_dataset(conn, data_dir / ODV_63, "admin-units-63-odv", 63)
    ds_34 = upsert_source_dataset(conn, data_dir / ODV_34, "admin-units-34-2025", 34)
    ids_63 = upsert_units(conn, old, ds_63)
    ids_34 = upsert_units(conn, new, ds_34)
    id_34_by_name = dict(zip(new["source_name"], (ids_34[c] for c in new["code"]), strict=True))
    links = [
        {
            "predecessor_id": ids_63[row["iso_3166_2"]],
            "successor_id": id_34_by_name[row["ten_tinh_34"]],
            "effective_date": VALID_FROM_34,
            "legal_basis": REFORM_BASIS,
        }
        for row in crosswalk.values()
    ]
    conn.execute(
        sa.text(
            "INSERT INTO admin_unit_lineage (predecessor_id, successor_id, effective_date, "
            "legal_basis) VALUES (:predecessor_id, :successor_id, :effective_date, "
            ":legal_basis) ON CONFLICT (predecessor_id, successor_id) DO UPDATE SET "
            "effective_date = EXCLUDED.effective_date, legal_basis = EXCLUDED.legal_basis"
        ),
        links,
    )
    return {"63": len(ids_63), "34": len(ids_34), "lineage": len(links), "unchanged": 0}


def _already_loaded(conn: Connection, sources: dict[str, Path]) -> bool:
    """True when every source is recorded with the same checksum and its units are present."""
    for code, path in sources.items():
        row = conn.execute(
            sa.text(
                "SELECT d.source_sha256, d.n_loaded, "
                "(SELECT count(*) FROM admin_units u WHERE u.dataset_id = d.id) AS n "
                "FROM datasets d WHERE d.code = :code"
            ),
            {"code": code},
        ).one_or_none()
        if row is None or row.source_sha256 != _sha256(path) or row.n != row.n_loaded:
            return False
    return True


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_crosswalk(path: Path) -> dict[int, dict[str, str]]:
    """The 63->34 crosswalk keyed by the ODV ``gid``."""
    _require_file(path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = {"gid_63", "ten_tinh_chuan", "iso_3166_2", "ten_tinh_34"}
    for number, row in enumerate(rows, start=2):
        absent = sorted(k for k in expected if not row.get(k))
        if absent:
            raise InvalidInput(f"{path}, row {number}: empty or missing field(s) {absent}")
    return {int(row["gid_63"]): row for row in rows}


def read_provinces_63(path: Path, crosswalk: dict[int, dict[str, str]]) -> gpd.GeoDataFrame:
    frame = _read_polygons(path)
    unknown = sorted(set(frame["gid"].astype(int)) - set(crosswalk))
    if unknown:
        raise InvalidInput(f"{path}: gid(s) {unknown} are not in the crosswalk")
    rows = [crosswalk[int(gid)] for gid in frame["gid"]]
    frame["code"] = [r["iso_3166_2"] for r in rows]
    frame["iso_3166_2"] = frame["code"]
    frame["name_vi"] = [r["ten_tinh_chuan"] for r in rows]
    frame["name_en"] = [english_name(r["ten_tinh_chuan"]) for r in rows]
    frame["level"] = [
        "municipality" if c in MUNICIPALITIES_63 else "province" for c in frame["code"]
    ]
    frame["valid_from"] = VALID_FROM_63
    frame["valid_to"] = VALID_TO_63
    return frame


def read_units_34(path: Path) -> gpd.GeoDataFrame:
    frame = _read_polygons(path)
    frame["source_name"] = frame["ten_tinh"]
    frame["name_vi"] = [full_name_34(n) for n in frame["ten_tinh"]]
    frame["name_en"] = [english_name(n) for n in frame["name_vi"]]
    frame["code"] = ["VN34-" + slug(_strip_city(n)) for n in frame["name_vi"]]
    frame["iso_3166_2"] = None
    frame["level"] = [
        "municipality" if n.startswith("Thành phố ") else "province" for n in frame["name_vi"]
    ]
    frame["valid_from"] = VALID_FROM_34
    frame["valid_to"] = None
    return frame


def full_name_34(source_name: str) -> str:
    """The official form of a 2025 unit's name from the source's abbreviation.

    >>> full_name_34("TP HCM")
    'Thành phố Hồ Chí Minh'
    >>> full_name_34("Khánh Hoà")
    'Khánh Hoà'
    """
    if source_name == "TP HCM":
        return "Thành phố Hồ Chí Minh"
    if source_name.startswith("TP "):
        return "Thành phố " + source_name[3:]
    return source_name


def english_name(name_vi: str) -> str:
    """English form of a provincial unit's name (diacritics folded, cities named as such).

    >>> english_name("Thành phố Hồ Chí Minh")
    'Ho Chi Minh City'
    >>> english_name("TP. Hồ Chí Minh")
    'Ho Chi Minh City'
    >>> english_name("Bà Rịa - Vũng Tàu")
    'Ba Ria - Vung Tau'
    """
    base = _strip_city(name_vi)
    folded = fold_diacritics(base)
    if folded == "Ho Chi Minh":
        return "Ho Chi Minh City"
    return f"{folded} City" if base != name_vi else folded


def _strip_city(name: str) -> str:
    for prefix in ("Thành phố ", "TP. ", "TP "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def upsert_source_dataset(conn: Connection, path: Path, code: str, count: int) -> int:
    """Record (or refresh) the ``datasets`` entry of a province source file; returns its id."""
    checksum = _sha256(path)
    readme = path.parent / "README.md"
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO datasets (code, title_vi, title_en, abstract_en, publisher, licence,
                    target_layer, source_name, source_sha256, source_crs, lineage, n_loaded,
                    loaded_by)
                VALUES (:code, :title_vi, :title_en, :abstract_en, :publisher, :licence,
                    'admin_units', :source_name, :sha, 'EPSG:4326', :lineage, :n, 'vbis-geo')
                ON CONFLICT (code) DO UPDATE SET source_sha256 = EXCLUDED.source_sha256,
                    n_loaded = EXCLUDED.n_loaded, loaded_at = now()
                RETURNING id
                """
            ),
            {
                "code": code,
                "title_vi": f"Ranh giới {count} đơn vị hành chính cấp tỉnh",
                "title_en": f"Boundaries of the {count} provincial-level units",
                "abstract_en": f"Loaded from {path.name}; source and licence in {readme.name}.",
                "publisher": "Open Development Vietnam (via TaliaCao/Vietnam-Shape-Map)",
                "licence": "CC BY-SA 4.0 (assumed, see the source README)",
                "source_name": path.name,
                "sha": checksum,
                "lineage": f"{path.parent.name}/{path.name}, sha256 {checksum}",
                "n": count,
            },
        ).scalar_one()
    )


def upsert_units(conn: Connection, frame: gpd.GeoDataFrame, dataset_id: int) -> dict[str, int]:
    """Insert or update units on (code, valid_from); returns {code: id}."""
    ids: dict[str, int] = {}
    statement = sa.text(
        """
        INSERT INTO admin_units (code, name_vi, name_en, level, iso_3166_2, valid_from,
            valid_to, geom, dataset_id)
        VALUES (:code, :name_vi, :name_en, :level, :iso, :valid_from, :valid_to,
            ST_Multi(ST_GeomFromWKB(:wkb, 4326)), :dataset_id)
        ON CONFLICT (code, valid_from) DO UPDATE SET name_vi = EXCLUDED.name_vi,
            name_en = EXCLUDED.name_en, level = EXCLUDED.level, iso_3166_2 = EXCLUDED.iso_3166_2,
            valid_to = EXCLUDED.valid_to, geom = EXCLUDED.geom, dataset_id = EXCLUDED.dataset_id,
            updated_at = now()
        RETURNING id
        """
    )
    for row in frame.itertuples():
        ids[row.code] = conn.execute(
            statement,
            {
                "code": row.code,
                "name_vi": row.name_vi,
                "name_en": row.name_en,
                "level": row.level,
                "iso": row.iso_3166_2,
                "valid_from": row.valid_from,
                "valid_to": row.valid_to,
                "wkb": row.geometry.wkb,
                "dataset_id": dataset_id,
            },
        ).scalar_one()
    return ids


def _read_polygons(path: Path) -> gpd.GeoDataFrame:
    _require_file(path)
    frame = gpd.read_file(path)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        # RFC 7946 GeoJSON without a crs member is lon/lat WGS 84
        frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    frame["geometry"] = [_as_valid_multipolygon(path, i, g) for i, g in enumerate(frame.geometry)]
    return frame


def _as_valid_multipolygon(path: Path, index: int, geom: BaseGeometry | None) -> MultiPolygon:
    if geom is None or geom.is_empty:
        raise InvalidInput(f"{path}, feature {index + 1}: empty geometry")
    if not geom.is_valid:
        geom = make_valid(geom)
    # make_valid may return a collection: keep its polygonal parts
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    if not parts:
        raise InvalidInput(f"{path}, feature {index + 1}: expected a polygon, got {geom.geom_type}")
    return MultiPolygon(parts)


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist", hint="set VBIS_SHARED_DATA or --data-dir")
