"""Contributions from the public (``POST /api/contributions``, migration 0015): a sighting sent
without an account is a draft that no public answer shows until a reviewer publishes it; the
database lets such a write insert draft occurrences and nothing else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import make_token
from vbis_geo.errors import Forbidden

pytestmark = pytest.mark.db


@pytest.fixture
def taxon_name(engine):  # type: ignore[no-untyped-def]
    from vbis_geo.analysis.assignment import ensure_current

    ensure_current(engine)  # the sensitivity levels, to pick a species with none
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT t.scientific_name FROM taxa t JOIN analysis.taxon_sensitivity s "
                    "ON s.taxon_id = t.id WHERE s.level_km = 0 AND t.rank = 'species' "
                    "AND t.taxonomic_status = 'accepted' ORDER BY t.id LIMIT 1"
                )
            ).scalar_one()
        )


def sighting(name: str, **extra):  # type: ignore[no-untyped-def]
    return {
        "scientific_name": name,
        "lon": 105.61,
        "lat": 20.30,
        "event_date": "2026-11-20",
        "individual_count": 2,
        "recorded_by": "Nguyễn Văn A",
        **extra,
    }


@pytest.fixture
def cleanup(engine):  # type: ignore[no-untyped-def]
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'contribution:%'"))


def test_a_public_sighting_is_a_draft_until_reviewed(
    client, engine, taxon_name, make_account, cleanup
) -> None:  # type: ignore[no-untyped-def]
    sent = client.post("/api/contributions", json=sighting(taxon_name))
    assert sent.status_code == 201, sent.get_data(as_text=True)
    row_id = sent.json["id"]
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT review_status, submitted_by, reviewed_by, recorded_by FROM occurrences "
                "WHERE id = :id"
            ),
            {"id": row_id},
        ).one()
        versions = conn.execute(
            sa.text("SELECT count(*) FROM history.occurrences WHERE id = :id"), {"id": row_id}
        ).scalar_one()
    assert tuple(row) == ("draft", None, None, "Nguyễn Văn A") and versions == 0
    assert client.get(f"/ogc/collections/occurrences/items/{row_id}").status_code == 404
    admin = make_account("contrib_admin", role="national_admin")
    auth = {"Authorization": f"Bearer {make_token(engine, admin.id)}"}
    published = client.post(
        f"/api/review/occurrences/{row_id}", json={"action": "publish"}, headers=auth
    )
    assert published.status_code == 200, published.get_data(as_text=True)
    assert client.get(f"/ogc/collections/occurrences/items/{row_id}").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"scientific_name": "x"}, "lon: expected a number"),
        (
            {"lon": 139.7, "lat": 35.7, "event_date": "2026-01-01", "scientific_name": "x"},
            "outside Vietnam",
        ),
        (
            {"lon": 105.6, "lat": 20.3, "event_date": "2099-01-01", "scientific_name": "x"},
            "in the future",
        ),
        (
            {
                "lon": 105.6,
                "lat": 20.3,
                "event_date": "2026-01-01",
                "scientific_name": "x",
                "review_status": "published",
            },
            "unknown fields ['review_status']",
        ),
        (
            {
                "lon": 105.6,
                "lat": 20.3,
                "event_date": "2026-01-01",
                "scientific_name": "Nonexistens fictus",
            },
            "unknown taxon",
        ),
    ],
)
def test_a_bad_sighting_is_named(client, body, message) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/contributions", json=body)
    assert 400 <= response.status_code < 500
    assert message in response.get_data(as_text=True)


def test_without_an_account_the_database_allows_draft_occurrences_only(engine, taxon_name) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.auth.writer import public_contribution

    attempts = [
        # a published record: the review trigger makes it a draft, so check it stays one
        (
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, "
            "review_status) "
            "VALUES ('contribution:direct', (SELECT id FROM taxa WHERE scientific_name = :n), "
            "'HumanObservation', ST_SetSRID(ST_MakePoint(105.6, 20.3), 4326), 'published')",
            None,
        ),
        (
            "UPDATE occurrences SET individual_count = 1 "
            "WHERE id = (SELECT min(id) FROM occurrences)",
            "refused",
        ),
        ("DELETE FROM occurrences WHERE id = (SELECT min(id) FROM occurrences)", "refused"),
        (
            "INSERT INTO wetlands (code, name_vi, name_en, geom) VALUES ('WL-X', 'x', 'x', "
            "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(105.6, 20.3), 4326), 0.01)))",
            "refused",
        ),
    ]
    with engine.connect() as conn:
        before = conn.execute(
            sa.text("SELECT count(*), sum(coalesce(individual_count, 0)) FROM occurrences")
        ).one()
    for statement, outcome in attempts:
        with engine.connect() as conn, conn.begin() as transaction:
            try:
                with public_contribution(conn, "test"):
                    result = conn.execute(sa.text(statement), {"n": taxon_name})
                changed = result.rowcount
            except Forbidden:
                changed = "refused"
            if outcome is None:  # the insert went in, as a draft
                status = conn.execute(
                    sa.text(
                        "SELECT review_status FROM occurrences WHERE occurrence_id = "
                        "'contribution:direct'"
                    )
                ).scalar_one()
                assert status == "draft"
            else:
                assert changed in ("refused", 0), statement
            transaction.rollback()
    with engine.connect() as conn:
        after = conn.execute(
            sa.text("SELECT count(*), sum(coalesce(individual_count, 0)) FROM occurrences")
        ).one()
    assert tuple(after) == tuple(before)


def test_one_address_sends_a_limited_number_without_an_account(
    client, engine, taxon_name, make_account, cleanup, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.web import contributions

    monkeypatch.setattr(contributions, "PUBLIC_LIMIT", 3)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM auth.public_contributions"))
        before = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
    for _ in range(3):
        assert client.post("/api/contributions", json=sighting(taxon_name)).status_code == 201
    refused = client.post("/api/contributions", json=sighting(taxon_name))
    assert refused.status_code == 429
    assert "too many contributions from this address" in refused.json["description"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    # a bad sighting is named, not counted; another address may still send
    assert client.post("/api/contributions", json={"lon": 1}).status_code == 400
    other = client.post(
        "/api/contributions",
        json=sighting(taxon_name),
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert other.status_code == 201
    # an account's contributions are not limited: it answers for them
    admin = make_account("nguoi_gop", role="national_admin")
    mine = client.post(
        "/api/contributions",
        json=sighting(taxon_name),
        headers={"Authorization": f"Bearer {make_token(engine, admin.id)}"},
    )
    assert mine.status_code == 201, mine.get_data(as_text=True)
    with engine.begin() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
        kept = conn.execute(sa.text("SELECT subject_sha256 FROM auth.public_contributions")).all()
        conn.execute(sa.text("DELETE FROM auth.public_contributions"))
    assert after - before == 5  # three, the other address's and the account's
    # four counted (the refused one is not), as digests: no address is stored
    assert len(kept) == 4 and all(len(bytes(k)) == 32 for (k,) in kept)
    assert not any(b"127.0.0.1" in bytes(k) for (k,) in kept)
