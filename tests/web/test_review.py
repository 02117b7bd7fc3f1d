"""Review: an expert's upload lands as drafts, a reviewer in scope publishes or rejects them
(with a reason), the public sees only what is published, and the history keeps who reviewed
and why. Through the API (``/api/review``) and the command (``vbis-geo review``)."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import make_token
from vbis_geo.auth.scope import EDITABLE
from vbis_geo.auth.store import Grant
from vbis_geo.cli import cli
from vbis_geo.settings import Settings

pytestmark = pytest.mark.db

#: the expert's two records: one in Thanh Hóa (VN-21), one in Đà Nẵng (VN-DN)
THANH_HOA = (105.5, 19.9)
DA_NANG = (108.3, 16.1)


@pytest.fixture(scope="module")
def review_client(test_settings: Settings):  # type: ignore[no-untyped-def]
    from vbis_geo.web import create_app

    app = create_app(test_settings, mount_ogc=False)
    app.config["TESTING"] = True
    return app.test_client()


@dataclasses.dataclass
class Party:
    """The accounts of a review, each with the header of an API token."""

    ids: dict[str, int]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def party(make_account, engine) -> Party:  # type: ignore[no-untyped-def]
    accounts = {
        "expert": make_account("review-expert", role="expert", grants=[Grant("taxon", "Primates")]),
        "peer": make_account("review-peer", role="expert", grants=[Grant("taxon", "Pygathrix")]),
        "thanh-hoa": make_account(
            "review-thanh-hoa", role="provincial_editor", grants=[Grant("province", "VN-21")]
        ),
        "exact": make_account(
            "review-exact",
            role="provincial_editor",
            grants=[Grant("province", "VN-21"), Grant("exact_locations")],
        ),
        "ha-noi": make_account(
            "review-ha-noi", role="provincial_editor", grants=[Grant("province", "VN-HN")]
        ),
        "admin": make_account("review-admin", role="national_admin"),
    }
    return Party(
        ids={k: a.id for k, a in accounts.items()},
        headers={
            k: {"Authorization": f"Bearer {make_token(engine, a.id, 'review')}"}
            for k, a in accounts.items()
        },
    )


@pytest.fixture
def drafts(review_client, engine, party) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    """The expert's upload of two records of Pygathrix nemaeus (10 km sensitive): their ids."""
    frame = pd.DataFrame(
        {
            "occurrenceID": ["review:1", "review:2"],
            "scientificName": ["Pygathrix nemaeus", "Pygathrix nemaeus"],
            "eventDate": ["2024-03-01", "2024-03-02"],
            "basisOfRecord": ["HumanObservation", "HumanObservation"],
            "decimalLongitude": [THANH_HOA[0], DA_NANG[0]],
            "decimalLatitude": [THANH_HOA[1], DA_NANG[1]],
            "locality": ["the cave above the stream", "ridge"],
        }
    )
    response = review_client.post(
        "/api/ingest/occurrences",
        data={"file": (io.BytesIO(frame.to_csv(index=False).encode()), "doucs.csv")},
        headers=party.headers["expert"],
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                sa.text(
                    "SELECT occurrence_id, id FROM occurrences WHERE occurrence_id LIKE 'review:%'"
                )
            ).all()
        )
    yield ids
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'review:%'"))
        conn.execute(
            sa.text(
                "DELETE FROM datasets WHERE loaded_by = 'review-expert (api upload)' AND NOT "
                "EXISTS (SELECT 1 FROM occurrences o WHERE o.dataset_id = datasets.id)"
            )
        )


