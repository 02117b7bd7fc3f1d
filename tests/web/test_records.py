"""The datasets catalogue as OGC API Records, read with OWSLib."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db


def test_owslib_reads_and_searches_records(live_server, engine) -> None:  # type: ignore[no-untyped-def]
    from owslib.ogcapi.records import Records

    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM datasets")).scalar_one()
    api = Records(f"{live_server}/ogc")
    assert api.records() == ["datasets"]  # the only collection of records
    items = api.collection_items("datasets", limit=100)
    assert items["numberMatched"] == n > 0
    record = next(r for r in items["features"] if r["id"] == "admin-units-63-odv")
    assert record["properties"]["type"] == "dataset"
    assert record["properties"]["title"] == "Ranh giới 63 đơn vị hành chính cấp tỉnh"
    assert record["properties"]["collection"] == "admin_units"
    (link,) = [x for x in record["links"] if x["rel"] == "describes"]
    assert link["href"].endswith("/ogc/collections/admin_units")
    # q: every term, case and diacritics ignored
    found = api.collection_items("datasets", q="ranh gioi 63")
    assert [r["id"] for r in found["features"]] == ["admin-units-63-odv"]
    upper = api.collection_items("datasets", q="RANH GIỚI 63")
    assert [r["id"] for r in upper["features"]] == ["admin-units-63-odv"]
    assert api.collection_items("datasets", q="no-such-dataset")["numberMatched"] == 0
    one = api.collection_item("datasets", "admin-units-34-2025")
    assert one["id"] == "admin-units-34-2025"


def test_each_collection_links_the_records_of_its_datasets(client, engine) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    body = client.get("/ogc/collections/protected_areas?f=json").json
    (link,) = [link for link in body["links"] if link["rel"] == "describedby"]
    href = link["href"][link["href"].index("/ogc/") :]
    records = client.get(href + "&f=json").json["features"]
    with engine.connect() as conn:
        expected = (
            conn.execute(
                sa.text("SELECT code FROM datasets WHERE target_layer = 'protected_areas'")
            )
            .scalars()
            .all()
        )
    assert sorted(r["id"] for r in records) == sorted(expected) and expected
