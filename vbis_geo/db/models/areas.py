"""Other area layers: ``wetlands``, ``ecosystems`` and ``planning_zones``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import (
    Base,
    FromDataset,
    Reviewed,
    Timestamps,
    Validity,
    area_ha_column,
    enum_check,
    geometry_column,
    review_checks,
    valid_geometry_check,
    validity_check,
)

WETLAND_TYPES = (
    "lake",
    "reservoir",
    "lagoon",
    "estuary",
    "mangrove",
    "peat_swamp",
    "floodplain",
    "river",
    "coastal_mudflat",
    "marine_shallow",
)
ECOSYSTEM_TYPES = (
    "montane_evergreen_forest",
    "lowland_evergreen_forest",
    "limestone_karst_forest",
    "semi_evergreen_forest",
    "dipterocarp_forest",
    "pine_forest",
    "mangrove",
    "melaleuca_swamp",
    "freshwater_wetland",
    "coastal_wetland",
    "coral_reef",
    "seagrass",
    "island",
    "grassland",
)
PLANNING_ZONE_TYPES = ("biodiversity_corridor", "high_biodiversity_area")


def _province_codes() -> Mapped[list[str]]:
    return mapped_column(ARRAY(sa.String(40)), server_default=sa.text("'{}'::varchar[]"))


class Wetland(FromDataset, Validity, Reviewed, Timestamps, Base):
    """An important wetland (vùng đất ngập nước quan trọng)."""

    __tablename__ = "wetlands"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("wetland_type", WETLAND_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    wetland_type: Mapped[str] = mapped_column(sa.String(40))
    nationally_important: Mapped[bool] = mapped_column(server_default=sa.true())
    ramsar_year: Mapped[int | None]
    province_codes: Mapped[list[str]] = _province_codes()
    area_ha: Mapped[float] = area_ha_column()
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")


class Ecosystem(FromDataset, Validity, Reviewed, Timestamps, Base):
    """A natural ecosystem area (hệ sinh thái tự nhiên)."""

    __tablename__ = "ecosystems"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("ecosystem_type", ECOSYSTEM_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    ecosystem_type: Mapped[str] = mapped_column(sa.String(40))
    province_codes: Mapped[list[str]] = _province_codes()
    area_ha: Mapped[float] = area_ha_column()
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")


class PlanningZone(FromDataset, Validity, Reviewed, Timestamps, Base):
    """A zone of the national biodiversity plan: a corridor or a high-biodiversity area."""

    __tablename__ = "planning_zones"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("zone_type", PLANNING_ZONE_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    zone_type: Mapped[str] = mapped_column(sa.String(40))
    plan_reference: Mapped[str | None] = mapped_column(sa.Text)
    province_codes: Mapped[list[str]] = _province_codes()
    area_ha: Mapped[float] = area_ha_column()
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")
