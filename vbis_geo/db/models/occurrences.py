"""``occurrences``: species records with Darwin Core terms (https://dwc.tdwg.org/terms/).

Columns are the snake_case of the Darwin Core term they hold (``occurrence_id`` is
dwc:occurrenceID), except where a unit goes in the name (``coordinate_uncertainty_m``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import (
    Base,
    FromDataset,
    Reviewed,
    Timestamps,
    enum_check,
    geometry_column,
    review_checks,
    valid_geometry_check,
)

BASIS_OF_RECORD = (
    "HumanObservation",
    "MachineObservation",
    "PreservedSpecimen",
    "LivingSpecimen",
    "FossilSpecimen",
    "MaterialSample",
    "MaterialCitation",
    "Occurrence",
)


class Occurrence(FromDataset, Reviewed, Timestamps, Base):
    __tablename__ = "occurrences"
    __table_args__ = (
        valid_geometry_check(),
        *review_checks(),
        enum_check("basis_of_record", BASIS_OF_RECORD),
        sa.CheckConstraint("individual_count >= 0", name="individual_count_positive"),
        sa.CheckConstraint("coordinate_uncertainty_m > 0", name="uncertainty_positive"),
        sa.CheckConstraint(
            "event_date_end IS NULL OR event_date_end >= event_date", name="event_date_order"
        ),
        sa.Index("ix_occurrences_taxon_id_event_date", "taxon_id", "event_date"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    occurrence_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    taxon_id: Mapped[int] = mapped_column(sa.ForeignKey("taxa.id", ondelete="RESTRICT"))
    basis_of_record: Mapped[str] = mapped_column(sa.String(30))
    #: start of dwc:eventDate; ``event_date_end`` is set when eventDate is an interval
    event_date: Mapped[dt.date | None] = mapped_column(sa.Date, index=True)
    event_date_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    recorded_by: Mapped[str | None] = mapped_column(sa.Text)
    individual_count: Mapped[int | None]
    coordinate_uncertainty_m: Mapped[float | None] = mapped_column(sa.Double)
    locality: Mapped[str | None] = mapped_column(sa.Text)
    verbatim_scientific_name: Mapped[str | None] = mapped_column(sa.Text)
    occurrence_remarks: Mapped[str | None] = mapped_column(sa.Text)
    geom: Mapped[object] = geometry_column("POINT")
