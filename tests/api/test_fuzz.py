"""A bounded property-based fuzz of the API's OpenAPI document: no request is answered 5xx.

Schemathesis reads ``/openapi.json`` from the real server of these tests (uvicorn in a thread,
see running.py) and sends cases generated from each operation's parameters and bodies: valid
ones and near misses. Every case carries a key with every scope (and a rate no case reaches),
so that the requests get past the key check to the code behind it; a second pass sends cases
without a key, which must be refused (401) on every operation that needs one (405 for a
method the path does not have). A 5xx fails the test with the request and the traceback the
server logged. The examples per operation are few so that the file runs in well under a
minute; the Hypothesis database replays a failure found once on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.core.transport import Response

from geotrigger.auth import Scope
from geotrigger.store.api_keys import create_key
from geotrigger.store.database import transaction
from tests.api.running import Api

# Operations anyone may call; every other one needs a key.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
EXAMPLES_WITH_KEY = 50
EXAMPLES_WITHOUT_KEY = 10


class Tracebacks(logging.Handler):
    """The tracebacks the API logged (its handler of unexpected errors logs each one)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture(scope="module")
def tracebacks() -> Iterator[Tracebacks]:
    """Collects what ``geotrigger.api`` logs at ERROR while the module runs."""
    handler = Tracebacks()
    logger = logging.getLogger("geotrigger.api")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
def fuzz_key(api: Api) -> str:
    """A key with every scope and a rate the fuzz never reaches (no 429 hides a case)."""
    with transaction(api.database_url) as conn:
        _, key = create_key(
            conn,
            name="fuzz",
            scopes=[Scope.INGEST, Scope.READ, Scope.ADMIN],
            rate_per_s=1e6,
            now=datetime.now(UTC),
        )
    return key


@pytest.fixture(scope="module")
def api_schema(api: Api) -> schemathesis.schemas.BaseSchema:
    """The OpenAPI document as the running server serves it."""
    return schemathesis.openapi.from_url(api.base + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Give the test item the ``_nodeid`` attribute schemathesis reads and writes.

    Its lazy loader (``from_fixture``, 4.x) names each operation's subtest by rewriting
    ``request.node._nodeid``, an attribute pytest 9 no longer has; without it every test of
    this file fails with AttributeError before sending a request. The copy only feeds
    schemathesis' own reporting; pytest's node id is not changed."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def described(case: Case, response: Response, tracebacks: Tracebacks, seen: int) -> str:
    """The request that failed, what came back, and the tracebacks logged since ``seen``."""
    logged = "\n".join(tracebacks.texts[seen:]) or "(no traceback logged)"
    return (
        f"{case.method} {case.formatted_path} answered {response.status_code}\n"
        f"query: {case.query!r}\nheaders: {case.headers!r}\nbody: {case.body!r}\n"
        f"response: {response.text[:500]}\nserver log:\n{logged}"
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_WITH_KEY,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_case_with_a_key_is_a_server_error(
    case: Case, api: Api, fuzz_key: str, tracebacks: Tracebacks
) -> None:
    seen = len(tracebacks.texts)
    response = case.call(headers={"Authorization": f"Bearer {fuzz_key}"}, timeout=30)
    assert response.status_code < 500, described(case, response, tracebacks, seen)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_WITHOUT_KEY,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_cases_without_a_key_are_refused(case: Case, api: Api, tracebacks: Tracebacks) -> None:
    seen = len(tracebacks.texts)
    response = case.call(timeout=30)
    assert response.status_code < 500, described(case, response, tracebacks, seen)
    if case.method.upper() != case.operation.method.upper():
        expected = 405  # a method the path does not have: refused by routing, before any key
    elif case.path in OPEN_PATHS:
        return
    else:
        expected = 401
    assert response.status_code == expected, described(case, response, tracebacks, seen)
