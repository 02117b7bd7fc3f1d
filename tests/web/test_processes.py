"""The spatial questions as OGC API - Processes, run by OWSLib over HTTP."""

from __future__ import annotations

import pytest
from owslib.ogcapi.processes import Processes

pytestmark = pytest.mark.db


def test_owslib_lists_describes_and_runs_species_in_area(live_server, client) -> None:  # type: ignore[no-untyped-def]
    api = Processes(f"{live_server}/ogc")
    assert "species-in-area" in {p["id"] for p in api.processes()}
    described = api.process("species-in-area")
    assert described["inputs"]["protected_area"]["minOccurs"] == 1
    assert described["inputs"]["zone_type"]["schema"]["enum"][0] == "strictly_protected"

    result = api.execute(
        "species-in-area",
        inputs={"protected_area": "PA-CUC-PHUONG", "kingdom": "Animalia"},
        response="raw",
    )
    from_api = client.get("/api/protected-areas/PA-CUC-PHUONG/species?kingdom=Animalia").json
    answer = result.get("value", result)  # a raw response is the output itself
    assert answer["summary"] == from_api["summary"] and answer["summary"]["species"] > 0
    assert [s["taxon_id"] for s in answer["species"]] == [
        s["taxon_id"] for s in from_api["species"]
    ]


def test_process_errors_name_the_input(client) -> None:  # type: ignore[no-untyped-def]
    url = "/ogc/processes/species-in-area/execution"
    for inputs, words in (
        ({"protected_area": "NOWHERE"}, "no protected area 'NOWHERE'"),
        ({"protected_area": "PA-CUC-PHUONG", "as_of": "soon"}, "as_of='soon'"),
        ({"protected_area": "PA-CUC-PHUONG", "status": ["iucn_red_list:XX"]}, "no category"),
        ({}, "protected_area: expected the code"),
    ):
        response = client.post(url, json={"inputs": inputs})
        assert response.status_code == 400, inputs
        assert words in response.json["description"], response.json
