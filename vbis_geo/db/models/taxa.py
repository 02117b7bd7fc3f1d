"""``taxa``, the taxonomy backbone, and ``taxon_statuses``, their conservation statuses.

Statuses are rows of named lists (../shared/DOMAIN.md, "Species"), so that a list can be
amended, cited and, later, versioned without changing the table:

================== ============================================ ==========================
list               meaning                                      categories
================== ============================================ ==========================
iucn_red_list      IUCN Red List (global assessment)            EX EW CR EN VU NT LC DD
vn_red_data_book   Sách Đỏ Việt Nam 2007                        EX EW CR EN VU LR DD
priority_protected Decree 64/2019/NĐ-CP list (and amendments)    (none)
forest_law_group   Decree 06/2019/NĐ-CP groups                   IA IB IIA IIB
cites              CITES appendix                               I II III
endemic            endemic to Vietnam                           (none)
invasive_alien     Circular 35/2018/TT-BTNMT                    (none)
migratory          migratory species (e.g. CMS, flyway lists)   (none)
================== ============================================ ==========================
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vbis_geo.db.base import Base, FromDataset, Timestamps, enum_check

RANKS = (
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "species",
    "subspecies",
    "variety",
    "form",
)
TAXONOMIC_STATUSES = ("accepted", "synonym", "doubtful")
STATUS_CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "iucn_red_list": ("EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD"),
    "vn_red_data_book": ("EX", "EW", "CR", "EN", "VU", "LR", "DD"),
    "priority_protected": None,
    "forest_law_group": ("IA", "IB", "IIA", "IIB"),
    "cites": ("I", "II", "III"),
    "endemic": None,
    "invasive_alien": None,
    "migratory": None,
}


def _status_category_check() -> sa.CheckConstraint:
    clauses = []
    for name, categories in STATUS_CATEGORIES.items():
        if categories is None:
            clauses.append(f"(list = '{name}' AND category IS NULL)")
        else:
            allowed = ", ".join(f"'{c}'" for c in categories)
            clauses.append(f"(list = '{name}' AND category IN ({allowed}))")
    return sa.CheckConstraint(" OR ".join(clauses), name="category_fits_list")


class Taxon(FromDataset, Timestamps, Base):
    __tablename__ = "taxa"
    __table_args__ = (
        enum_check("rank", RANKS),
        enum_check("taxonomic_status", TAXONOMIC_STATUSES),
        sa.UniqueConstraint("scientific_name", "rank"),
        sa.CheckConstraint(
            "(taxonomic_status = 'synonym') = (accepted_id IS NOT NULL)",
            name="synonym_has_accepted",
        ),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # close spellings of names (pg_trgm): name matching at ingest, search in the portal
        sa.Index(
            "ix_taxa_scientific_name_trgm",
            "scientific_name",
            postgresql_using="gin",
            postgresql_ops={"scientific_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # parent and accepted links are NO ACTION (checked at the end of a statement), so that a
    # whole branch can be deleted in one statement
    rank: Mapped[str] = mapped_column(sa.String(20))
    scientific_name: Mapped[str] = mapped_column(sa.Text)
    authorship: Mapped[str | None] = mapped_column(sa.Text)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxa.id"), index=True)
    taxonomic_status: Mapped[str] = mapped_column(sa.String(20), server_default="accepted")
    #: for a synonym, the accepted taxon it stands for
    accepted_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxa.id"), index=True)
    vernacular_name_vi: Mapped[str | None] = mapped_column(sa.Text)
    vernacular_name_en: Mapped[str | None] = mapped_column(sa.Text)
    remarks: Mapped[str | None] = mapped_column(sa.Text)


class TaxonStatus(Base):
    """One taxon's entry on one status list."""

    __tablename__ = "taxon_statuses"
    __table_args__ = (
        enum_check("list", tuple(STATUS_CATEGORIES)),
        _status_category_check(),
        sa.UniqueConstraint("taxon_id", "list"),
        sa.Index("ix_taxon_statuses_list_category", "list", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    taxon_id: Mapped[int] = mapped_column(sa.ForeignKey("taxa.id", ondelete="CASCADE"))
    list: Mapped[str] = mapped_column(sa.String(30))
    category: Mapped[str | None] = mapped_column(sa.String(10))
    #: the list's edition or legal act, e.g. "IUCN 2024-2", "Nghị định 64/2019/NĐ-CP"
    source: Mapped[str | None] = mapped_column(sa.Text)
    assessed_year: Mapped[int | None]


#: the sizes (km) of the grid cells a sensitive taxon's locations are generalised to; 0 = exact
SENSITIVITY_LEVELS_KM = (0, 1, 10, 25)


class SensitivityOverride(Base):
    """The admin's sensitivity level of a taxon, nationally (``province_code`` NULL) or in one
    province (an ``admin_units`` code, of the 63 or of the 34; checked when set, not a foreign
    key since a code names one unit per period).

    A national override replaces the rule's level in ``analysis.taxon_sensitivity`` (migration
    0009, which documents the rule); provincial ones are read from here by the read paths."""

    __tablename__ = "sensitivity_overrides"
    __table_args__ = (
        sa.CheckConstraint(
            f"level_km IN ({', '.join(str(k) for k in SENSITIVITY_LEVELS_KM)})",
            name="level_km_allowed",
        ),
        sa.CheckConstraint("char_length(btrim(reason)) > 0", name="reason_given"),
        # one national row per taxon too: NULL provinces are not distinct
        sa.UniqueConstraint("taxon_id", "province_code", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    taxon_id: Mapped[int] = mapped_column(sa.ForeignKey("taxa.id", ondelete="CASCADE"))
    #: NULL: the national level
    province_code: Mapped[str | None] = mapped_column(sa.String(40))
    level_km: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    set_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("auth.accounts.id", ondelete="SET NULL")
    )
    set_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )
