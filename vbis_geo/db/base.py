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


#: where a row stands in review (issue 6): contributions by experts and the public go in as
#: drafts; a reviewer publishes or rejects them; the public reads published rows only
REVIEW_STATUSES = ("draft", "published", "rejected")
#: the rows in review (drafts, and rejected rows kept for the record): few, and the only ones
#: the index on ``review_status`` holds (migration 0019)
IN_REVIEW = "review_status <> 'published'"
#: the columns of :class:`Reviewed`, which are not published as properties
REVIEW_COLUMNS = ("review_status", "submitted_by", "reviewed_by", "reviewed_at", "review_reason")


class Reviewed:
    """Review of contributed rows. Rows loaded or edited by those who publish directly (the
    national admin, an editor in scope) are ``published``; the write path sets ``draft``."""

    review_status: Mapped[str] = mapped_column(
        sa.String(10), server_default="published", nullable=False
    )
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    review_reason: Mapped[str | None] = mapped_column(sa.Text)

    @declared_attr
    def submitted_by(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(sa.ForeignKey("auth.accounts.id", ondelete="SET NULL"))

    @declared_attr
    def reviewed_by(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(sa.ForeignKey("auth.accounts.id", ondelete="SET NULL"))


def review_checks() -> tuple[sa.CheckConstraint | sa.Index, ...]:
    """The CHECK constraints of :class:`Reviewed` (a known status, and a rejection says why)
    and its index of the rows in review."""
    return (
        sa.Index(None, "review_status", postgresql_where=sa.text(IN_REVIEW)),
        enum_check("review_status", REVIEW_STATUSES),
        sa.CheckConstraint(
            "review_status <> 'rejected' OR char_length(btrim(review_reason)) > 0",
            name="rejection_reason_given",
        ),
    )


class Validity:
    """Validity dates (inclusive); NULL ``valid_to`` means still valid."""

    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
