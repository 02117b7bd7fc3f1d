"""publish.layer_state: a version bumped by every change and an exact row count (triggers)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db


def state(conn, table: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return tuple(  # type: ignore[return-value]
        conn.execute(
            sa.text("SELECT version, n_rows FROM publish.layer_state WHERE layer = :t"),
            {"t": table},
        ).one()
    )


def count(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_counts_and_versions_follow_every_change(conn) -> None:  # type: ignore[no-untyped-def]
    for table in ("occurrences", "protected_areas", "taxa", "datasets"):
        assert state(conn, table)[1] == count(conn, table), table
    version, _ = state(conn, "occurrences")
    conn.execute(
        sa.text(
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
            "SELECT 'state:' || id, taxon_id, basis_of_record, geom FROM occurrences LIMIT 25"
        )
    )
    assert state(conn, "occurrences") == (version + 1, count(conn, "occurrences"))
    conn.execute(
        sa.text("UPDATE occurrences SET individual_count = 3 WHERE occurrence_id LIKE 'state:%'")
    )
    assert state(conn, "occurrences") == (version + 2, count(conn, "occurrences"))
    conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'state:%'"))
    assert state(conn, "occurrences") == (version + 3, count(conn, "occurrences"))
    conn.execute(sa.text("TRUNCATE occurrences"))
    assert state(conn, "occurrences") == (version + 4, 0)
