"""``datasets``: metadata and lineage of every loaded dataset (published later as OGC Records)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import STORAGE_SRID, Base, valid_geometry_check


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (
        valid_geometry_check("extent"),
        sa.CheckConstraint(
            "n_loaded >= 0 AND n_repaired >= 0 AND n_rejected >= 0", name="counts_positive"
        ),
        sa.CheckConstraint(
            "temporal_end IS NULL OR temporal_start IS NULL OR temporal_end >= temporal_start",
            name="temporal_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title_vi: Mapped[str] = mapped_column(sa.Text)
    title_en: Mapped[str] = mapped_column(sa.Text)
    abstract_vi: Mapped[str | None] = mapped_column(sa.Text)
    abstract_en: Mapped[str | None] = mapped_column(sa.Text)
    keywords: Mapped[list[str]] = mapped_column(
        ARRAY(sa.Text), server_default=sa.text("'{}'::text[]")
    )
    publisher: Mapped[str | None] = mapped_column(sa.Text)
    licence: Mapped[str | None] = mapped_column(sa.Text)
    #: the table the dataset was loaded into (an OGC collection id)
    target_layer: Mapped[str | None] = mapped_column(sa.String(63))
    extent: Mapped[object | None] = mapped_column(
        Geometry("POLYGON", srid=STORAGE_SRID, spatial_index=True), nullable=True
    )
    temporal_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    temporal_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    # lineage
    source_name: Mapped[str | None] = mapped_column(sa.Text)
    source_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    source_crs: Mapped[str | None] = mapped_column(sa.Text)
    lineage: Mapped[str | None] = mapped_column(sa.Text)
    parameters: Mapped[dict[str, object]] = mapped_column(
        JSONB, server_default=sa.text("'{}'::jsonb")
    )
    n_loaded: Mapped[int] = mapped_column(server_default="0")
    n_repaired: Mapped[int] = mapped_column(server_default="0")
    n_rejected: Mapped[int] = mapped_column(server_default="0")
    loaded_by: Mapped[str | None] = mapped_column(sa.Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
