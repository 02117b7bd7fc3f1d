"""The questions as an attacker asks them: narrowed around the exact spot of a sensitive record
(tests/sensitive_site.py), through the API and the OGC processes, as the public, an expert
without the right to exact locations, an expert with it and the national admin.

The public (and the expert without the right) must learn nothing the generalised point does not
say: the species of a tiny polygon or a small reserve around the exact spot leave the record out,
and those around the generalised point take it in; counts per cell and per area follow the
generalised point. Those with the right get the exact answers. Drafts are in no answer.
"""

from __future__ import annotations

import json

import pytest
from shapely.geometry import mapping

from tests import sensitive_site
from tests.sensitive_site import SEES_EXACT

pytestmark = pytest.mark.db

site = sensitive_site.site
headers = sensitive_site.headers

ASKERS = list(SEES_EXACT)


def species_ids(answer: dict) -> set[int]:  # type: ignore[type-arg]
    return {s["taxon_id"] for s in answer["species"]}


def no_exact_coordinate(where, response) -> None:  # type: ignore[no-untyped-def]
    """The answer's text holds neither exact coordinate, in any of the usual spellings."""
    text = response.get_data()
    for spelling in where.exact_texts():
        assert spelling not in text, spelling


@pytest.mark.parametrize("asker", ASKERS)
def test_species_of_a_reserve_around_the_exact_spot(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    exact = client.get("/api/protected-areas/PA-TEST-EXACT/species", headers=headers[asker])
    general = client.get("/api/protected-areas/PA-TEST-GENERAL/species", headers=headers[asker])
    assert exact.status_code == general.status_code == 200
    expected_audience = "exact" if SEES_EXACT[asker] else "public"
    assert exact.json["audience"] == general.json["audience"] == expected_audience
    # the control: a species without status is where it was recorded, for everyone
    assert site.common_taxon in species_ids(exact.json)
    assert site.common_taxon not in species_ids(general.json)
    if SEES_EXACT[asker]:
        assert site.secret_taxon in species_ids(exact.json)
        assert site.secret_taxon not in species_ids(general.json)
        assert exact.headers["Cache-Control"] == "private"
    else:
        assert site.secret_taxon not in species_ids(exact.json)
        assert site.secret_taxon in species_ids(general.json)
        no_exact_coordinate(site, exact)
    # the draft is nobody's
    assert site.draft_taxon not in species_ids(exact.json) | species_ids(general.json)


@pytest.mark.parametrize("asker", ASKERS)
def test_species_in_area_process_around_the_exact_spot(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    def run(code: str) -> set[int]:
        response = client.post(
            "/ogc/processes/species-in-area/execution",
            json={"inputs": {"protected_area": code}},
            headers=headers[asker],
        )
        assert response.status_code == 200, response.json
        answer = response.json.get("value", response.json)
        assert answer["audience"] == ("exact" if SEES_EXACT[asker] else "public")
        return species_ids(answer)

    at_exact, at_general = run("PA-TEST-EXACT"), run("PA-TEST-GENERAL")
    assert site.common_taxon in at_exact
    assert (site.secret_taxon in at_exact) is SEES_EXACT[asker]
    assert (site.secret_taxon in at_general) is not SEES_EXACT[asker]
    assert site.draft_taxon not in at_exact | at_general


@pytest.mark.parametrize("asker", ASKERS)
def test_area_report_of_a_tiny_polygon(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    """A 200 m square drawn around the exact spot, through the API and the process."""
    polygon = mapping(site.tiny())
    api = client.post("/api/area-report", json={"geometry": polygon}, headers=headers[asker])
    assert api.status_code == 200, api.json
    process = client.post(
        "/ogc/processes/area-report/execution",
        json={"inputs": {"polygon": polygon}},
        headers=headers[asker],
    )
    assert process.status_code == 200, process.json
    for answer in (api.json, process.json.get("value", process.json)):
        found = species_ids(answer)
        assert site.common_taxon in found
        assert (site.secret_taxon in found) is SEES_EXACT[asker]
        assert site.draft_taxon not in found
    if not SEES_EXACT[asker]:
        no_exact_coordinate(site, api)
        no_exact_coordinate(site, process)
    # around the generalised point, the public finds it
    around = client.post(
        "/api/area-report",
        json={"geometry": mapping(site.square(site.generalised, 100))},
        headers=headers[asker],
    ).json
    assert (site.secret_taxon in species_ids(around)) is not SEES_EXACT[asker]


@pytest.mark.parametrize("asker", ASKERS)
def test_protected_areas_of_the_taxon(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(
        f"/api/taxa/{site.secret_taxon}/protected-areas", headers=headers[asker]
    ).json
    codes = {a["code"] for a in answer["areas"]}
    assert answer["records"] == 1  # the draft is not counted
    assert ("PA-TEST-EXACT" in codes) is SEES_EXACT[asker]
    assert ("PA-TEST-GENERAL" in codes) is not SEES_EXACT[asker]


def cells(client, sent: dict[str, str], bbox) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """cell -> (species, threatened species) of the test species in 1 km cells of ``bbox``."""
    url = "/api/richness?by=grid&cell_km=1&class=Testida&bbox=" + ",".join(f"{v!r}" for v in bbox)
    response = client.get(url, headers=sent)
    assert response.status_code == 200, response.json
    return {
        f["id"]: (f["properties"]["species"], f["properties"]["threatened_species"])
        for f in response.json["features"]
    }


@pytest.mark.parametrize("asker", ASKERS)
def test_richness_cells_count_by_the_point_the_asker_sees(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    """1 km cells around each point: the secret record counts in the cell of the point the
    asker sees, and nowhere else; the draft nowhere."""
    at_exact = cells(client, headers[asker], site.square(site.exact, 600).bounds)
    at_general = cells(client, headers[asker], site.square(site.generalised, 600).bounds)
    if SEES_EXACT[asker]:
        assert list(at_exact.values()) == [(2, 1)]  # the secret and the control, one cell
        assert at_general == {}
    else:
        assert list(at_exact.values()) == [(1, 0)]  # the control only
        assert list(at_general.values()) == [(1, 1)]


@pytest.mark.parametrize("asker", ASKERS)
def test_richness_per_protected_area_counts_by_the_point_the_asker_sees(
    client, site, headers, asker
) -> None:  # type: ignore[no-untyped-def]
    for as_of in ("", "&as_of=2024-12-31"):  # the stored counts, and the records themselves
        response = client.get(
            f"/api/richness?by=protected_area&class=Testida{as_of}", headers=headers[asker]
        )
        areas = {f["id"]: f["properties"] for f in response.json["features"]}
        exact, general = areas["PA-TEST-EXACT"], areas["PA-TEST-GENERAL"]
        counted = [(a["species"], a["threatened_species"], a["records"]) for a in (exact, general)]
        if SEES_EXACT[asker]:
            assert counted == [(2, 1, 2), (0, 0, 0)], as_of
        else:
            assert counted == [(1, 0, 1), (1, 1, 1)], as_of


@pytest.mark.parametrize("asker", ASKERS)
def test_richness_per_province_counts_the_published_records(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/richness?by=province&class=Testida", headers=headers[asker]).json
    assert sum(f["properties"]["records"] for f in answer["features"]) == 2  # not the draft


@pytest.mark.parametrize("asker", ASKERS)
def test_gap_analysis_places_the_record_by_the_point_the_asker_sees(
    client, site, headers, asker
) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/gap-analysis?class=Testida", headers=headers[asker]).json
    [row] = answer["taxa"]
    assert row["taxon_id"] == site.secret_taxon
    # inside a protected area either way (a test area around each point), one record only
    assert (row["records"], row["records_inside"]) == (1, 1)
    text = json.dumps(answer).encode()
    for spelling in site.exact_texts():
        assert spelling not in text


@pytest.mark.parametrize("asker", ASKERS)
def test_a_draft_protected_area_is_in_no_answer(client, site, headers, asker) -> None:  # type: ignore[no-untyped-def]
    sent = headers[asker]
    response = client.get("/api/protected-areas/PA-TEST-DRAFT/species", headers=sent)
    assert response.status_code == 404
    richness = client.get("/api/richness?by=protected_area&f=csv", headers=sent)
    assert b"PA-TEST-DRAFT" not in richness.data and b"PA-TEST-EXACT" in richness.data
    lon, lat = site.exact
    # (the site lies in the demo's Cúc Phương too)
    here = client.get(f"/api/whats-here?lon={lon!r}&lat={lat!r}", headers=sent).json
    codes = {a["code"] for a in here["protected_areas"]}
    assert "PA-TEST-EXACT" in codes and "PA-TEST-DRAFT" not in codes
    report = client.post(
        "/api/area-report", json={"geometry": mapping(site.tiny())}, headers=sent
    ).json
    codes = {a["code"] for a in report["protected_areas"]}
    assert "PA-TEST-EXACT" in codes and "PA-TEST-DRAFT" not in codes
    of_taxon = client.get(f"/api/taxa/{site.common_taxon}/protected-areas", headers=sent).json
    codes = {a["code"] for a in of_taxon["areas"]}
    assert "PA-TEST-EXACT" in codes and "PA-TEST-DRAFT" not in codes
