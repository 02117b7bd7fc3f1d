"""Gap analysis of threatened and priority-protected species, against geopandas/shapely."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.analysis import independent

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def truth(engine):  # type: ignore[no-untyped-def]
    points = independent.occurrences(engine, "public")  # the client asks as the public
    species = independent.species_of(engine)
    points["species"] = [species[int(t)] for t in points["taxon_id"]]
    points["event_date"] = pd.to_datetime(points["event_date"])
    statuses = pd.read_sql("SELECT taxon_id, list, category FROM taxon_statuses", engine)
    flagged = (
        statuses["list"].isin(["iucn_red_list", "vn_red_data_book"])
        & statuses["category"].isin(["CR", "EN", "VU"])
    ) | (statuses["list"] == "priority_protected")
    # species-level taxa that are their own species (accepted, of species rank)
    listed = {int(t) for t in statuses.loc[flagged, "taxon_id"] if species.get(int(t)) == int(t)}
    pas = independent.areas(engine, "protected_areas")
    inside_ids = set(points.loc[independent.inside(points, pas)["point"].unique(), "id"])
    return points, listed, inside_ids


def expected_gaps(
    points: pd.DataFrame, listed: set[int], inside_ids: set[int], as_of: dt.date | None
) -> dict[int, tuple[int, int, float | None]]:
    """species -> (records, records inside, share outside)"""
    if as_of is not None:
        points = points[points["event_date"] <= pd.Timestamp(as_of)]
    out: dict[int, tuple[int, int, float | None]] = {s: (0, 0, None) for s in listed}
    mine = points[points["species"].isin(listed)]
    for species, group in mine.groupby("species"):
        n = len(group)
        inside = int(group["id"].isin(inside_ids).sum())
        out[int(species)] = (n, inside, (n - inside) / n)
    return out


@pytest.mark.parametrize("as_of", [None, "2016-12-31"])
def test_gap_analysis_agrees_with_geopandas(client, truth, as_of) -> None:  # type: ignore[no-untyped-def]
    points, listed, inside_ids = truth
    url = "/api/gap-analysis" + (f"?as_of={as_of}" if as_of else "")
    body = client.get(url).json
    day = dt.date.fromisoformat(as_of) if as_of else None
    expected = expected_gaps(points, listed, inside_ids, day)
    got = {t["taxon_id"]: t for t in body["taxa"]}
    assert set(got) == listed
    for species, (records, inside, share) in expected.items():
        row = got[species]
        assert (row["records"], row["records_inside"]) == (records, inside), species
        assert row["records_outside"] == records - inside
        if share is None:
            assert row["share_outside"] is None
        else:
            assert row["share_outside"] == pytest.approx(share, abs=1e-6)
        assert row["none_inside"] == (records > 0 and inside == 0)
        assert row["threatened"] or row["priority_protected"]
    summary = body["summary"]
    assert sorted(summary["none_inside"]) == sorted(
        got[s]["scientific_name"] for s, (n, i, _) in expected.items() if n and not i
    )
    assert summary["records"] == sum(n for n, _, _ in expected.values()) > 0
    assert summary["records_outside"] == sum(n - i for n, i, _ in expected.values())
    # the gaps come first
    flags = [t["none_inside"] for t in body["taxa"]]
    assert flags == sorted(flags, reverse=True)


def test_a_species_recorded_only_outside_is_a_gap(client, engine, truth) -> None:  # type: ignore[no-untyped-def]
    """A listed species with records only at sea, far from every protected area, is flagged."""
    _, listed, _ = truth
    body = client.get("/api/gap-analysis").json
    candidates = [t for t in body["taxa"] if t["taxon_id"] in listed and t["records"] == 0]
    if not candidates:
        pytest.fail("the demo data has no listed species without records to test with")
    species = candidates[0]
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, "
                    "event_date, geom) VALUES (:o, :t, 'HumanObservation', '2024-05-01', "
                    "ST_SetSRID(ST_MakePoint(:x, 12.5), 4326))"
                ),
                {"o": f"gap-test:{i}", "t": species["taxon_id"], "x": 113.0 + i / 10},
            )
    try:
        after = client.get("/api/gap-analysis").json
        row = next(t for t in after["taxa"] if t["taxon_id"] == species["taxon_id"])
        assert (row["records"], row["records_inside"], row["share_outside"]) == (3, 0, 1.0)
        assert row["none_inside"] and species["scientific_name"] in after["summary"]["none_inside"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'gap-test:%'"))


def test_gap_analysis_as_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/gap-analysis?f=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *lines = response.data.decode("utf-8-sig").splitlines()
    assert header.startswith("taxon_id,scientific_name,") and "share_outside" in header
    assert len(lines) == client.get("/api/gap-analysis").json["summary"]["taxa"]


def test_gap_analysis_bad_requests(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "/api/gap-analysis?as_of=2024-02-30": "as_of='2024-02-30'",
        "/api/gap-analysis?as_of=31/12/2024": "as_of='31/12/2024'",
        "/api/gap-analysis?status=cites:IV": "no category 'IV'",
        "/api/gap-analysis?f=xlsx": "f='xlsx'",
    }
    for url, words in cases.items():
        response = client.get(url)
        assert response.status_code == 400, url
        assert words in response.json["description"], (url, response.json)
