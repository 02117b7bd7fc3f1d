"""Species in a protected area and protected areas of a taxon, against geopandas/shapely."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.analysis import independent

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def truth(engine):  # type: ignore[no-untyped-def]
    points = independent.occurrences(engine, "public")  # the client asks as the public
    pas = independent.areas(engine, "protected_areas")
    pairs = independent.inside(points, pas)
    species = independent.species_of(engine)
    records = points.loc[pairs["point"]].assign(
        code=pas.loc[pairs["polygon"], "code"].to_numpy(),
        species=[species[t] for t in points.loc[pairs["point"], "taxon_id"]],
    )
    return points, pas, records, species


def expected_species(records: pd.DataFrame, code: str) -> dict[int, tuple[int, str, str]]:
    mine = records[(records["code"] == code) & records["species"].notna()]
    grouped = mine.groupby("species").agg(
        n=("id", "count"), first=("event_date", "min"), last=("event_date", "max")
    )
    return {
        int(s): (int(r.n), r.first.isoformat() if pd.notna(r.first) else None,
                 r.last.isoformat() if pd.notna(r.last) else None)
        for s, r in grouped.iterrows()
    }  # fmt: skip


def test_species_in_protected_areas_agree_with_geopandas(client, truth) -> None:  # type: ignore[no-untyped-def]
    _, pas, records, _ = truth
    busiest = records["code"].value_counts()
    # the busiest areas, one from the middle and one with few records
    codes = [*busiest.index[:2], busiest.index[len(busiest) // 2], busiest.index[-1]]
    for code in codes:
        body = client.get(f"/api/protected-areas/{code}/species").json
        got = {
            s["taxon_id"]: (s["records"], s["first_record"], s["last_record"])
            for s in body["species"]
        }
        assert got == expected_species(records, code), code
        assert body["summary"]["species"] == len(got) > 0


def test_a_multipolygon_with_a_hole_and_records_on_its_boundary(client, engine) -> None:  # type: ignore[no-untyped-def]
    """A record on the outer ring or on the hole's ring is inside (boundary rule); one in the
    hole or outside is not; the second polygon of the multipolygon counts too."""
    shape = (
        "MULTIPOLYGON(((106.00 10.00, 106.10 10.00, 106.10 10.10, 106.00 10.10, 106.00 10.00),"
        "(106.04 10.04, 106.06 10.04, 106.06 10.06, 106.04 10.06, 106.04 10.04)),"
        "((106.20 10.00, 106.22 10.00, 106.22 10.02, 106.20 10.02, 106.20 10.00)))"
    )
    points = {
        "on-outer-edge": (106.05, 10.00, True),
        "on-outer-vertex": (106.10, 10.10, True),
        "on-hole-edge": (106.05, 10.04, True),
        "in-hole": (106.05, 10.05, False),
        "inside": (106.02, 10.02, True),
        "second-part": (106.21, 10.01, True),
        "outside": (106.15, 10.05, False),
    }
    with engine.begin() as conn:
        # a species without statuses, so not sensitive: the public sees its exact points
        species_id = conn.execute(
            sa.text(
                "SELECT id FROM taxa t WHERE rank = 'species' AND NOT EXISTS "
                "(SELECT 1 FROM taxon_statuses s WHERE s.taxon_id = t.id) ORDER BY id LIMIT 1"
            )
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, "
                "iucn_category, status, geom) VALUES ('PA-TEST-HOLE', 'Thử', 'Test', "
                "'nature_reserve', 'Ia', 'designated', ST_GeomFromText(:g, 4326))"
            ),
            {"g": shape},
        )
        for name, (lon, lat, _) in points.items():
            conn.execute(
                sa.text(
                    "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, "
                    "event_date, geom) VALUES (:o, :t, 'HumanObservation', '2024-05-01', "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"o": f"hole-test:{name}", "t": species_id, "x": lon, "y": lat},
            )
    try:
        body = client.get("/api/protected-areas/PA-TEST-HOLE/species").json
        (row,) = body["species"]
        assert row["taxon_id"] == species_id
        assert row["records"] == sum(inside for _, _, inside in points.values()) == 5
        # the same answer from shapely, which covers() the boundary too
        from shapely import wkt
        from shapely.geometry import Point

        polygon = wkt.loads(shape)
        assert sum(polygon.covers(Point(x, y)) for x, y, _ in points.values()) == 5
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'hole-test:%'"))
            conn.execute(sa.text("DELETE FROM protected_areas WHERE code = 'PA-TEST-HOLE'"))
    assert client.get("/api/protected-areas/PA-TEST-HOLE/species").status_code == 404


def test_filters_zone_and_as_of(client, engine, truth) -> None:  # type: ignore[no-untyped-def]
    points, pas, records, _ = truth
    code = records["code"].value_counts().index[0]
    everything = client.get(f"/api/protected-areas/{code}/species").json
    threatened = client.get(f"/api/protected-areas/{code}/species?threatened=true").json
    assert threatened["summary"]["species"] == everything["summary"]["threatened"]
    assert all(
        s["statuses"].get("iucn_red_list") in ("CR", "EN", "VU")
        or s["statuses"].get("vn_red_data_book") in ("CR", "EN", "VU")
        for s in threatened["species"]
    )
    # as of a date: only records made by then
    dated = client.get(f"/api/protected-areas/{code}/species?as_of=2015-12-31").json
    mine = records[(records["code"] == code) & records["species"].notna()]
    early = mine[pd.to_datetime(mine["event_date"]) <= pd.Timestamp("2015-12-31")]
    assert dated["summary"]["records"] == len(early)
    # one zone type: the records in this area's strictly protected zones
    zones = independent.areas(engine, "pa_zones")
    area_id = int(pas.loc[pas["code"] == code, "id"].iloc[0])
    strict = zones[
        (zones["protected_area_id"] == area_id) & (zones["zone_type"] == "strictly_protected")
    ]
    in_zone = independent.inside(points, strict)
    species = independent.species_of(engine)
    expected = sum(species[points.loc[i, "taxon_id"]] is not None for i in set(in_zone["point"]))
    zoned = client.get(f"/api/protected-areas/{code}/species?zone_type=strictly_protected").json
    assert zoned["summary"]["records"] == expected


def test_protected_areas_of_a_taxon(client, truth) -> None:  # type: ignore[no-untyped-def]
    points, pas, records, species = truth
    taxon = int(records["species"].value_counts().index[0])
    body = client.get(f"/api/taxa/{taxon}/protected-areas").json
    of_taxon = points[[species[t] == taxon for t in points["taxon_id"]]]
    assert body["records"] == len(of_taxon)
    mine = records[records["species"] == taxon]
    assert {a["code"]: a["records"] for a in body["areas"]} == mine["code"].value_counts().to_dict()
    assert body["records_inside_any"] == mine["id"].nunique()
    assert body["share_inside_any"] == pytest.approx(mine["id"].nunique() / len(of_taxon), abs=1e-6)


def test_bad_requests_name_the_problem(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "/api/protected-areas/NOWHERE/species": (404, "no protected area 'NOWHERE'"),
        "/api/taxa/987654321/protected-areas": (404, "no taxon 987654321"),
        "/api/protected-areas/PA-CUC-PHUONG/species?as_of=2020-02-30": (400, "as_of="),
        "/api/protected-areas/PA-CUC-PHUONG/species?zone_type=core": (400, "zone_type 'core'"),
        "/api/protected-areas/PA-CUC-PHUONG/species?status=iucn_red_list:XX": (400, "no category"),
        "/api/protected-areas/PA-CUC-PHUONG/species?endemic=maybe": (400, "endemic='maybe'"),
        "/api/protected-areas/PA-CUC-PHUONG/species?f=xml": (400, "f='xml'"),
    }
    for url, (status, words) in cases.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert words in response.json["description"], (url, response.json)


def test_species_as_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/protected-areas/PA-CUC-PHUONG/species?f=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    header, *lines = text.splitlines()
    assert header.startswith("taxon_id,scientific_name,") and "vn_red_data_book" in header
    json_body = client.get("/api/protected-areas/PA-CUC-PHUONG/species").json
    assert len(lines) == json_body["summary"]["species"]


def test_taxa_search(client, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        name, vernacular = conn.execute(
            sa.text(
                "SELECT scientific_name, vernacular_name_vi FROM taxa "
                "WHERE rank = 'species' AND vernacular_name_vi IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).one()
    found = client.get(f"/api/taxa?q={name.split()[1]}").json["taxa"]
    assert name in [t["scientific_name"] for t in found]
    by_vernacular = client.get("/api/taxa", query_string={"q": vernacular}).json["taxa"]
    assert vernacular in [t["vernacular_name_vi"] for t in by_vernacular]
    # LIKE's wildcards are text here, not patterns
    assert client.get("/api/taxa?q=%25_").json["taxa"] == []
    assert client.get("/api/taxa?q=a").status_code == 400
    assert client.get("/api/taxa?q=ab&limit=500").status_code == 400
