"""Generated input for every operation in the OpenAPI document (issue 7, hostile input).

schemathesis draws requests from each operation's schema, valid and invalid alike. Every answer
must be no server error, and must match the document: a status it declares, the content type it
declares, and a body that validates against the declared schema. A request without a key is
refused with 401 on every route that names a security scheme. Hypothesis is derandomized, so a
run draws the same cases each time and CI is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from tests.conftest import a_customer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Cases per operation with a key, and without one. The document has over 70 operations; these
# keep the file near a minute and a half under `make test`. PostgreSQL costs a round trip per
# statement, so it draws fewer: the same faults show on either backend but in the SQL each sends.
WITH_KEY = {"sqlite": 30, "postgresql": 10}
WITHOUT_KEY = 3
AUTH_HEADERS = ("x-api-key", "authorization")


def _settings(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _seed(client: TestClient, app: App, actor: Actor, headers: dict[str, str]) -> dict[str, list[str]]:
    """Real ids for the path parameters, so generated cases reach past 'not found'."""
    customers = [
        str(a_customer(app, actor).id),
        str(a_customer(app, actor, name="Grace Hopper", telephone_numbers=("+12025550177",)).id),
    ]
    course = {"staff": "Mia", "course": "CPNI basics", "completed_on": "2026-01-15", "expires_on": "2027-01-15"}
    client.post("/training", json=course, headers=headers)
    client.post("/users", json={"name": "Mia", "roles": ["marketing"]}, headers=headers)
    campaign = {"name": "Fiber", "purpose": "marketing-third-party", "offer": "Fiber", "by": "Mia"}
    breach = {
        "title": "Misaddressed bills",
        "discovered_at": "2026-02-15",
        "intent": "inadvertent",
        "data_types": ["bills"],
        "circumstances": "a print run put bills in the wrong envelopes",
        "cpni_description": "bills",
        "rules": "2023",
    }
    made = {
        "campaign_id": client.post("/campaigns", json=campaign, headers=headers),
        "incident": client.post("/breaches", json=breach, headers=headers),
        "certification_id": client.post("/certifications", json={"year": 2025}, headers=headers),
    }
    ids = {"customer_id": customers, "name": ["Mia"]}
    for parameter, answer in made.items():
        assert answer.status_code == 201, answer.text
        ids[parameter] = [str(answer.json()["id"])]
    return ids


def _with_real_ids(operation: Any, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Valid and invalid cases alike; half keep the drawn path parameters, half take real ids."""
    drawn = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in schemathesis.GenerationMode))
    names = [p.name for p in operation.path_parameters if p.name in ids]
    if not names:
        return drawn

    def substitute(drawn: tuple[Any, bool, int]) -> Any:
        case, real, pick = drawn
        if real:
            for name in names:
                case.path_parameters[name] = ids[name][pick % len(ids[name])]
        return case

    return st.tuples(drawn, st.booleans(), st.integers(0, 9)).map(substitute)


def _secured(operation: Any) -> bool:
    return bool(operation.definition.raw.get("security"))


def _strip_auth(case: Any) -> None:
    for header in list(case.headers or {}):
        if header.lower() in AUTH_HEADERS:
            del case.headers[header]


def _exercise(operation: Any, ids: dict[str, list[str]], headers: dict[str, str], examples: int) -> None:
    @_settings(examples)
    @given(case=_with_real_ids(operation, ids))
    def with_key(case: Any) -> None:
        _strip_auth(case)
        case.call_and_validate(headers=headers, checks=CHECKS)

    @_settings(WITHOUT_KEY)
    @given(case=_with_real_ids(operation, ids))
    def without_key(case: Any) -> None:
        _strip_auth(case)
        answer = case.call()
        case.validate_response(answer, checks=CHECKS)
        if _secured(operation):
            assert answer.status_code == 401, f"{operation.label} without a key answered {answer.status_code}"

    with_key()
    without_key()


def test_every_operation_answers_generated_input_without_a_server_error_and_as_documented(
    app: App, actor: Actor
) -> None:
    api = create_app(app)
    client = TestClient(api)
    _, secret = create_api_key(app.uow(), app.clock, actor, "fuzzer", frozenset({"admin"}))
    headers = {"X-API-Key": secret}
    ids = _seed(client, app, actor, headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    examples = WITH_KEY[app.engine.dialect.name]
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 70
    for operation in operations:
        try:
            _exercise(operation, ids, headers, examples)
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's fault, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("key", [None, "cpg_not-a-key"])
def test_a_malformed_body_without_a_valid_key_is_refused_401_before_its_fields_are_named(
    app: App, key: str | None
) -> None:
    client = TestClient(create_app(app))
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {})}
    for body in (b"{not json", b'{"name": "\xff"}'):
        answer = client.post("/customers", content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "unauthorized"


def test_a_body_that_is_not_utf_8_is_invalid_input_with_the_house_refusal(app: App, actor: Actor) -> None:
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"write"}))
    headers = {"Content-Type": "application/json", "X-API-Key": secret}
    answer = TestClient(create_app(app)).post("/customers", content=b'{"name": "\xff"}', headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {"error": "invalid_input", "detail": "request body: it could not be read as JSON text"}
