"""``admin_units``: provincial-level units with validity dates (63 until 2025-06-30, 34 after).

See ../shared/DOMAIN.md, "Administrative units: the 2025 reform". Both sets live side by side;
``admin_unit_lineage`` records which old units each new unit was formed from.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import (
    Base,
    FromDataset,
    Timestamps,
    area_ha_column,
    enum_check,
    geometry_column,
    valid_geometry_check,
    validity_check,
)

ADMIN_LEVELS = ("province", "municipality")


class AdminUnit(FromDataset, Timestamps, Base):
    __tablename__ = "admin_units"
    __table_args__ = (
        valid_geometry_check(),
        validity_check(),
        enum_check("level", ADMIN_LEVELS),
        sa.UniqueConstraint("code", "valid_from"),
        # one unit per code at any date: validity periods of one code never overlap
        ExcludeConstraint(
            ("code", "="),
            (sa.text("daterange(valid_from, valid_to, '[]')"), "&&"),
            name="no_overlapping_validity",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISO 3166-2 for the 63 pre-2025 provinces (VN-HN, VN-44...); ``VN34-<slug>`` for the
    #: 34 units of 2025, which have no ISO code yet
    code: Mapped[str] = mapped_column(sa.String(40))
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    level: Mapped[str] = mapped_column(sa.String(20))
    iso_3166_2: Mapped[str | None] = mapped_column(sa.String(10))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    area_ha: Mapped[float] = area_ha_column()
    geom: Mapped[object] = geometry_column("MULTIPOLYGON")


class AdminUnitLineage(Base):
    """A successor unit formed (wholly or partly) from a predecessor unit on a date."""

    __tablename__ = "admin_unit_lineage"

    predecessor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True
    )
    successor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    effective_date: Mapped[dt.date] = mapped_column(sa.Date)
    legal_basis: Mapped[str | None] = mapped_column(sa.Text)
