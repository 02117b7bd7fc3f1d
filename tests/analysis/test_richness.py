"""Species richness per province (63 and 34), per protected area and per grid cell, against an
independent geopandas/shapely/pyproj computation on the test database's real provinces."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape

from tests.analysis import independent
from vbis_geo.analysis import richness

pytestmark = pytest.mark.db

THREATENED = ("CR", "EN", "VU")


def threatened_species(engine) -> set[int]:  # type: ignore[no-untyped-def]
    statuses = pd.read_sql("SELECT taxon_id, list, category FROM taxon_statuses", engine)
    keep = statuses["list"].isin(["iucn_red_list", "vn_red_data_book"]) & statuses["category"].isin(
        THREATENED
    )
    return {int(t) for t in statuses.loc[keep, "taxon_id"]}


@pytest.fixture(scope="module")
def truth(engine):  # type: ignore[no-untyped-def]
    points = independent.occurrences(engine, "public")  # the client asks as the public
    species = independent.species_of(engine)
    points["species"] = [species[int(t)] for t in points["taxon_id"]]
    points = points[points["species"].notna()].copy()
    points["species"] = points["species"].astype(int)
    points["event_date"] = pd.to_datetime(points["event_date"])
    return points, threatened_species(engine)


def expected_per_area(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, threatened: set[int], as_of: dt.date | None
) -> dict[str, tuple[int, int, int]]:
    """code -> (species, threatened species, records), every area (zeros included)."""
    if as_of is not None:
        points = points[points["event_date"] <= pd.Timestamp(as_of)]
    pairs = independent.inside(points, areas)
    rows = points.loc[pairs["point"]].assign(code=areas.loc[pairs["polygon"], "code"].to_numpy())
    out = {code: (0, 0, 0) for code in areas["code"]}
    for code, group in rows.groupby("code"):
        kinds = set(group["species"])
        out[code] = (len(kinds), len(kinds & threatened), len(group))
    return out


def in_force(areas: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    start = areas["valid_from"].isna() | (pd.to_datetime(areas["valid_from"]) <= pd.Timestamp(day))
    end = areas["valid_to"].isna() | (pd.to_datetime(areas["valid_to"]) >= pd.Timestamp(day))
    return areas[start & end]


def got_per_area(body: dict) -> dict[str, tuple[int, int, int]]:
    return {
        f["id"]: (
            f["properties"]["species"],
            f["properties"]["threatened_species"],
            f["properties"]["records"],
        )
        for f in body["features"]
    }


@pytest.mark.parametrize(
    ("as_of", "units"),
    [("2020-06-01", 63), ("2025-06-30", 63), ("2025-07-01", 34), (None, 34)],
)
def test_richness_per_province_63_then_34(client, engine, truth, as_of, units) -> None:  # type: ignore[no-untyped-def]
    points, threatened = truth
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    provinces = in_force(independent.areas(engine, "admin_units"), day)
    assert len(provinces) == units
    url = "/api/richness?by=province" + (f"&as_of={as_of}" if as_of else "")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.json
    assert body["type"] == "FeatureCollection" and len(body["features"]) == units
    expected = expected_per_area(points, provinces, threatened, day if as_of else None)
    assert got_per_area(body) == expected
    assert sum(r for _, _, r in expected.values()) > 0
    # geometry in lon/lat, the province's own
    first = body["features"][0]
    polygon = shape(first["geometry"])
    stored = provinces.set_index("code").loc[first["id"], "geom"]
    assert polygon.symmetric_difference(stored).area < 1e-3 * stored.area


def test_richness_per_protected_area_lists_every_area(client, engine, truth) -> None:  # type: ignore[no-untyped-def]
    points, threatened = truth
    pas = in_force(independent.areas(engine, "protected_areas"), dt.date.today())
    body = client.get("/api/richness?by=protected_area").json
    expected = expected_per_area(points, pas, threatened, None)
    assert got_per_area(body) == expected
    # the taxon filters of the other questions apply: only threatened species
    only = client.get("/api/richness?by=protected_area&threatened=true").json
    for feature in only["features"]:
        props = feature["properties"]
        assert props["species"] == props["threatened_species"] == expected[feature["id"]][1]


def ease_cells(points: gpd.GeoDataFrame, cell_km: float) -> pd.DataFrame:
    """Each point's cell of the EPSG:6933 grid, by pyproj (independent of richness.py); a point
    on a cell's edge, to the millimetre, is in the cell east (north) of it: the public's
    generalised points are centres of 1, 10 or 25 km cells, on the edges of smaller cells."""
    projected = points.to_crs(6933)
    cell_mm = cell_km * 1_000_000
    return points.assign(
        ix=np.floor(np.round(projected.geometry.x * 1000) / cell_mm).astype(int),
        iy=np.floor(np.round(projected.geometry.y * 1000) / cell_mm).astype(int),
    )


def expected_cells(
    cells: pd.DataFrame, threatened: set[int]
) -> dict[tuple[int, int], tuple[int, int, int]]:
    out = {}
    for (ix, iy), group in cells.groupby(["ix", "iy"]):
        kinds = set(group["species"])
        out[(int(ix), int(iy))] = (len(kinds), len(kinds & threatened), len(group))
    return out


def got_cells(body: dict) -> dict[tuple[int, int], tuple[int, int, int]]:
    return {
        (f["properties"]["ix"], f["properties"]["iy"]): (
            f["properties"]["species"],
            f["properties"]["threatened_species"],
            f["properties"]["records"],
        )
        for f in body["features"]
    }


def test_richness_per_grid_cell(client, truth) -> None:  # type: ignore[no-untyped-def]
    points, threatened = truth
    body = client.get("/api/richness?by=grid").json  # 10 km by default
    assert body["cell_km"] == 10 and body["equal_area_crs"] == "EPSG:6933"
    cells = ease_cells(points, 10)
    expected = expected_cells(cells, threatened)
    assert got_cells(body) == expected
    # the busiest cell, one from the middle and a cell with one record: their polygons hold
    # their records, and each is 100 km2 in the equal-area CRS
    ranked = sorted(expected, key=lambda k: -expected[k][2])
    by_key = {(f["properties"]["ix"], f["properties"]["iy"]): f for f in body["features"]}
    for key in (ranked[0], ranked[len(ranked) // 2], ranked[-1]):
        feature = by_key[key]
        assert feature["id"] == f"10kmE{key[0]}N{key[1]}"
        polygon = shape(feature["geometry"])
        mine = cells[(cells["ix"] == key[0]) & (cells["iy"] == key[1])]
        assert all(polygon.buffer(1e-7).covers(p) for p in mine.geometry)
        area_m2 = gpd.GeoSeries([polygon], crs=4326).to_crs(6933).area.iloc[0]
        assert area_m2 == pytest.approx(1e8, rel=1e-6)


def test_richness_per_grid_cell_in_a_bbox_counts_whole_cells(client, truth) -> None:  # type: ignore[no-untyped-def]
    points, threatened = truth
    # a bbox around the busiest 0.1-degree square, with 5 km cells
    lon0, lat0 = (
        pd.DataFrame({"x": np.floor(points.geometry.x * 10), "y": np.floor(points.geometry.y * 10)})
        .value_counts()
        .index[0]
    )
    bbox = (lon0 / 10 - 0.23, lat0 / 10 - 0.17, lon0 / 10 + 0.31, lat0 / 10 + 0.27)
    to_ease = Transformer.from_crs(4326, 6933, always_xy=True)
    (x0, x1), (y0, y1) = to_ease.transform([bbox[0], bbox[2]], [bbox[1], bbox[3]])
    span = (
        math.floor(x0 / 5000),
        math.floor(y0 / 5000),
        math.ceil(x1 / 5000),
        math.ceil(y1 / 5000),
    )
    cells = ease_cells(points, 5)
    cells = cells[
        (cells["ix"] >= span[0])
        & (cells["ix"] < span[2])
        & (cells["iy"] >= span[1])
        & (cells["iy"] < span[3])
    ]
    url = "/api/richness?by=grid&cell_km=5&bbox=" + ",".join(str(v) for v in bbox)
    body = client.get(url).json
    assert got_cells(body) == expected_cells(cells, threatened)
    assert len(body["features"]) > 3
    # cells on the bbox's edge are whole: they hold records outside the bbox too
    box = shape(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    (bbox[0], bbox[1]),
                    (bbox[2], bbox[1]),
                    (bbox[2], bbox[3]),
                    (bbox[0], bbox[3]),
                    (bbox[0], bbox[1]),
                ]
            ],
        }
    )
    assert any(not box.covers(Point(p.x, p.y)) for p in cells.geometry)


def test_the_grid_formulas_are_epsg_6933() -> None:
    to_ease = Transformer.from_crs(4326, 6933, always_xy=True)
    for lon in (-179.9, -20.0, 0.0, 102.1, 105.85, 109.5, 117.3):
        for lat in (-80.0, -10.0, 0.0, 6.9, 8.4, 16.0, 21.03, 23.4, 80.0):
            x, y = to_ease.transform(lon, lat)
            assert richness.ease_x_m(lon) == pytest.approx(x, abs=1e-6)
            assert richness.ease_y_m(lat) == pytest.approx(y, abs=1e-6)


def test_richness_as_csv(client) -> None:  # type: ignore[no-untyped-def]
    for by, header in (
        ("province", "code,name_vi,name_en,area_ha,species,threatened_species,records"),
        ("protected_area", "code,name_vi,name_en,area_ha,species,threatened_species,records"),
        ("grid", "cell,ix,iy,species,threatened_species,records"),
    ):
        response = client.get(f"/api/richness?by={by}&f=csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        first, *lines = response.data.decode("utf-8-sig").splitlines()
        assert first == header
        assert len(lines) == len(client.get(f"/api/richness?by={by}").json["features"])


def test_richness_bad_requests_name_the_problem(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "/api/richness": "by is required",
        "/api/richness?by=district": "by='district': expected one of protected_area, province",
        "/api/richness?by=grid&cell_km=0": "cell_km='0': expected a number of km from 1 to 100",
        "/api/richness?by=grid&cell_km=500": "cell_km='500'",
        "/api/richness?by=grid&cell_km=ten": "cell_km='ten'",
        "/api/richness?by=grid&cell_km=nan": "cell_km='nan'",
        "/api/richness?by=grid&cell_km=1": "cuts Vietnam into",
        "/api/richness?by=grid&cell_km=1&bbox=100,5,120,25": "cuts the bbox into",
        "/api/richness?by=grid&bbox=106,21,105,22": "bbox='106,21,105,22'",
        "/api/richness?by=province&bbox=a,b,c,d": "bbox='a,b,c,d'",
        "/api/richness?by=province&as_of=2025-02-30": "as_of='2025-02-30'",
        "/api/richness?by=province&as_of=yesterday": "as_of='yesterday'",
        "/api/richness?by=province&class=Aves&endemic=perhaps": "endemic='perhaps'",
        "/api/richness?by=province&f=shp": "f='shp'",
    }
    for url, words in cases.items():
        response = client.get(url)
        assert response.status_code == 400, url
        assert words in response.json["description"], (url, response.json)


def test_richness_follows_an_edit_at_once(client, engine) -> None:  # type: ignore[no-untyped-def]
    """The stored per-area species counts (migration 0007) are recounted after any change."""
    import sqlalchemy as sa

    def species_in(code: str) -> int:
        body = client.get("/api/richness?by=protected_area&f=csv").data.decode("utf-8-sig")
        header, *rows = [line.split(",") for line in body.splitlines()]
        row = next(r for r in rows if r[header.index("code")] == code)
        return int(row[header.index("species")])

    with engine.connect() as conn:
        code, lon, lat = conn.execute(
            sa.text(
                "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                "FROM protected_areas ORDER BY code LIMIT 1"
            )
        ).one()
        absent = conn.execute(
            sa.text(
                "SELECT t.id FROM taxa t WHERE t.rank = 'species' AND NOT EXISTS ("
                "SELECT 1 FROM occurrences o JOIN analysis.occurrence_areas a "
                "ON a.occurrence_id = o.id JOIN protected_areas p ON p.id = a.area_id "
                "AND a.layer = 'protected_areas' WHERE p.code = :c AND o.taxon_id = t.id) "
                "ORDER BY t.id LIMIT 1"
            ),
            {"c": code},
        ).scalar_one()
    before = species_in(code)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                "VALUES ('richness-edit:1', :t, 'HumanObservation', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"t": absent, "x": lon, "y": lat},
        )
    try:
        assert species_in(code) == before + 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id = 'richness-edit:1'"))
    assert species_in(code) == before
