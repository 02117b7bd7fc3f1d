"""Export filters, checked against an independent computation with geopandas/shapely."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from vbis_geo.errors import NotFound
from vbis_geo.export import ExportFilters, export_layer, read_layer

pytestmark = [pytest.mark.db, pytest.mark.shared_data]

ODV = "vn-provinces-63-odv/vn_provinces_63_odv.geojson"
UNITS_34 = "vn-provinces-34-2025/diaphantinhvn_merged.geojson"


def test_province_filter(conn, shared_data: Path) -> None:
    everything = read_layer(conn, "occurrences", ExportFilters())
    points = everything.geometry.values

    def ids_in(polygon) -> set[str]:  # type: ignore[no-untyped-def]
        return set(everything.occurrence_id[shapely.intersects(polygon, points)])

    # a name is today's unit: Ninh Bình of 2025 (with the former Hà Nam and Nam Định)
    units = gpd.read_file(shared_data / UNITS_34)
    current = units[units.ten_tinh == "Ninh Bình"].geometry.iloc[0]
    got = read_layer(conn, "occurrences", ExportFilters(province="Ninh Bình"))
    assert set(got.occurrence_id) == ids_in(current) != set()
    # an ISO 3166-2 code is the province before 2025
    provinces = gpd.read_file(shared_data / ODV)
    old = provinces[provinces.ten_tinh == "Ninh Bình"].geometry.iloc[0]
    got = read_layer(conn, "occurrences", ExportFilters(province="VN-18"))
    assert set(got.occurrence_id) == ids_in(old) != set()
    assert ids_in(old) < ids_in(current)


def test_protected_area_and_bbox_filters(conn, tmp_path: Path) -> None:
    zones = read_layer(conn, "pa_zones", ExportFilters(protected_area="PA-CUC-PHUONG"))
    expected = (
        conn.execute(
            sa.text(
                "SELECT z.code FROM pa_zones z "
                "JOIN protected_areas p ON p.id = z.protected_area_id "
                "WHERE p.code = 'PA-CUC-PHUONG'"
            )
        )
        .scalars()
        .all()
    )
    assert sorted(zones.code) == sorted(expected) and len(expected) > 0
    box = (105.5, 20.2, 105.8, 20.4)
    inside = read_layer(conn, "protected_areas", ExportFilters(bbox_4326=box))
    assert "PA-CUC-PHUONG" in set(inside.code)
    assert all(shapely.intersects(shapely.box(*box), g) for g in inside.geometry)
    with pytest.raises(NotFound, match="no protected area with code 'PA-NOWHERE'"):
        export_layer(
            conn,
            "pa_zones",
            "gpkg",
            tmp_path / "x.gpkg",
            ExportFilters(protected_area="PA-NOWHERE"),
        )


def test_taxon_filter_includes_lower_ranks(conn) -> None:
    primates = read_layer(conn, "occurrences", ExportFilters(taxon="Primates"))
    assert len(primates) > 0 and set(primates["order"]) == {"Primates"}
    expected = conn.execute(
        sa.text(
            "WITH RECURSIVE sub AS (SELECT id FROM taxa WHERE scientific_name = 'Primates' "
            "UNION SELECT t.id FROM taxa t JOIN sub ON t.parent_id = sub.id) "
            "SELECT count(*) FROM occurrences WHERE taxon_id IN (SELECT id FROM sub)"
        )
    ).scalar_one()
    assert len(primates) == expected
