"""Harvesting a remote OGC API Features collection: a real server on loopback (our own
application, pygeoapi on the test database), read page by page through its ``next`` links."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest
from vbis_geo.errors import InvalidInput
from vbis_geo.ingest import harvest

pytestmark = pytest.mark.db


def test_harvest_is_incremental(conn, live_server: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # small pages, so that the harvest follows many next links
    monkeypatch.setattr(harvest, "PAGE_SIZE", 7)
    url = f"{live_server}/ogc/collections/protected_areas"
    n = conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one()
    first = ingest(conn, "protected_areas", url)
    assert first.ok, first.summary()
    # the server reads the same database: every row is already there, unchanged
    assert (first.n_read, first.n_inserted, first.n_updated, first.n_unchanged) == (n, 0, 0, n)
    assert first.dataset_code == f"harvest:protected_areas:{harvest.source_code(url)}"
    # a local edit (this transaction only) differs from the remote row: one update, no more
    conn.execute(sa.text("UPDATE protected_areas SET name_en = 'edited' WHERE code = 'PA-BA-BE'"))
    again = ingest(conn, "protected_areas", url)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 1, n - 1)
    assert (
        conn.execute(
            sa.text("SELECT name_en FROM protected_areas WHERE code = 'PA-BA-BE'")
        ).scalar_one()
        != "edited"
    )
    dataset = conn.execute(
        sa.text("SELECT source_name, lineage FROM datasets WHERE code = :c"),
        {"c": again.dataset_code},
    ).one()
    assert dataset.source_name == url and "OGC API Features" in dataset.lineage


def test_harvest_of_a_missing_collection(conn, live_server: str) -> None:  # type: ignore[no-untyped-def]
    before = counts(conn)
    with pytest.raises(InvalidInput, match="answered 404"):
        ingest(conn, "wetlands", f"{live_server}/ogc/collections/no_such_layer")
    with pytest.raises(InvalidInput, match="cannot be reached"):
        ingest(conn, "wetlands", "http://127.0.0.1:9/ogc/collections/wetlands")
    assert counts(conn) == before
