"""schemathesis, run against our OpenAPI document, finds no server error.

The document is the one pygeoapi serves at ``/ogc/openapi?f=json`` (made self-contained by
``vbis_geo.publish.oas``); schemathesis loads it from the application over WSGI (no server, no
network) and, for every operation it describes (features, records, coverage, tiles, jobs),
sends the requests of its phases: the examples of the document, the coverage phase
(boundary and invalid values of each parameter, unexpected methods) and random fuzzing, both
valid and invalid input. The only check is "not a server error": any 5xx, or an exception
escaping the application, fails the operation's subtest with a curl line to replay it.

Runs are reproducible and bounded (tests/web/fuzzing.py): about a minute in all on 2 cores.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok

from tests.web.fuzzing import FUZZ_SETTINGS, pytest_node_id  # noqa: F401 (autouse)

pytestmark = [pytest.mark.db, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def ogc_schema(app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/ogc/openapi?f=json", app)


schema = schemathesis.pytest.from_fixture("ogc_schema")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])


def test_every_operation_is_fuzzed(ogc_schema) -> None:  # type: ignore[no-untyped-def]
    # an operation schemathesis cannot read (a reference it cannot resolve) is not fuzzed
    results = list(ogc_schema.get_all_operations())
    errors = [str(result.err()) for result in results if isinstance(result, Err)]
    assert errors == []
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    labels = {operation.label for operation in operations}
    assert "GET /collections/occurrences/items" in labels
    assert "GET /collections/landcover/coverage" in labels
    assert (
        "GET /collections/occurrences/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
        in labels
    )
    assert len(operations) >= 80