def queue(client, headers, **params) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The review: drafts of the queue, by occurrenceID."""
    response = client.get("/api/review/occurrences", headers=headers, query_string=params)
    assert response.status_code == 200, response.json
    return {
        f["properties"]["occurrence_id"]: f
        for f in response.json["features"]
        if f["properties"]["occurrence_id"].startswith("review:")
    }


def decide(client, headers, row_id: int, **body: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/review/occurrences/{row_id}", headers=headers, json=body)


def public_ids(engine) -> set[str]:  # type: ignore[no-untyped-def]
    from vbis_geo.analysis.assignment import ensure_current

    ensure_current(engine)  # as every reader of the public view does first
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text(
                    "SELECT occurrence_id FROM publish.public_occurrences "
                    "WHERE occurrence_id LIKE 'review:%'"
                )
            ).scalars()
        )


def test_an_experts_upload_waits_for_review(review_client, engine, party, drafts) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT review_status, submitted_by FROM occurrences "
                "WHERE occurrence_id LIKE 'review:%'"
            )
        ).all()
    assert {tuple(r) for r in rows} == {("draft", party.ids["expert"])}
    assert public_ids(engine) == set()


def test_each_reviewer_sees_the_drafts_in_its_scope(review_client, party, drafts) -> None:  # type: ignore[no-untyped-def]
    assert set(queue(review_client, party.headers["admin"])) == {"review:1", "review:2"}
    assert set(queue(review_client, party.headers["thanh-hoa"])) == {"review:1"}
    assert set(queue(review_client, party.headers["ha-noi"])) == set()
    assert set(queue(review_client, party.headers["peer"])) == {"review:1", "review:2"}
    # an expert does not review its own contributions
    assert set(queue(review_client, party.headers["expert"])) == set()
    # paging
    response = review_client.get(
        "/api/review/occurrences", headers=party.headers["admin"], query_string={"limit": 1}
    )
    assert response.json["numberReturned"] == 1 and response.json["numberMatched"] >= 2


def test_the_queue_hides_exact_locations_from_those_without_the_right(  # type: ignore[no-untyped-def]
    review_client, party, drafts
) -> None:
    (generalised,) = queue(review_client, party.headers["thanh-hoa"]).values()
    assert generalised["properties"]["generalised_km"] == 10
    assert generalised["properties"]["locality"] is None
    lon, lat = generalised["geometry"]["coordinates"]
    assert (round(lon, 4), round(lat, 4)) != THANH_HOA
    assert abs(lon - THANH_HOA[0]) < 0.1 and abs(lat - THANH_HOA[1]) < 0.1  # its 10 km cell
    (exact,) = queue(review_client, party.headers["exact"]).values()
    assert exact["geometry"]["coordinates"] == list(THANH_HOA)
    assert exact["properties"]["locality"] == "the cave above the stream"
    assert exact["properties"]["submitted_by_username"] == "review-expert"


def test_a_reviewer_in_scope_publishes_and_rejects_with_a_reason(  # type: ignore[no-untyped-def]
    review_client, engine, party, drafts
) -> None:
    thanh_hoa, da_nang = drafts["review:1"], drafts["review:2"]
    # not a reviewer of these: another province's editor, and the expert who submitted them
    response = decide(review_client, party.headers["ha-noi"], thanh_hoa, action="publish")
    assert response.status_code == 403
    assert "lies in province VN-21 / VN34-THANH-HOA, you edit VN-HN" in response.json["description"]
    response = decide(review_client, party.headers["expert"], thanh_hoa, action="publish")
    assert response.status_code == 403 and "you submitted it" in response.json["description"]
    # a rejection needs a reason
    for reason in (None, "", "   "):
        body = {"action": "reject"} if reason is None else {"action": "reject", "reason": reason}
        response = decide(review_client, party.headers["thanh-hoa"], thanh_hoa, **body)
        assert response.status_code == 400 and "needs a reason" in response.json["description"]
    assert public_ids(engine) == set()

    response = decide(review_client, party.headers["thanh-hoa"], thanh_hoa, action="publish")
    assert response.status_code == 200, response.json
    assert response.json["review_status"] == "published"
    assert response.json["reviewed_by"] == "review-thanh-hoa"
    assert public_ids(engine) == {"review:1"}  # now the public sees it (generalised)
    response = decide(review_client, party.headers["admin"], thanh_hoa, action="reject", reason="x")
    assert response.status_code == 400 and "not a draft" in response.json["description"]

    reason = "the photograph shows a Rhinopithecus, not a douc"
    response = decide(review_client, party.headers["peer"], da_nang, action="reject", reason=reason)
    assert response.status_code == 200, response.json
    assert (response.json["review_status"], response.json["review_reason"]) == (
        "rejected",
        reason,
    )
    assert public_ids(engine) == {"review:1"}
    with engine.connect() as conn:
        current = conn.execute(
            sa.text(
                "SELECT review_status, reviewed_by, review_reason, submitted_by FROM occurrences "
                "WHERE id = :id"
            ),
            {"id": da_nang},
        ).one()
        history = conn.execute(
            sa.text(
                "SELECT review_status, changed_by, change_reason FROM history.occurrences "
                "WHERE id = :id ORDER BY history_id"
            ),
            {"id": da_nang},
        ).all()
    assert tuple(current) == ("rejected", party.ids["peer"], reason, party.ids["expert"])
    # the draft as it was, replaced by the reviewer, for the reason given
    assert [tuple(h) for h in history] == [
        ("draft", party.ids["peer"], f"review: rejected: {reason}")
    ]


def test_bad_review_requests_are_named(review_client, party, drafts) -> None:  # type: ignore[no-untyped-def]
    admin = party.headers["admin"]
    row = drafts["review:1"]
    assert decide(review_client, {}, row, action="publish").status_code == 401
    assert review_client.get("/api/review/occurrences").status_code == 401
    response = decide(review_client, admin, row, action="approve")
    assert response.status_code == 400 and "publish or reject" in response.json["description"]
    response = review_client.post(f"/api/review/occurrences/{row}", headers=admin, data="publish")
    assert response.status_code == 400 and "JSON object" in response.json["description"]
    response = review_client.post("/api/review/occurrences/x1", headers=admin, json={})
    assert response.status_code == 400
    assert decide(review_client, admin, 2**31 - 2, action="publish").status_code == 404
    assert review_client.get("/api/review/taxa", headers=admin).status_code == 404
    response = review_client.get(
        "/api/review/occurrences", headers=admin, query_string={"limit": 0}
    )
    assert response.status_code == 400
    response = review_client.get(
        "/api/review/occurrences", headers=admin, query_string={"offset": "-1"}
    )
    assert response.status_code == 400
    # an expert reviews occurrences only
    response = review_client.get("/api/review/protected_areas", headers=party.headers["peer"])
    assert response.status_code == 403


def test_a_forged_account_setting_on_the_connection_is_not_reachable(  # type: ignore[no-untyped-def]
    review_client, engine, party, drafts
) -> None:
    """Even if every connection the application takes arrived with an administrator's id in
    ``vbis.account_id`` (a session-level SET someone left), a request acts as its principal:
    writer() sets the setting, transaction-locally, from the authenticated principal, and no
    request parameter names an account."""
    app_engine = review_client.application.extensions["vbis_engine"]

    def forge(dbapi_connection, record, proxy) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET vbis.account_id = '{party.ids['admin']}'")
        dbapi_connection.commit()

    sa.event.listen(app_engine, "checkout", forge)
    try:
        response = decide(
            review_client, party.headers["ha-noi"], drafts["review:1"], action="publish"
        )
        assert response.status_code == 403
        response = review_client.get("/api/review/occurrences", headers=party.headers["ha-noi"])
        assert response.status_code == 200 and not [
            f for f in response.json["features"] if f["properties"]["occurrence_id"] == "review:1"
        ]
    finally:
        sa.event.remove(app_engine, "checkout", forge)
    app_engine.dispose()  # the forged sessions go with their connections


def test_the_command_reviews_as_a_named_account(test_settings, engine, party, drafts) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["review", *args], obj=test_settings)

    listed = run("list", "occurrences", "--as", "review-thanh-hoa")
    assert listed.exit_code == 0, listed.output
    assert "review:1" in listed.output and "review:2" not in listed.output
    everything = run("list", "occurrences")
    assert "review:1" in everything.output and "review:2" in everything.output
    # --as is required, and the account's scope holds
    assert run("publish", "occurrences", str(drafts["review:1"])).exit_code == 2
    refused = run("publish", "occurrences", str(drafts["review:1"]), "--as", "review-ha-noi")
    assert refused.exit_code != 0 and "you edit VN-HN" in str(refused.exception)
    done = run("publish", "occurrences", str(drafts["review:1"]), "--as", "review-thanh-hoa")
    assert done.exit_code == 0, done.output
    assert "published by review-thanh-hoa" in done.output
    rejected = run(
        "reject", "occurrences", str(drafts["review:2"]), "--as", "review-admin",
        "--reason", "duplicate of an earlier record",
    )  # fmt: skip
    assert rejected.exit_code == 0, rejected.output
    assert "rejected by review-admin: duplicate of an earlier record" in rejected.output
    with engine.connect() as conn:
        states = dict(
            conn.execute(
                sa.text(
                    "SELECT occurrence_id, review_status FROM occurrences "
                    "WHERE occurrence_id LIKE 'review:%'"
                )
            ).all()
        )
    assert states == {"review:1": "published", "review:2": "rejected"}


#: a statement writing an editable table (the loader quotes its table names)
_WRITES = re.compile(
    r"^\s*(?:WITH\s+\w+\s+AS\s*\(\s*)?(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:public\.)?"
    r'"?(' + "|".join(EDITABLE) + r')"?[\s(]',
    re.IGNORECASE,
)


def test_every_write_of_the_api_runs_as_the_writer(  # type: ignore[no-untyped-def]
    review_client, engine, party, drafts
) -> None:
    """Every statement the API sends that writes an editable table runs as ``vbis_writer``:
    uploads of each role and reviews (a write path that forgot ``writer()`` would run as the
    connection's superuser, past every policy)."""
    app_engine = review_client.application.extensions["vbis_engine"]
    seen: list[tuple[str, str, str]] = []

    def watch(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        match = _WRITES.match(statement)
        if match:
            role = cursor.connection.execute("SELECT current_user").fetchone()[0]
            seen.append((match.group(1).split()[0].upper(), match.group(2), role))

    sa.event.listen(app_engine, "after_cursor_execute", watch)
    try:
        frame = pd.DataFrame(
            {
                "occurrenceID": ["review:3"],
                "scientificName": ["Pygathrix nemaeus"],
                "basisOfRecord": ["HumanObservation"],
                "decimalLongitude": [THANH_HOA[0]],
                "decimalLatitude": [THANH_HOA[1]],
            }
        )
        # inserted by the admin, changed by the editor, changed again (into a draft) by an expert
        for month, who in enumerate(("admin", "thanh-hoa", "peer"), start=1):
            frame["eventDate"] = [f"2024-0{month}-01"]
            response = review_client.post(
                "/api/ingest/occurrences",
                data={"file": (io.BytesIO(frame.to_csv(index=False).encode()), f"{who}.csv")},
                headers=party.headers[who],
                content_type="multipart/form-data",
            )
            assert response.status_code == 200, response.json
            assert response.json["counts"]["inserted" if month == 1 else "updated"] == 1
        assert (
            decide(
                review_client, party.headers["thanh-hoa"], drafts["review:1"], action="publish"
            ).status_code
            == 200
        )
    finally:
        sa.event.remove(app_engine, "after_cursor_execute", watch)
    assert {(kind, table) for kind, table, _ in seen} >= {
        ("INSERT", "occurrences"),
        ("UPDATE", "occurrences"),
    }
    assert {role for _, _, role in seen} == {"vbis_writer"}
