"""Fixtures of the map tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="session")
def common_taxon(engine) -> int:  # type: ignore[no-untyped-def]
    """The taxon with the most records of the demo data (for the distribution map)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT taxon_id FROM occurrences GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one()
        )
