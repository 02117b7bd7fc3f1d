"""Each audience's answers against an independent computation of what it sees: the public's
from the generalised points (pyproj, tests/analysis/independent.py), an account with the right
to exact locations (the national admin) from the exact points; published records only, for both.

Each test first checks that the two audiences' expected answers differ on the demo data (some
sensitive records' generalised points lie in another area or cell than their exact points), so
that an answer computed for the wrong audience fails.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely
from shapely.geometry import mapping

from tests import sensitive_site
from tests.analysis import independent
from tests.analysis.test_gap_analysis import expected_gaps
from tests.analysis.test_richness import (
    ease_cells,
    expected_cells,
    expected_per_area,
    got_cells,
    got_per_area,
    in_force,
    threatened_species,
)
from tests.analysis.test_species_questions import expected_species

pytestmark = pytest.mark.db

headers = sensitive_site.headers
#: the asker of each audience (sensitive_site.headers)
ASKER = {"exact": "admin", "public": "public"}


@pytest.fixture(scope="module")
def truths(engine):  # type: ignore[no-untyped-def]
    """audience -> its records (with ``species``), as independent.occurrences gives them."""
    species = independent.species_of(engine)
    out = {}
    for audience in independent.AUDIENCES:
        points = independent.occurrences(engine, audience)
        points["species"] = [species[int(t)] for t in points["taxon_id"]]
        out[audience] = points
    moved = out["public"]["level_km"] > 0
    assert moved.sum() > 100  # the demo has sensitive records
    assert (out["public"].geometry[moved] != out["exact"].geometry[moved]).all()
    return out


def ask(client, headers, audience: str, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url, headers=headers[ASKER[audience]])
    assert response.status_code == 200, response.json
    assert response.json.get("audience") == audience
    return response.json


def test_species_in_protected_areas(client, engine, truths, headers) -> None:  # type: ignore[no-untyped-def]
    pas = independent.areas(engine, "protected_areas")
    expected = {}
    for audience, points in truths.items():
        pairs = independent.inside(points, pas)
        expected[audience] = points.loc[pairs["point"]].assign(
            code=pas.loc[pairs["polygon"], "code"].to_numpy()
        )
    # the areas where the audiences' species lists differ, and the busiest one
    codes = [
        code
        for code in pas["code"]
        if expected_species(expected["exact"], code) != expected_species(expected["public"], code)
    ]
    assert codes, "no protected area where the generalised points change the answer"
    codes = [*codes[:4], expected["exact"]["code"].value_counts().index[0]]
    for code in codes:
        for audience, records in expected.items():
            body = ask(client, headers, audience, f"/api/protected-areas/{code}/species")
            got = {
                s["taxon_id"]: (s["records"], s["first_record"], s["last_record"])
                for s in body["species"]
            }
            assert got == expected_species(records, code), (code, audience)


@pytest.mark.parametrize("by", ["province", "protected_area"])
@pytest.mark.parametrize("as_of", [None, "2020-06-01"])
def test_richness_per_area(client, engine, truths, headers, by, as_of) -> None:  # type: ignore[no-untyped-def]
    """Without a date from the stored per-area counts of each audience, with one from the
    records: each audience's own."""
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    table = "admin_units" if by == "province" else "protected_areas"
    areas = in_force(independent.areas(engine, table), day)
    threatened = threatened_species(engine)
    expected = {}
    for audience, points in truths.items():
        points = points[points["species"].notna()].copy()
        points["species"] = points["species"].astype(int)
        points["event_date"] = pd.to_datetime(points["event_date"])
        expected[audience] = expected_per_area(points, areas, threatened, day if as_of else None)
    assert expected["exact"] != expected["public"]
    for audience in truths:
        url = f"/api/richness?by={by}" + (f"&as_of={as_of}" if as_of else "")
        assert got_per_area(ask(client, headers, audience, url)) == expected[audience], audience


def test_richness_per_grid_cell(client, engine, truths, headers) -> None:  # type: ignore[no-untyped-def]
    threatened = threatened_species(engine)
    kept = {}
    for audience, points in truths.items():
        points = points[points["species"].notna()].copy()
        points["species"] = points["species"].astype(int)
        kept[audience] = points
    for cell_km in (10, 5, 4):
        want = {a: expected_cells(ease_cells(p, cell_km), threatened) for a, p in kept.items()}
        # a point generalised to 1 or 10 km stays in its 10 km cell (the grids share their
        # origin); in smaller cells it moves
        assert (want["exact"] == want["public"]) is (cell_km == 10)
        for audience in truths:
            body = ask(client, headers, audience, f"/api/richness?by=grid&cell_km={cell_km:g}")
            assert got_cells(body) == want[audience], (cell_km, audience)


def test_gap_analysis(client, engine, truths, headers) -> None:  # type: ignore[no-untyped-def]
    statuses = pd.read_sql("SELECT taxon_id, list, category FROM taxon_statuses", engine)
    species = independent.species_of(engine)
    flagged = (
        statuses["list"].isin(["iucn_red_list", "vn_red_data_book"])
        & statuses["category"].isin(["CR", "EN", "VU"])
    ) | (statuses["list"] == "priority_protected")
    listed = {int(t) for t in statuses.loc[flagged, "taxon_id"] if species.get(int(t)) == int(t)}
    pas = in_force(independent.areas(engine, "protected_areas"), dt.date.today())
    expected = {}
    for audience, points in truths.items():
        points = points.copy()
        points["event_date"] = pd.to_datetime(points["event_date"])
        inside = set(points.loc[independent.inside(points, pas)["point"].unique(), "id"])
        expected[audience] = expected_gaps(points, listed, inside, None)
    assert expected["exact"] != expected["public"]
    for audience in truths:
        body = ask(client, headers, audience, "/api/gap-analysis")
        got = {t["taxon_id"]: (t["records"], t["records_inside"]) for t in body["taxa"]}
        assert got == {s: (n, i) for s, (n, i, _) in expected[audience].items()}, audience


def test_area_report_of_provinces(client, engine, truths, headers) -> None:  # type: ignore[no-untyped-def]
    """The report of each of a few provinces of the 63 (their outlines, as polygons drawn)."""
    provinces = independent.areas(engine, "admin_units")
    provinces = provinces[provinces["valid_to"].notna()].set_index("code")
    small = shapely.get_num_coordinates(provinces["geom"].to_numpy()) <= 10_000  # the limit
    provinces = provinces[small]
    differing = [
        code
        for code, polygon in provinces["geom"].items()
        if expected_species(_in(truths["exact"], polygon), "x")
        != expected_species(_in(truths["public"], polygon), "x")
    ]
    assert differing
    for code in differing[:3]:
        polygon = provinces.loc[code, "geom"]
        for audience, points in truths.items():
            response = client.post(
                "/api/area-report",
                json={"geometry": mapping(polygon)},
                headers=headers[ASKER[audience]],
            )
            assert response.status_code == 200, response.json
            body = response.json
            assert body["audience"] == audience
            got = {
                s["taxon_id"]: (s["records"], s["first_record"], s["last_record"])
                for s in body["species"]
            }
            assert got == expected_species(_in(points, polygon), "x"), (code, audience)


def _in(points, polygon):  # type: ignore[no-untyped-def]
    """The records of ``points`` inside ``polygon`` (boundary in), as expected_species reads
    them (code 'x')."""
    return points[points.intersects(polygon)].assign(code="x")
