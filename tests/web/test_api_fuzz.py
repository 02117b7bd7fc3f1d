"""schemathesis, run against the /api OpenAPI document, finds no server error.

The document is our own (``/api/openapi.json``, vbis_geo/web/api_openapi.py); schemathesis loads
it from the application over WSGI and, for every operation, sends the examples, the coverage
phase (boundary and invalid values of each parameter, unexpected methods) and random fuzzing, as
tests/web/test_openapi_fuzz.py does for /ogc. The only check is "not a server error": a bad
input must be a 400 naming the field, never a 500.

``POST /api/ingest/{layer}`` is fuzzed as dry runs only: every generated form gets
``dry_run=true`` (so that it reaches the readers and the validation rather than a 401). The
database fuzzed has no account at all (checked before and after), so no username and password
the fuzzer sends can log in, no token it makes up authenticates (a request with any
``Authorization`` header is a 401 before anything is read), and ``/api/tokens`` answers 401.
A dry run's transaction is rolled back; the test checks that no table of the public schema (the
layers) and no account or token table has gained or lost a row (failed logins are counted, in
``auth.login_failures``: that one may grow).

Runs are reproducible and bounded as for /ogc (tests/web/fuzzing.py).
"""

from __future__ import annotations

import pytest
import schemathesis
import sqlalchemy as sa
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok

from tests.web.fuzzing import FUZZ_SETTINGS, pytest_node_id  # noqa: F401 (autouse)

pytestmark = [pytest.mark.db, pytest.mark.shared_data]

INGEST = "POST /api/ingest/{layer}"


@pytest.fixture(scope="module")
def api_app(test_settings):  # type: ignore[no-untyped-def]
    """The application (without pygeoapi, which is fuzzed by test_openapi_fuzz.py and can be
    mounted once per process) on a database without accounts: no request can write."""
    from vbis_geo.web import create_app

    return create_app(test_settings, mount_ogc=False)


@pytest.fixture(scope="module")
def api_schema(api_app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)


#: the tables whose rows are counted before and after: the layers and the accounts
COUNTED_SCHEMAS = {"public": (), "auth": ("login_failures",)}


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The rows of every table of the public schema (the layers an ingest writes to) and of
    the accounts and tokens."""
    with engine.connect() as conn:
        return {
            f"{schema}.{table}": conn.execute(
                sa.text(f'SELECT count(*) FROM {schema}."{table}"')  # noqa: S608 (names from the catalogue)
            ).scalar_one()
            for schema, skipped in COUNTED_SCHEMAS.items()
            for table in sa.inspect(conn).get_table_names(schema=schema)
            if table not in skipped
        }


@pytest.fixture(scope="module")
def _nothing_written(engine):  # type: ignore[no-untyped-def]
    before = _counts(engine)
    assert before["auth.accounts"] == 0, "the fuzzed database must have no accounts"
    yield
    assert _counts(engine) == before, "the fuzzing wrote to the database"


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error(case, _nothing_written) -> None:  # type: ignore[no-untyped-def]
    if case.operation.label == INGEST and isinstance(case.body, dict):
        case.body["dry_run"] = True  # validated and reported, never written (and not a 401)
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])


def test_every_operation_is_fuzzed(api_schema, api_app) -> None:  # type: ignore[no-untyped-def]
    results = list(api_schema.get_all_operations())
    assert [str(r.err()) for r in results if isinstance(r, Err)] == []
    labels = {r.ok().label for r in results if isinstance(r, Ok)}
    assert "POST /api/area-report" in labels
    assert INGEST in labels
    assert "GET /api/whats-here" in labels
    assert {"POST /api/login", "POST /api/tokens", "DELETE /api/tokens/{id}"} <= labels
    assert {"GET /api/review/{layer}", "POST /api/review/{layer}/{id}"} <= labels
    assert "GET /api/export/{layer}" in labels
    assert "GET /api/search" in labels
    assert "POST /api/contributions" in labels
    assert len(labels) == 21
