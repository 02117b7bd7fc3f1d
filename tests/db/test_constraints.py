"""The database itself rejects bad geometry and out-of-vocabulary values."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

pytestmark = pytest.mark.db

SQUARE = "MULTIPOLYGON(((105 20, 105.1 20, 105.1 20.1, 105 20.1, 105 20)))"
BOWTIE = "MULTIPOLYGON(((105 20, 105.1 20.1, 105.1 20, 105 20.1, 105 20)))"


def insert_wetland(conn, wkt: str, srid: int = 4326, **extra):
    values = {"code": "WL-TEST", "wkt": wkt, "srid": srid, "wetland_type": "lake", **extra}
    with conn.begin_nested():
        return conn.execute(
            sa.text(
                "INSERT INTO wetlands (code, name_vi, name_en, wetland_type, geom) VALUES "
                "(:code, 'Hồ thử', 'Test lake', :wetland_type, ST_GeomFromText(:wkt, :srid)) "
                "RETURNING area_ha"
            ),
            values,
        ).scalar_one()


def test_valid_polygon_gets_its_area_in_hectares(conn):
    area_ha = insert_wetland(conn, SQUARE)
    geodesic_ha = conn.execute(
        sa.text("SELECT ST_Area(ST_GeomFromText(:w, 4326)::geography) / 1e4"), {"w": SQUARE}
    ).scalar_one()
    # 0.1 degree square at 20 N: about 10.4 km x 11.1 km
    assert 11_000 < area_ha < 12_000
    assert area_ha == pytest.approx(geodesic_ha, rel=1e-3)


@pytest.mark.parametrize(
    ("wkt", "srid", "why"),
    [
        (BOWTIE, 4326, "self-intersecting ring"),
        ("MULTIPOLYGON EMPTY", 4326, "empty geometry"),
        ("POINT(105 20)", 4326, "wrong geometry type"),
        (SQUARE, 3405, "wrong SRID"),
    ],
)
def test_bad_geometry_is_rejected(conn, wkt, srid, why):
    with pytest.raises(DBAPIError):
        insert_wetland(conn, wkt, srid)


def test_unknown_vocabulary_is_rejected(conn):
    with pytest.raises(IntegrityError, match="wetland_type_allowed"):
        insert_wetland(conn, SQUARE, wetland_type="swimming_pool")


def test_status_category_must_fit_its_list(conn):
    taxon_id = conn.execute(sa.text("SELECT min(id) FROM taxa WHERE rank = 'species'")).scalar()
    conn.execute(sa.text("DELETE FROM taxon_statuses WHERE taxon_id = :t"), {"t": taxon_id})
    with pytest.raises(IntegrityError, match="category_fits_list"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO taxon_statuses (taxon_id, list, category) VALUES (:t, 'cites', 'CR')"
            ),
            {"t": taxon_id},
        )
    with conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO taxon_statuses (taxon_id, list, category) VALUES (:t, 'cites', 'II')"
            ),
            {"t": taxon_id},
        )


def test_admin_unit_validity_periods_of_one_code_cannot_overlap(conn):
    with pytest.raises(IntegrityError, match="no_overlapping_validity"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO admin_units (code, name_vi, name_en, level, valid_from, geom) "
                "SELECT code, name_vi, name_en, level, '2020-01-01', geom FROM admin_units "
                "WHERE code = 'VN-HN'"
            )
        )


def test_occurrence_needs_a_known_taxon(conn):
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                "VALUES ('x:1', -1, 'HumanObservation', ST_SetSRID(ST_MakePoint(105, 20), 4326))"
            )
        )


def test_the_review_index_holds_the_rows_in_review_only(conn):
    # migration 0019: a draft is found by the index; a published row is not in it
    from vbis_geo.db.migrate import earlier_migration

    for table in earlier_migration("0011").REVIEWED:
        definition = conn.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
            {"n": f"ix_{table}_review_status"},
        ).scalar_one()
        assert definition.endswith("WHERE ((review_status)::text <> 'published'::text)"), table
    conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        conn.execute(
            sa.text("EXPLAIN SELECT id FROM occurrences WHERE review_status = 'draft'")
        ).scalars()
    )
    assert "ix_occurrences_review_status" in plan
