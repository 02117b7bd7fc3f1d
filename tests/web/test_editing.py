"""Editing through the OGC API (Features Part 4: POST, PUT, PATCH, DELETE), as an analyst's
client would: accounts write within their scope, the database refuses the rest, bad features get
a 400 naming the problem, history keeps every replaced version, and an expert's features are
drafts the public does not see. OWSLib (a client nobody here wrote) creates, replaces and
deletes a feature over HTTP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import make_token
from vbis_geo.auth.store import Grant

pytestmark = pytest.mark.db

IN_HANOI = (105.8412, 21.0245)
IN_NINH_BINH = (105.6123, 20.2987)  # Cúc Phương


def feature(point, **properties):  # type: ignore[no-untyped-def]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(point)},
        "properties": {"basis_of_record": "HumanObservation", **properties},
    }


@pytest.fixture
def taxon(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        taxon_id = conn.execute(
            sa.text(
                "INSERT INTO taxa (rank, scientific_name, taxonomic_status, parent_id) VALUES "
                "('species', 'Editus testus', 'accepted', "
                "(SELECT id FROM taxa WHERE rank = 'genus' ORDER BY id LIMIT 1)) RETURNING id"
            )
        ).scalar_one()
    yield taxon_id
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM occurrences WHERE taxon_id = :t"), {"t": taxon_id})
        conn.execute(sa.text("DELETE FROM taxa WHERE id = :t"), {"t": taxon_id})


@pytest.fixture
def hanoi_editor(engine, make_account):  # type: ignore[no-untyped-def]
    hanoi = _unit_code(engine, IN_HANOI)
    account = make_account(
        "edit_hanoi", role="provincial_editor", grants=[Grant("province", hanoi)]
    )
    return {"Authorization": f"Bearer {make_token(engine, account.id)}"}


def _unit_code(engine, point) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT code FROM admin_units WHERE valid_to IS NULL AND "
                    "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"x": point[0], "y": point[1]},
            ).scalar_one()
        )


def _count(engine, taxon_id: int) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM occurrences WHERE taxon_id = :t"), {"t": taxon_id}
            ).scalar_one()
        )


def post(client, body, headers):  # type: ignore[no-untyped-def]
    return client.post(
        "/ogc/collections/occurrences/items",
        json=body,
        headers={**headers, "Content-Type": "application/geo+json"},
    )


def test_create_replace_update_delete_within_scope(client, engine, taxon, hanoi_editor) -> None:  # type: ignore[no-untyped-def]
    created = post(
        client,
        feature(IN_HANOI, occurrence_id="edit-1", taxon_id=taxon, event_date="2026-03-01"),
        hanoi_editor,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    location = created.headers["Location"]
    row_id = int(location.rsplit("/", 1)[1])
    item = client.get(f"/ogc/collections/occurrences/items/{row_id}?f=json").json
    assert item["properties"]["occurrence_id"] == "edit-1"
    assert item["geometry"]["coordinates"] == pytest.approx(list(IN_HANOI))

    replaced = client.put(
        f"/ogc/collections/occurrences/items/{row_id}",
        json=feature(
            IN_HANOI,
            occurrence_id="edit-1",
            taxon_id=taxon,
            event_date="2026-03-02",
            individual_count=3,
        ),
        headers=hanoi_editor,
    )
    assert replaced.status_code == 204, replaced.get_data(as_text=True)
    patched = client.patch(
        f"/ogc/collections/occurrences/items/{row_id}",
        data='{"properties": {"individual_count": 5, "recorded_by": null}}',
        headers={**hanoi_editor, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 204, patched.get_data(as_text=True)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT event_date::text, individual_count, review_status FROM occurrences "
                "WHERE id = :id"
            ),
            {"id": row_id},
        ).one()
        assert tuple(row) == ("2026-03-02", 5, "published")
        versions = conn.execute(
            sa.text(
                "SELECT change_kind, event_date::text, individual_count, change_reason, "
                "changed_by IS NOT NULL FROM history.occurrences WHERE id = :id ORDER BY history_id"
            ),
            {"id": row_id},
        ).all()
    assert [tuple(v)[:3] for v in versions] == [
        ("update", "2026-03-01", None),
        ("update", "2026-03-02", 3),
    ]
    assert all(v[3].startswith("OGC API") and v[4] for v in versions)

    deleted = client.delete(f"/ogc/collections/occurrences/items/{row_id}", headers=hanoi_editor)
    assert deleted.status_code == 200
    assert client.get(f"/ogc/collections/occurrences/items/{row_id}").status_code == 404
    with engine.connect() as conn:
        kinds = conn.execute(
            sa.text(
                "SELECT change_kind FROM history.occurrences WHERE id = :id ORDER BY history_id"
            ),
            {"id": row_id},
        ).scalars()
        assert list(kinds)[-1] == "delete"


def test_writes_outside_the_scope_are_refused(client, engine, taxon, hanoi_editor) -> None:  # type: ignore[no-untyped-def]
    before = _count(engine, taxon)
    outside = post(
        client, feature(IN_NINH_BINH, occurrence_id="edit-out", taxon_id=taxon), hanoi_editor
    )
    assert outside.status_code == 403
    assert "scope" in outside.get_data(as_text=True)
    assert _count(engine, taxon) == before
    inside = post(client, feature(IN_HANOI, occurrence_id="edit-in", taxon_id=taxon), hanoi_editor)
    row_id = int(inside.headers["Location"].rsplit("/", 1)[1])
    moved = client.patch(
        f"/ogc/collections/occurrences/items/{row_id}",
        data=f'{{"geometry": {{"type": "Point", "coordinates": {list(IN_NINH_BINH)}}}}}',
        headers={**hanoi_editor, "Content-Type": "application/merge-patch+json"},
    )
    assert moved.status_code == 403
    with engine.connect() as conn:
        x = conn.execute(
            sa.text("SELECT ST_X(geom) FROM occurrences WHERE id = :id"), {"id": row_id}
        ).scalar_one()
        assert x == pytest.approx(IN_HANOI[0])
        # a row of another province: neither changed nor deleted
        other = conn.execute(
            sa.text(
                "SELECT o.id FROM occurrences o JOIN admin_units a ON a.valid_to IS NULL "
                "AND a.code <> :hanoi AND ST_Intersects(a.geom, o.geom) ORDER BY o.id LIMIT 1"
            ),
            {"hanoi": _unit_code(engine, IN_HANOI)},
        ).scalar_one()
    assert (
        client.delete(
            f"/ogc/collections/occurrences/items/{other}", headers=hanoi_editor
        ).status_code
        == 403
    )
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM occurrences WHERE id = :id"), {"id": other}
            ).scalar_one()
            == 1
        )
    # and the public may not write at all
    assert (
        post(client, feature(IN_HANOI, occurrence_id="anon", taxon_id=taxon), {}).status_code == 401
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"type": "FeatureCollection", "features": []}', "expected a GeoJSON Feature"),
        (
            b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.84, 21.02]}, '
            b'"properties": {"colour": "red"}}',
            "cannot be written",
        ),
        (
            b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.84, 21.02]}, '
            b'"properties": {"individual_count": "many"}}',
            "individual_count: 'many' is not a whole number",
        ),
        (
            b'{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": '
            b'[[[105,21],[106,21],[106,22],[105,21]]]}, "properties": {}}',
            "a Polygon; occurrences holds",
        ),
        (
            b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [585000, 2325000]}, '
            b'"properties": {}}',
            "out of longitude/latitude range",
        ),
        (
            b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.84, 21.02]}, '
            b'"properties": {"occurrence_id": "x\\u0000y"}}',
            "NUL characters",
        ),
    ],
)
def test_bad_features_are_named(client, hanoi_editor, body, message) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/ogc/collections/occurrences/items",
        data=body,
        headers={**hanoi_editor, "Content-Type": "application/geo+json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)


def test_an_invalid_polygon_and_a_foreign_crs_are_refused(client, engine, make_account) -> None:  # type: ignore[no-untyped-def]
    admin = make_account("edit_admin", role="national_admin")
    headers = {
        "Authorization": f"Bearer {make_token(engine, admin.id)}",
        "Content-Type": "application/geo+json",
    }
    bowtie = {
        "type": "Feature",
        "properties": {"code": "WL-BOWTIE", "name_vi": "Nơ", "name_en": "Bowtie"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[105, 21], [106, 22], [106, 21], [105, 22], [105, 21]]],
        },
    }
    response = client.post("/ogc/collections/wetlands/items", json=bowtie, headers=headers)
    assert response.status_code == 400 and "not valid (Self-intersection" in response.get_data(
        as_text=True
    )
    square = {
        **bowtie,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[105, 21], [106, 21], [106, 22], [105, 22], [105, 21]]],
        },
    }
    response = client.post(
        "/ogc/collections/wetlands/items",
        json=square,
        headers={**headers, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/3857>"},
    )
    assert response.status_code == 400 and "Content-Crs" in response.get_data(as_text=True)


def test_an_experts_feature_is_a_draft_the_public_does_not_see(
    client, engine, taxon, make_account
) -> None:  # type: ignore[no-untyped-def]
    expert = make_account("edit_expert", role="expert", grants=[Grant("taxon", taxon)])
    headers = {"Authorization": f"Bearer {make_token(engine, expert.id)}"}
    created = post(client, feature(IN_HANOI, occurrence_id="edit-draft", taxon_id=taxon), headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    row_id = int(created.headers["Location"].rsplit("/", 1)[1])
    with engine.connect() as conn:
        status, submitted = conn.execute(
            sa.text("SELECT review_status, submitted_by FROM occurrences WHERE id = :id"),
            {"id": row_id},
        ).one()
    assert (status, submitted) == ("draft", expert.id)
    assert client.get(f"/ogc/collections/occurrences/items/{row_id}").status_code == 404


def test_owslib_creates_replaces_and_deletes(live_server, engine, taxon, hanoi_editor) -> None:  # type: ignore[no-untyped-def]
    import json

    from owslib.ogcapi import REQUEST_HEADERS
    from owslib.ogcapi.features import Features

    # OWSLib (0.3x) updates its module-wide REQUEST_HEADERS with an instance's headers (and
    # sets Content-Type there on create): put them back, or later clients send this token
    saved = dict(REQUEST_HEADERS)
    try:
        api = Features(f"{live_server}/ogc", headers=dict(hanoi_editor))
        api.collection_item_create(
            "occurrences", feature(IN_HANOI, occurrence_id="owslib-1", taxon_id=taxon)
        )
        with engine.connect() as conn:
            row_id = conn.execute(
                sa.text("SELECT id FROM occurrences WHERE occurrence_id = 'owslib-1'")
            ).scalar_one()
        api.collection_item_update(
            "occurrences",
            str(row_id),
            json.dumps(
                feature(IN_HANOI, occurrence_id="owslib-1", taxon_id=taxon, individual_count=7)
            ),
        )
        with engine.connect() as conn:
            count = conn.execute(
                sa.text("SELECT individual_count FROM occurrences WHERE id = :id"), {"id": row_id}
            ).scalar_one()
            assert count == 7
        api.collection_item_delete("occurrences", str(row_id))
        with engine.connect() as conn:
            left = conn.execute(
                sa.text("SELECT count(*) FROM occurrences WHERE id = :id"), {"id": row_id}
            ).scalar_one()
            assert left == 0
    finally:
        REQUEST_HEADERS.clear()
        REQUEST_HEADERS.update(saved)
