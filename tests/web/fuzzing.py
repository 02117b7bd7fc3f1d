"""What the two schemathesis runs (/ogc and /api) share: their bounds and a pytest 9.2 shim."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

#: random examples per operation (the coverage phase adds its own deterministic cases);
#: ``VBIS_FUZZ_EXAMPLES=500`` digs deeper locally, ``VBIS_FUZZ_RANDOM=1`` draws new examples
MAX_EXAMPLES = int(os.environ.get("VBIS_FUZZ_EXAMPLES", "25"))

#: reproducible (Hypothesis draws the same examples each run) and bounded
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("VBIS_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def pytest_node_id(request: pytest.FixtureRequest) -> Iterator[None]:
    """schemathesis 4.32's ``from_fixture`` reads and renames ``request.node._nodeid``, which
    pytest 9.2 no longer has (node ids are computed): give it one to read (its renaming then
    only sets an attribute nobody else reads)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid  # type: ignore[attr-defined]
    yield
