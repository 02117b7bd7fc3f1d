"""The real 63- and 34-province files load with their validity dates; the crosswalk holds."""

import datetime as dt

import geopandas as gpd
import pytest
import sqlalchemy as sa

from vbis_geo.ingest.admin_units import CROSSWALK, ODV_34, load_vietnam_provinces, read_crosswalk

pytestmark = [pytest.mark.db, pytest.mark.shared_data]


def units_valid_on(conn, day: dt.date) -> list[str]:
    return (
        conn.execute(
            sa.text(
                "SELECT code FROM admin_units WHERE valid_from <= :d "
                "AND (valid_to IS NULL OR valid_to >= :d) ORDER BY code"
            ),
            {"d": day},
        )
        .scalars()
        .all()
    )


def test_63_until_june_2025_and_34_from_july(conn):
    assert len(units_valid_on(conn, dt.date(2025, 6, 30))) == 63
    assert len(units_valid_on(conn, dt.date(2025, 7, 1))) == 34
    assert len(units_valid_on(conn, dt.date(2015, 1, 1))) == 63
    assert "VN-HN" in units_valid_on(conn, dt.date(2020, 1, 1))
    assert "VN34-HA-NOI" in units_valid_on(conn, dt.date(2026, 1, 1))


def test_names_levels_and_codes(conn):
    rows = {
        r.code: r
        for r in conn.execute(sa.text("SELECT code, name_vi, name_en, level FROM admin_units"))
    }
    assert rows["VN-SG"].name_vi == "TP. Hồ Chí Minh"
    assert rows["VN-SG"].name_en == "Ho Chi Minh City"
    assert rows["VN-SG"].level == "municipality"
    assert rows["VN34-HO-CHI-MINH"].name_vi == "Thành phố Hồ Chí Minh"
    assert rows["VN34-HUE"].level == "municipality"  # Huế became a municipality
    assert rows["VN-26"].name_vi == "Thừa Thiên Huế" and rows["VN-26"].level == "province"
    # the crosswalk corrects the source's typos ("Quản Bình", "Cần Thơn")
    names = {r.name_vi for r in rows.values()}
    assert "Quảng Bình" in names and "Quản Bình" not in names
    assert sum(r.level == "municipality" for c, r in rows.items() if c.startswith("VN34-")) == 6


def test_lineage_matches_the_crosswalk(conn, shared_data):
    crosswalk = read_crosswalk(shared_data / CROSSWALK)
    lineage = conn.execute(
        sa.text(
            "SELECT p.code AS old, s.name_vi AS new, l.effective_date FROM admin_unit_lineage l "
            "JOIN admin_units p ON p.id = l.predecessor_id "
            "JOIN admin_units s ON s.id = l.successor_id"
        )
    ).all()
    assert len(lineage) == 63
    assert {r.effective_date for r in lineage} == {dt.date(2025, 7, 1)}
    by_old = {r.old: r.new for r in lineage}
    for row in crosswalk.values():
        expected = (
            row["ten_tinh_34"].replace("TP HCM", "TP Hồ Chí Minh").replace("TP ", "Thành phố ")
        )
        assert by_old[row["iso_3166_2"]] == expected
    # 11 units kept their territory, 17 joined two provinces and 6 joined three
    sizes = sorted(list(by_old.values()).count(n) for n in set(by_old.values()))
    assert sizes.count(1) == 11 and sizes.count(2) == 17 and sizes.count(3) == 6


def test_each_new_unit_is_the_union_of_its_old_provinces(conn):
    rows = conn.execute(
        sa.text(
            """
            SELECT s.code,
                   ST_Area(ST_SymDifference(s.geom, ST_Union(p.geom))::geography)
                       / ST_Area(s.geom::geography) AS mismatch
            FROM admin_unit_lineage l
            JOIN admin_units s ON s.id = l.successor_id
            JOIN admin_units p ON p.id = l.predecessor_id
            GROUP BY s.code, s.geom
            """
        )
    ).all()
    assert len(rows) == 34
    worst = max(rows, key=lambda r: r.mismatch)
    assert worst.mismatch < 1e-4, worst


def test_areas_agree_with_an_independent_computation(conn, shared_data):
    """Our equal-area hectares against geopandas in another equal-area CRS (LAEA on Vietnam)."""
    frame = gpd.read_file(shared_data / ODV_34)
    laea = "+proj=laea +lat_0=16 +lon_0=106 +datum=WGS84 +units=m"
    expected = dict(zip(frame["ten_tinh"], frame.to_crs(laea).area / 1e4, strict=True))
    ours = dict(
        conn.execute(
            sa.text("SELECT name_vi, area_ha FROM admin_units WHERE valid_from = '2025-07-01'")
        ).all()
    )
    assert ours["Lâm Đồng"] == pytest.approx(expected["Lâm Đồng"], rel=1e-3)
    assert ours["Thành phố Hà Nội"] == pytest.approx(expected["TP Hà Nội"], rel=1e-3)
    assert ours["Thành phố Hồ Chí Minh"] == pytest.approx(expected["TP HCM"], rel=1e-3)


def test_reload_is_idempotent(conn, shared_data):
    before = conn.execute(
        sa.text("SELECT count(*), max(id), max(updated_at) FROM admin_units")
    ).one()
    counts = load_vietnam_provinces(conn, shared_data)
    after = conn.execute(
        sa.text("SELECT count(*), max(id), max(updated_at) FROM admin_units")
    ).one()
    assert counts["unchanged"] == 1
    assert before == after
    assert conn.execute(sa.text("SELECT count(*) FROM admin_unit_lineage")).scalar() == 63


def test_datasets_record_the_lineage(conn, shared_data):
    import hashlib

    row = (
        conn.execute(sa.text("SELECT * FROM datasets WHERE code = 'admin-units-34-2025'"))
        .mappings()
        .one()
    )
    assert row["source_sha256"] == hashlib.sha256((shared_data / ODV_34).read_bytes()).hexdigest()
    assert row["n_loaded"] == 34
    assert row["target_layer"] == "admin_units"
