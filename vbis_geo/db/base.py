"""Declarative base, naming convention and the column helpers every spatial table shares."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

#: Every geometry is stored in WGS 84 longitude/latitude.
STORAGE_SRID = 4326
#: Areas are computed in WGS 84 / NSIDC EASE-Grid 2.0 Global, an equal-area projection
#: (EPSG:6933): areas are exact on the ellipsoid wherever the polygon lies.
EQUAL_AREA_SRID = 6933

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def geometry_column(geometry_type: str) -> Mapped[object]:
    """A NOT NULL geometry column of ``geometry_type`` in EPSG:4326 with a GiST index."""
    return mapped_column(
        Geometry(geometry_type, srid=STORAGE_SRID, spatial_index=True), nullable=False
    )


def valid_geometry_check(column: str = "geom") -> sa.CheckConstraint:
    """A CHECK constraint rejecting empty and invalid (OGC validity) geometries."""
    return sa.CheckConstraint(
        f"NOT ST_IsEmpty({column}) AND ST_IsValid({column})", name=f"{column}_valid"
    )


def area_ha_column(column: str = "geom") -> Mapped[float]:
    """A stored generated column: area of ``column`` in hectares, in an equal-area CRS."""
    return mapped_column(
        sa.Double,
        sa.Computed(
            f"ST_Area(ST_Transform({column}, {EQUAL_AREA_SRID})) / 10000.0", persisted=True
        ),
        nullable=True,
    )


def enum_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """A CHECK constraint keeping ``column`` within ``values`` (NULL allowed)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_allowed")


def validity_check() -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="validity_order"
    )


class Timestamps:
    """When a row was created and last changed (history proper comes with the editing issue)."""

    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


class FromDataset:
    """Rows loaded from a dataset keep a link to its ``datasets`` entry (lineage)."""

    @declared_attr
    def dataset_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(
            sa.ForeignKey("datasets.id", ondelete="RESTRICT"), nullable=True, index=True
        )


class Validity:
    """Validity dates (inclusive); NULL ``valid_to`` means still valid."""

    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
