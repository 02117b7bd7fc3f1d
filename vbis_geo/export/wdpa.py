"""Protected areas under WDPA field names: the one place the mapping lives.

Field names and meanings follow the WDPA manual (UNEP-WCMC, "User Manual for the World Database
on Protected Areas and world database on other effective area-based conservation measures",
version 1.6, 2019, Table 1 "WDPA attributes"); areas in km². Protected Planet renames fields
from time to time: change them here only.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Connection

#: our legal category -> (DESIG in Vietnamese, DESIG_ENG)
DESIGNATIONS = {
    "national_park": ("Vườn quốc gia", "National Park"),
    "nature_reserve": ("Khu dự trữ thiên nhiên", "Nature Reserve"),
    "species_habitat_area": (
        "Khu bảo tồn loài - sinh cảnh",
        "Species and Habitat Conservation Area",
    ),
    "landscape_protection_area": ("Khu bảo vệ cảnh quan", "Landscape Protection Area"),
}
STATUSES = {"designated": "Designated", "proposed": "Proposed", "degazetted": "Degazetted"}
WDPA_COLUMNS = (
    "WDPAID",
    "WDPA_PID",
    "PA_DEF",
    "NAME",
    "ORIG_NAME",
    "DESIG",
    "DESIG_ENG",
    "DESIG_TYPE",
    "IUCN_CAT",
    "REP_AREA",
    "GIS_AREA",
    "STATUS",
    "STATUS_YR",
    "GOV_TYPE",
    "MANG_AUTH",
    "ISO3",
    "PARENT_ISO",
    "SUB_LOC",
    "VBIS_CODE",
)


def to_wdpa(conn: Connection, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` (protected areas as read for export) with WDPA columns instead of ours.

    WDPAID is left empty: the national system does not assign WDPA identifiers; VBIS_CODE
    carries our code so that a WDPA submission can be matched back.
    """
    gis_area = conn.exec_driver_sql("SELECT code, gis_area_ha FROM protected_areas").all()
    gis = dict(gis_area)
    designation = frame["legal_category"].map(DESIGNATIONS)
    out = pd.DataFrame(
        {
            "WDPAID": pd.Series([None] * len(frame), dtype=object),
            "WDPA_PID": pd.Series([None] * len(frame), dtype=object),
            "PA_DEF": 1,
            "NAME": frame["name_en"],
            "ORIG_NAME": frame["name_vi"],
            "DESIG": designation.str[0],
            "DESIG_ENG": designation.str[1],
            "DESIG_TYPE": "National",
            "IUCN_CAT": frame["iucn_category"].fillna("Not Reported"),
            "REP_AREA": frame["reported_area_ha"] / 100.0,
            "GIS_AREA": frame["code"].map(gis) / 100.0,
            "STATUS": frame["status"].map(STATUSES),
            "STATUS_YR": frame["established_year"].fillna(0).astype(int),
            "GOV_TYPE": "Federal or national ministry or agency",
            "MANG_AUTH": frame["management_board"],
            "ISO3": "VNM",
            "PARENT_ISO": "VNM",
            "SUB_LOC": frame["province_codes"].map(
                lambda v: ";".join(v) if isinstance(v, list) else v
            ),
            "VBIS_CODE": frame["code"],
        },
        index=frame.index,
    )
    return gpd.GeoDataFrame(out[list(WDPA_COLUMNS)], geometry=frame.geometry, crs=frame.crs)


def from_wdpa(frame: pd.DataFrame) -> pd.DataFrame:
    """A WDPA-named table (a Protected Planet download, or our ``--wdpa`` export) as the
    protected-area fields the loader reads: the inverse of :func:`to_wdpa`.

    The code is VBIS_CODE when the file has it, else ``WDPA-<WDPAID>``; areas go from km² to
    hectares (rounded to 1 m²); a year or an area of 0 means unknown; a designation is read from
    DESIG (Vietnamese) or DESIG_ENG. Missing WDPA columns are left out (their fields untouched).
    """
    columns = {c.upper(): c for c in frame.columns}

    def col(name: str) -> pd.Series | None:
        return frame[columns[name]] if name in columns else None

    out: dict[str, pd.Series] = {}
    wdpaid = col("WDPAID")
    code = col("VBIS_CODE")
    if wdpaid is not None:
        generated = wdpaid.map(lambda v: f"WDPA-{_integer_text(v)}" if _present(v) else None)
        code = generated if code is None else code.where(code.map(_present), generated)
    if code is not None:
        out["code"] = code
    for field, name in (
        ("name_en", "NAME"),
        ("name_vi", "ORIG_NAME"),
        ("management_board", "MANG_AUTH"),
        ("province_codes", "SUB_LOC"),
    ):
        if col(name) is not None:
            out[field] = col(name)
    if col("IUCN_CAT") is not None:
        # to_wdpa writes "Not Reported" for an unknown category: read it back as unknown
        out["iucn_category"] = col("IUCN_CAT").map(
            lambda v: None if str(v) in ("Not Reported", "Not Applicable", "Not Assigned") else v
        )
    designation = col("DESIG")
    if designation is None or not designation.map(_present).any():
        designation = col("DESIG_ENG")
    if designation is not None:
        out["legal_category"] = designation
    if col("STATUS") is not None:
        out["status"] = col("STATUS").map(lambda v: str(v).strip().lower() if _present(v) else v)
    if col("STATUS_YR") is not None:
        out["established_year"] = col("STATUS_YR").map(
            lambda v: _integer_text(v) if _present(v) and float(v) > 0 else None
        )
    if col("REP_AREA") is not None:
        out["reported_area_ha"] = col("REP_AREA").map(
            lambda v: str(round(float(v) * 100.0, 4)) if _present(v) and float(v) > 0 else None
        )
    return pd.DataFrame(out, index=frame.index)


def _present(value: object) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and pd.isna(value))
        and str(value).strip() not in ("", "0", "Not Reported")
    )


def _integer_text(value: object) -> str:
    return str(int(float(str(value))))
