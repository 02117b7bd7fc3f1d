"""``protected_areas`` with their international designations and zones.

Legal categories follow the Law on Biodiversity 2008 (Art. 16-20); zones follow the WDPA
practice of child features (see ../shared/DOMAIN.md, "Managed spatial objects").
"""

from __future__ import annotations

import datetime as dt

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

LEGAL_CATEGORIES = (
    "national_park",  # vườn quốc gia
    "nature_reserve",  # khu dự trữ thiên nhiên
    "species_habitat_area",  # khu bảo tồn loài - sinh cảnh
    "landscape_protection_area",  # khu bảo vệ cảnh quan
)
IUCN_CATEGORIES = ("Ia", "Ib", "II", "III", "IV", "V", "VI", "Not Reported")
PA_STATUSES = ("proposed", "designated", "degazetted")
DESIGNATION_TYPES = ("ramsar", "asean_heritage_park", "biosphere_reserve", "world_heritage")
ZONE_TYPES = (
    "strictly_protected",  # phân khu bảo vệ nghiêm ngặt
    "ecological_restoration",  # phân khu phục hồi sinh thái
    "service_administration",  # phân khu dịch vụ - hành chính
    "buffer",  # vùng đệm
)


class ProtectedArea(FromDataset, Validity, Reviewed, Timestamps, Base):
    __tablename__ = "protected_areas"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("legal_category", LEGAL_CATEGORIES),
        enum_check("iucn_category", IUCN_CATEGORIES),
        enum_check("status", PA_STATUSES),
        sa.CheckConstraint("reported_area_ha > 0", name="reported_area_positive"),
        sa.Index("ix_protected_areas_province_codes", "province_codes", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    legal_category: Mapped[str] = mapped_column(sa.String(40))
    iucn_category: Mapped[str | None] = mapped_column(sa.String(20))
    decision_number: Mapped[str | None] = mapped_column(sa.Text)
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    established_year: Mapped[int | None]
    management_board: Mapped[str | None] = mapped_column(sa.Text)
    #: area stated by the establishing decision
    reported_area_ha: Mapped[float | None] = mapped_column(sa.Double)
    #: area of the stored boundary, computed in an equal-area CRS
    gis_area_ha: Mapped[float] = area_ha_column()
    #: provinces named by the decision (ISO 3166-2 codes of the units of that time)
    province_codes: Mapped[list[str]] = mapped_column(
        ARRAY(sa.String(40)), server_default=sa.text("'{}'::varchar[]")
    )
    status: Mapped[str] = mapped_column(sa.String(20), server_default="designated")
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")


class PADesignation(Base):
    """An international title held by a protected area (Ramsar, AHP, MAB, World Heritage)."""

    __tablename__ = "pa_designations"
    __table_args__ = (
        enum_check("designation_type", DESIGNATION_TYPES),
        sa.UniqueConstraint("protected_area_id", "designation_type"),
        sa.CheckConstraint("year BETWEEN 1971 AND 2100", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protected_area_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protected_areas.id", ondelete="CASCADE")
    )
    designation_type: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[int]
    #: the title's own name where it differs (e.g. the biosphere reserve's name)
    name: Mapped[str | None] = mapped_column(sa.Text)
    #: the register's reference (e.g. Ramsar site number)
    reference: Mapped[str | None] = mapped_column(sa.Text)


class PAZone(FromDataset, Validity, Reviewed, Timestamps, Base):
    """A functional zone of a protected area, or its buffer zone (outside the area)."""

    __tablename__ = "pa_zones"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("zone_type", ZONE_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80), unique=True)
    protected_area_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protected_areas.id", ondelete="CASCADE"), index=True
    )
    zone_type: Mapped[str] = mapped_column(sa.String(40))
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    area_ha: Mapped[float] = area_ha_column()
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")
