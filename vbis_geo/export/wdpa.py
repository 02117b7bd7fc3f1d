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
