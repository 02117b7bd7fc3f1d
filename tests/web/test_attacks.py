"""What an attacker would try, across the paths: SQL through every parameter that reaches SQL,
writes with stolen, expired, revoked or forged credentials and outside one's scope, and a
thousand narrow windows to triangulate a sensitive record. Each gets a 4xx naming the problem,
the data stay as they were, and no answer holds the exact spot. (Further attacker tests live
with their path: tests/web/test_sensitive_reads.py, tests/analysis/test_sensitive_answers.py,
tests/web/test_exports.py, tests/web/test_uploads.py, tests/auth/test_writes.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import sensitive_site
from tests.conftest import make_token
from vbis_geo.auth.store import Grant

pytestmark = pytest.mark.db

site = sensitive_site.site
headers = sensitive_site.headers

INJECTIONS = [
    "1; DROP TABLE taxa; --",
    "1' OR '1'='1",
    "id) UNION SELECT geom FROM occurrences --",
    'name_vi"; DELETE FROM protected_areas; --',
]


def _fingerprint(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM taxa), (SELECT count(*) FROM occurrences), "
                    "(SELECT count(*) FROM protected_areas)"
                )
            ).one()
        )


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_through_every_parameter_is_refused(client, engine, site, payload) -> None:  # type: ignore[no-untyped-def]
    """A payload is refused (4xx), or taken for what the parameter means: a CQL2 condition that
    happens to hold everywhere (``'1'='1'``) lists what the public may see, never more; a text
    is matched as text. The database is never changed and no answer holds the exact spot."""
    before = _fingerprint(engine)
    base = "/ogc/collections/occurrences/items"
    for path, args in [
        (base, {"sortby": payload}),
        (base, {"properties": payload}),
        (base, {"filter": f"occurrence_id = '{payload}'"}),
        (base, {"filter": payload}),
        (base, {"bbox": payload}),
        (base, {"datetime": payload}),
        (f"{base}/{payload}", {}),
        ("/api/search", {"q": payload}),
        ("/api/whats-here", {"lon": payload, "lat": "21"}),
        ("/api/richness", {"by": payload}),
        ("/maps/taxon_distribution/style.json", {"taxon": payload}),
        ("/api/export/occurrences", {"format": "csv", "taxon": payload}),
    ]:
        response = client.get(path, query_string=args)
        assert response.status_code < 500, (path, args, response.status_code)
        if response.status_code == 200:
            for spelling in site.exact_texts():
                assert spelling not in response.data, (path, args)
            if path in ("/api/search",) or path.startswith(f"{base}/"):
                body = response.get_json(silent=True) or {}  # a text: matched as text
                assert not body.get("features") and not body.get("protected_areas")
    posted = client.post(
        "/maps/compose",
        data=f"id: x\ntitle: {{vi: x, en: x}}\nlayers:\n  - {{id: a, layer: wetlands, "
        f"filter: \"code = '{payload}'\", symbology: {{kind: single}}}}\n".encode(),
    )
    assert posted.status_code in (200, 400)
    assert _fingerprint(engine) == before


def _expired_token(engine, account_id: int) -> str:  # type: ignore[no-untyped-def]
    token = make_token(engine, account_id, "to expire")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE auth.api_tokens SET created_at = :c, expires_at = :t WHERE account_id = :a"
            ),
            {
                "c": dt.datetime(2019, 12, 1, tzinfo=dt.UTC),
                "t": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                "a": account_id,
            },
        )
    return token


def test_writes_with_bad_credentials_are_refused_everywhere(client, engine, make_account) -> None:  # type: ignore[no-untyped-def]
    admin = make_account("attack_admin", role="national_admin")
    expired = _expired_token(engine, admin.id)
    revoked_owner = make_account("attack_revoked", role="national_admin")
    revoked = make_token(engine, revoked_owner.id)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE auth.api_tokens SET revoked_at = now() WHERE account_id = :a"),
            {"a": revoked_owner.id},
        )
    good = make_token(engine, make_account("attack_good", role="national_admin").id)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    before = _fingerprint(engine)
    feature = {
        "type": "Feature",
        "properties": {"occurrence_id": "attack-1"},
        "geometry": {"type": "Point", "coordinates": [105.84, 21.02]},
    }
    for token in (expired, revoked, forged, "not-a-token", ""):
        auth = {"Authorization": f"Bearer {token}"}
        for response in (
            client.post(
                "/ogc/collections/occurrences/items",
                json=feature,
                headers={**auth, "Content-Type": "application/geo+json"},
            ),
            client.delete("/ogc/collections/occurrences/items/1", headers=auth),
            client.patch(
                "/ogc/collections/occurrences/items/1",
                data=b'{"properties": {}}',
                headers={**auth, "Content-Type": "application/merge-patch+json"},
            ),
            client.post("/api/review/occurrences/1", json={"action": "publish"}, headers=auth),
            client.post(
                "/api/ingest/occurrences",
                headers=auth,
                data={"file": (__import__("io").BytesIO(b"a,b\n1,2\n"), "x.csv")},
            ),
        ):
            assert response.status_code == 401, (
                token[:8],
                response.request.path,
                response.status_code,
            )
    assert _fingerprint(engine) == before


def test_an_editor_of_another_province_can_neither_read_exactly_nor_write(
    client, engine, site, make_account
) -> None:  # type: ignore[no-untyped-def]
    """The sensitive site lies in Ninh Bình; the editor edits Hà Nội."""
    with engine.connect() as conn:
        hanoi = conn.execute(
            sa.text(
                "SELECT code FROM admin_units WHERE valid_to IS NULL AND "
                "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(105.8412, 21.0245), 4326))"
            )
        ).scalar_one()
    editor = make_account(
        "attack_editor", role="provincial_editor", grants=[Grant("province", hanoi)]
    )
    auth = {"Authorization": f"Bearer {make_token(engine, editor.id)}"}
    item = client.get(f"/ogc/collections/occurrences/items/{site.secret}", headers=auth).json
    assert item["geometry"]["coordinates"] == pytest.approx(list(site.generalised), abs=1e-6)
    before = _fingerprint(engine)
    moved = client.patch(
        f"/ogc/collections/occurrences/items/{site.secret}",
        data=b'{"properties": {"individual_count": 99}}',
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert moved.status_code == 403
    assert (
        client.delete(f"/ogc/collections/occurrences/items/{site.secret}", headers=auth).status_code
        == 403
    )
    decided = client.post(
        f"/api/review/occurrences/{site.draft}", json={"action": "publish"}, headers=auth
    )
    assert decided.status_code in (403, 404)
    with engine.connect() as conn:
        count, status = conn.execute(
            sa.text(
                "SELECT (SELECT individual_count FROM occurrences WHERE id = :s), "
                "(SELECT review_status FROM occurrences WHERE id = :d)"
            ),
            {"s": site.secret, "d": site.draft},
        ).one()
    assert count != 99 and status == "draft"
    assert _fingerprint(engine) == before


def test_many_narrow_windows_never_find_the_exact_spot(client, site) -> None:  # type: ignore[no-untyped-def]
    """Sliding 1 km boxes over the record's whole 10 km cell, with bbox and with CQL2: every
    answer that holds the record places it at the cell's centre, and none at the exact spot."""
    from pyproj import Transformer

    to_ea = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
    back = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)
    cx, cy = to_ea.transform(*site.generalised)
    seen: set[tuple[float, float]] = set()
    hits = 0
    for dx in range(-5500, 5000, 1000):  # the centre strictly inside one window
        for dy in range(-5500, 5000, 1000):
            x0, y0 = back.transform(cx + dx, cy + dy)
            x1, y1 = back.transform(cx + dx + 1000, cy + dy + 1000)
            found = client.get(
                "/ogc/collections/occurrences/items",
                query_string={"f": "json", "bbox": f"{x0},{y0},{x1},{y1}", "limit": 100},
            ).json
            polygon = f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
            filtered = client.get(
                "/ogc/collections/occurrences/items",
                query_string={
                    "f": "json",
                    "filter": f"S_INTERSECTS(geom, {polygon})",
                    "limit": 100,
                },
            ).json
            for answer in (found, filtered):
                for f in answer["features"]:
                    if f["id"] == site.secret:
                        hits += 1
                        seen.add(tuple(round(c, 9) for c in f["geometry"]["coordinates"]))
    assert hits == 2  # once by bbox, once by CQL2: in the one window holding the centre
    assert seen == {tuple(round(c, 9) for c in site.generalised)}
