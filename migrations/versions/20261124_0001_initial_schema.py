"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:45:04.695396
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostGIS for the geometries, btree_gist for the no-overlapping-validity exclusion
    # constraints; both stay on downgrade (other schemas of the database may use them).
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_geospatial_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("title_vi", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("abstract_vi", sa.Text(), nullable=True),
        sa.Column("abstract_en", sa.Text(), nullable=True),
        sa.Column(
            "keywords",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("licence", sa.Text(), nullable=True),
        sa.Column("target_layer", sa.String(length=63), nullable=True),
        sa.Column(
            "extent",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("temporal_start", sa.Date(), nullable=True),
        sa.Column("temporal_end", sa.Date(), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("source_crs", sa.Text(), nullable=True),
        sa.Column("lineage", sa.Text(), nullable=True),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("n_loaded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_repaired", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("loaded_by", sa.Text(), nullable=True),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(extent) AND ST_IsValid(extent)", name=op.f("ck_datasets_extent_valid")
        ),
        sa.CheckConstraint(
            "n_loaded >= 0 AND n_repaired >= 0 AND n_rejected >= 0",
            name=op.f("ck_datasets_counts_positive"),
        ),
        sa.CheckConstraint(
            "temporal_end IS NULL OR temporal_start IS NULL OR temporal_end >= temporal_start",
            name=op.f("ck_datasets_temporal_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("code", name=op.f("uq_datasets_code")),
    )
    op.create_geospatial_index(
        "idx_datasets_extent",
        "datasets",
        ["extent"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("iso_3166_2", sa.String(length=10), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("daterange(valid_from, valid_to, '[]')"), "&&"),
            using="gist",
            name="no_overlapping_validity",
        ),
        sa.CheckConstraint(
            "level IN ('province', 'municipality')", name=op.f("ck_admin_units_level_allowed")
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_admin_units_geom_valid")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_admin_units_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_admin_units_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_units")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_admin_units_code_valid_from")),
    )
    op.create_geospatial_index(
        "idx_admin_units_geom",
        "admin_units",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_admin_units_dataset_id"), "admin_units", ["dataset_id"], unique=False)
    op.create_geospatial_table(
        "conservation_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("facility_type", sa.String(length=40), nullable=False),
        sa.Column("operator", sa.Text(), nullable=True),
        sa.Column("established_year", sa.Integer(), nullable=True),
        sa.Column(
            "province_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "facility_type IN ('rescue_centre', 'botanical_garden', 'zoo', 'gene_bank', 'aquarium', 'biodiversity_conservation_facility')",
            name=op.f("ck_conservation_facilities_facility_type_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)",
            name=op.f("ck_conservation_facilities_geom_valid"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_conservation_facilities_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_conservation_facilities_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conservation_facilities")),
        sa.UniqueConstraint("code", name=op.f("uq_conservation_facilities_code")),
    )
    op.create_geospatial_index(
        "idx_conservation_facilities_geom",
        "conservation_facilities",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_conservation_facilities_dataset_id"),
        "conservation_facilities",
        ["dataset_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "ecosystems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("ecosystem_type", sa.String(length=40), nullable=False),
        sa.Column(
            "province_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ecosystem_type IN ('montane_evergreen_forest', 'lowland_evergreen_forest', 'limestone_karst_forest', 'semi_evergreen_forest', 'dipterocarp_forest', 'pine_forest', 'mangrove', 'melaleuca_swamp', 'freshwater_wetland', 'coastal_wetland', 'coral_reef', 'seagrass', 'island', 'grassland')",
            name=op.f("ck_ecosystems_ecosystem_type_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_ecosystems_geom_valid")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_ecosystems_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_ecosystems_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecosystems")),
        sa.UniqueConstraint("code", name=op.f("uq_ecosystems_code")),
    )
    op.create_geospatial_index(
        "idx_ecosystems_geom",
        "ecosystems",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_ecosystems_dataset_id"), "ecosystems", ["dataset_id"], unique=False)
    op.create_geospatial_table(
        "planning_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("zone_type", sa.String(length=40), nullable=False),
        sa.Column("plan_reference", sa.Text(), nullable=True),
        sa.Column(
            "province_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "zone_type IN ('biodiversity_corridor', 'high_biodiversity_area')",
            name=op.f("ck_planning_zones_zone_type_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_planning_zones_geom_valid")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_planning_zones_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_planning_zones_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_planning_zones_code")),
    )
    op.create_geospatial_index(
        "idx_planning_zones_geom",
        "planning_zones",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_planning_zones_dataset_id"), "planning_zones", ["dataset_id"], unique=False
    )
    op.create_geospatial_table(
        "protected_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("legal_category", sa.String(length=40), nullable=False),
        sa.Column("iucn_category", sa.String(length=20), nullable=True),
        sa.Column("decision_number", sa.Text(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("established_year", sa.Integer(), nullable=True),
        sa.Column("management_board", sa.Text(), nullable=True),
        sa.Column("reported_area_ha", sa.Double(), nullable=True),
        sa.Column(
            "gis_area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "province_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), server_default="designated", nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "iucn_category IN ('Ia', 'Ib', 'II', 'III', 'IV', 'V', 'VI', 'Not Reported')",
            name=op.f("ck_protected_areas_iucn_category_allowed"),
        ),
        sa.CheckConstraint(
            "legal_category IN ('national_park', 'nature_reserve', 'species_habitat_area', 'landscape_protection_area')",
            name=op.f("ck_protected_areas_legal_category_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'designated', 'degazetted')",
            name=op.f("ck_protected_areas_status_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_protected_areas_geom_valid")
        ),
        sa.CheckConstraint(
            "reported_area_ha > 0", name=op.f("ck_protected_areas_reported_area_positive")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_protected_areas_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_protected_areas_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protected_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_protected_areas_code")),
    )
    op.create_geospatial_index(
        "idx_protected_areas_geom",
        "protected_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_protected_areas_dataset_id"), "protected_areas", ["dataset_id"], unique=False
    )
    op.create_index(
        "ix_protected_areas_province_codes",
        "protected_areas",
        ["province_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "taxa",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.String(length=20), nullable=False),
        sa.Column("scientific_name", sa.Text(), nullable=False),
        sa.Column("authorship", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "taxonomic_status", sa.String(length=20), server_default="accepted", nullable=False
        ),
        sa.Column("accepted_id", sa.Integer(), nullable=True),
        sa.Column("vernacular_name_vi", sa.Text(), nullable=True),
        sa.Column("vernacular_name_en", sa.Text(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(taxonomic_status = 'synonym') = (accepted_id IS NOT NULL)",
            name=op.f("ck_taxa_synonym_has_accepted"),
        ),
        sa.CheckConstraint(
            "rank IN ('kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species', 'subspecies', 'variety', 'form')",
            name=op.f("ck_taxa_rank_allowed"),
        ),
        sa.CheckConstraint(
            "taxonomic_status IN ('accepted', 'synonym', 'doubtful')",
            name=op.f("ck_taxa_taxonomic_status_allowed"),
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_taxa_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["accepted_id"], ["taxa.id"], name=op.f("fk_taxa_accepted_id_taxa")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_taxa_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["taxa.id"], name=op.f("fk_taxa_parent_id_taxa")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxa")),
        sa.UniqueConstraint("scientific_name", "rank", name=op.f("uq_taxa_scientific_name_rank")),
    )
    op.create_index(op.f("ix_taxa_accepted_id"), "taxa", ["accepted_id"], unique=False)
    op.create_index(op.f("ix_taxa_dataset_id"), "taxa", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_taxa_parent_id"), "taxa", ["parent_id"], unique=False)
    op.create_geospatial_table(
        "wetlands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("wetland_type", sa.String(length=40), nullable=False),
        sa.Column(
            "nationally_important", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("ramsar_year", sa.Integer(), nullable=True),
        sa.Column(
            "province_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "wetland_type IN ('lake', 'reservoir', 'lagoon', 'estuary', 'mangrove', 'peat_swamp', 'floodplain', 'river', 'coastal_mudflat', 'marine_shallow')",
            name=op.f("ck_wetlands_wetland_type_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_wetlands_geom_valid")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_wetlands_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_wetlands_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wetlands")),
        sa.UniqueConstraint("code", name=op.f("uq_wetlands_code")),
    )
    op.create_geospatial_index(
        "idx_wetlands_geom",
        "wetlands",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_wetlands_dataset_id"), "wetlands", ["dataset_id"], unique=False)
    op.create_table(
        "admin_unit_lineage",
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["admin_units.id"],
            name=op.f("fk_admin_unit_lineage_predecessor_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["admin_units.id"],
            name=op.f("fk_admin_unit_lineage_successor_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "predecessor_id", "successor_id", name=op.f("pk_admin_unit_lineage")
        ),
    )
    op.create_index(
        op.f("ix_admin_unit_lineage_successor_id"),
        "admin_unit_lineage",
        ["successor_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "occurrences",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurrence_id", sa.Text(), nullable=False),
        sa.Column("taxon_id", sa.Integer(), nullable=False),
        sa.Column("basis_of_record", sa.String(length=30), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("event_date_end", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.Column("individual_count", sa.Integer(), nullable=True),
        sa.Column("coordinate_uncertainty_m", sa.Double(), nullable=True),
        sa.Column("locality", sa.Text(), nullable=True),
        sa.Column("verbatim_scientific_name", sa.Text(), nullable=True),
        sa.Column("occurrence_remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "basis_of_record IN ('HumanObservation', 'MachineObservation', 'PreservedSpecimen', 'LivingSpecimen', 'FossilSpecimen', 'MaterialSample', 'MaterialCitation', 'Occurrence')",
            name=op.f("ck_occurrences_basis_of_record_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_occurrences_geom_valid")
        ),
        sa.CheckConstraint(
            "coordinate_uncertainty_m > 0", name=op.f("ck_occurrences_uncertainty_positive")
        ),
        sa.CheckConstraint(
            "event_date_end IS NULL OR event_date_end >= event_date",
            name=op.f("ck_occurrences_event_date_order"),
        ),
        sa.CheckConstraint(
            "individual_count >= 0", name=op.f("ck_occurrences_individual_count_positive")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_occurrences_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["taxon_id"],
            ["taxa.id"],
            name=op.f("fk_occurrences_taxon_id_taxa"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occurrences")),
        sa.UniqueConstraint("occurrence_id", name=op.f("uq_occurrences_occurrence_id")),
    )
    op.create_geospatial_index(
        "idx_occurrences_geom",
        "occurrences",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_occurrences_dataset_id"), "occurrences", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_occurrences_event_date"), "occurrences", ["event_date"], unique=False)
    op.create_index(
        "ix_occurrences_taxon_id_event_date",
        "occurrences",
        ["taxon_id", "event_date"],
        unique=False,
    )
    op.create_table(
        "pa_designations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protected_area_id", sa.Integer(), nullable=False),
        sa.Column("designation_type", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "designation_type IN ('ramsar', 'asean_heritage_park', 'biosphere_reserve', 'world_heritage')",
            name=op.f("ck_pa_designations_designation_type_allowed"),
        ),
        sa.CheckConstraint(
            "year BETWEEN 1971 AND 2100", name=op.f("ck_pa_designations_year_plausible")
        ),
        sa.ForeignKeyConstraint(
            ["protected_area_id"],
            ["protected_areas.id"],
            name=op.f("fk_pa_designations_protected_area_id_protected_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pa_designations")),
        sa.UniqueConstraint(
            "protected_area_id",
            "designation_type",
            name=op.f("uq_pa_designations_protected_area_id_designation_type"),
        ),
    )
    op.create_geospatial_table(
        "pa_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("protected_area_id", sa.Integer(), nullable=False),
        sa.Column("zone_type", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column(
            "area_ha",
            sa.Double(),
            sa.Computed("ST_Area(ST_Transform(geom, 6933)) / 10000.0", persisted=True),
            nullable=True,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "zone_type IN ('strictly_protected', 'ecological_restoration', 'service_administration', 'buffer')",
            name=op.f("ck_pa_zones_zone_type_allowed"),
        ),
        sa.CheckConstraint(
            "NOT ST_IsEmpty(geom) AND ST_IsValid(geom)", name=op.f("ck_pa_zones_geom_valid")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_pa_zones_validity_order"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_pa_zones_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["protected_area_id"],
            ["protected_areas.id"],
            name=op.f("fk_pa_zones_protected_area_id_protected_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pa_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_pa_zones_code")),
    )
    op.create_geospatial_index(
        "idx_pa_zones_geom",
        "pa_zones",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_pa_zones_dataset_id"), "pa_zones", ["dataset_id"], unique=False)
    op.create_index(
        op.f("ix_pa_zones_protected_area_id"), "pa_zones", ["protected_area_id"], unique=False
    )
    op.create_table(
        "taxon_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taxon_id", sa.Integer(), nullable=False),
        sa.Column("list", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("assessed_year", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(list = 'iucn_red_list' AND category IN ('EX', 'EW', 'CR', 'EN', 'VU', 'NT', 'LC', 'DD')) OR (list = 'vn_red_data_book' AND category IN ('EX', 'EW', 'CR', 'EN', 'VU', 'LR', 'DD')) OR (list = 'priority_protected' AND category IS NULL) OR (list = 'forest_law_group' AND category IN ('IA', 'IB', 'IIA', 'IIB')) OR (list = 'cites' AND category IN ('I', 'II', 'III')) OR (list = 'endemic' AND category IS NULL) OR (list = 'invasive_alien' AND category IS NULL) OR (list = 'migratory' AND category IS NULL)",
            name=op.f("ck_taxon_statuses_category_fits_list"),
        ),
        sa.CheckConstraint(
            "list IN ('iucn_red_list', 'vn_red_data_book', 'priority_protected', 'forest_law_group', 'cites', 'endemic', 'invasive_alien', 'migratory')",
            name=op.f("ck_taxon_statuses_list_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["taxon_id"],
            ["taxa.id"],
            name=op.f("fk_taxon_statuses_taxon_id_taxa"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxon_statuses")),
        sa.UniqueConstraint("taxon_id", "list", name=op.f("uq_taxon_statuses_taxon_id_list")),
    )
    op.create_index(
        "ix_taxon_statuses_list_category", "taxon_statuses", ["list", "category"], unique=False
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index("ix_taxon_statuses_list_category", table_name="taxon_statuses")
    op.drop_table("taxon_statuses")
    op.drop_index(op.f("ix_pa_zones_protected_area_id"), table_name="pa_zones")
    op.drop_index(op.f("ix_pa_zones_dataset_id"), table_name="pa_zones")
    op.drop_geospatial_index(
        "idx_pa_zones_geom", table_name="pa_zones", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("pa_zones")
    op.drop_table("pa_designations")
    op.drop_index("ix_occurrences_taxon_id_event_date", table_name="occurrences")
    op.drop_index(op.f("ix_occurrences_event_date"), table_name="occurrences")
    op.drop_index(op.f("ix_occurrences_dataset_id"), table_name="occurrences")
    op.drop_geospatial_index(
        "idx_occurrences_geom",
        table_name="occurrences",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("occurrences")
    op.drop_index(op.f("ix_admin_unit_lineage_successor_id"), table_name="admin_unit_lineage")
    op.drop_table("admin_unit_lineage")
    op.drop_index(op.f("ix_wetlands_dataset_id"), table_name="wetlands")
    op.drop_geospatial_index(
        "idx_wetlands_geom", table_name="wetlands", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("wetlands")
    op.drop_index(op.f("ix_taxa_parent_id"), table_name="taxa")
    op.drop_index(op.f("ix_taxa_dataset_id"), table_name="taxa")
    op.drop_index(op.f("ix_taxa_accepted_id"), table_name="taxa")
    op.drop_table("taxa")
    op.drop_index(
        "ix_protected_areas_province_codes", table_name="protected_areas", postgresql_using="gin"
    )
    op.drop_index(op.f("ix_protected_areas_dataset_id"), table_name="protected_areas")
    op.drop_geospatial_index(
        "idx_protected_areas_geom",
        table_name="protected_areas",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("protected_areas")
    op.drop_index(op.f("ix_planning_zones_dataset_id"), table_name="planning_zones")
    op.drop_geospatial_index(
        "idx_planning_zones_geom",
        table_name="planning_zones",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("planning_zones")
    op.drop_index(op.f("ix_ecosystems_dataset_id"), table_name="ecosystems")
    op.drop_geospatial_index(
        "idx_ecosystems_geom", table_name="ecosystems", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("ecosystems")
    op.drop_index(
        op.f("ix_conservation_facilities_dataset_id"), table_name="conservation_facilities"
    )
    op.drop_geospatial_index(
        "idx_conservation_facilities_geom",
        table_name="conservation_facilities",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("conservation_facilities")
    op.drop_index(op.f("ix_admin_units_dataset_id"), table_name="admin_units")
    op.drop_geospatial_index(
        "idx_admin_units_geom",
        table_name="admin_units",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("admin_units")
    op.drop_geospatial_index(
        "idx_datasets_extent", table_name="datasets", postgresql_using="gist", column_name="extent"
    )
    op.drop_geospatial_table("datasets")
    # ### end Alembic commands ###
