"""``conservation_facilities``: rescue centres, botanical gardens, zoos, gene banks (points)."""

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
    enum_check,
    geometry_column,
    review_checks,
    valid_geometry_check,
    validity_check,
)

FACILITY_TYPES = (
    "rescue_centre",
    "botanical_garden",
    "zoo",
    "gene_bank",
    "aquarium",
    "biodiversity_conservation_facility",
)


class ConservationFacility(FromDataset, Validity, Reviewed, Timestamps, Base):
    __tablename__ = "conservation_facilities"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        validity_check(),
        enum_check("facility_type", FACILITY_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.Text)
    name_en: Mapped[str] = mapped_column(sa.Text)
    facility_type: Mapped[str] = mapped_column(sa.String(40))
    operator: Mapped[str | None] = mapped_column(sa.Text)
    established_year: Mapped[int | None]
    province_codes: Mapped[list[str]] = mapped_column(
        ARRAY(sa.String(40)), server_default=sa.text("'{}'::varchar[]")
    )
    remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("POINT")
