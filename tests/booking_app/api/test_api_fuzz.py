"""The public API fuzzed from its own OpenAPI document with schemathesis (issue 19,
item 6): for every documented operation, data the schema allows and data it forbids.
The API never answers 5xx; its answers match their documented status codes, content
types and schemas; and where the schema can say everything the API checks, the data
it allows is accepted (not 400).

Where it cannot (a rule between two fields, a personal number's check digit, a slot's
end that must be start + the treatment's length), the operation is fuzzed for the
rest only; those rules are in the operations' descriptions. Small and derandomized:
a few examples an operation and mode, the same each run (CI time)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from booking_app.main import create_app
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.booking_app.api.api_client import API
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, store_url

EXAMPLES = 5
"""Examples per operation and mode: enough to cross each parameter's limits (the
coverage of every edge is schemathesis's own CLI's, run by hand: see the README)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NOT_FOR_POSITIVE: dict[str, str] = {
    "BookingsV1_AddBooking": "the personal number's Luhn digit and the contact rules",
    "BookingsV1_RescheduleBooking": "the personal number's Luhn digit",
    "BookingsV1_CancelBooking": "the personal number's Luhn digit",
    "PatientsV1_GetBookings": "the personal number's Luhn digit",
    "PatientsV1_GetExtendedBookings": "the personal number's Luhn digit",
}
"""Operations whose schema-valid data the API may still refuse, and why."""


def _query(case) -> dict[str, Any]:
    return {k.casefold().removeprefix("request."): v for k, v in (case.query or {}).items()}


def _allowed_by_cross_field_rules(case) -> bool:
    """The documented rules between fields that a schema cannot state."""
    query = _query(case)
    if "from" in query and "to" in query and str(query["to"]) <= str(query["from"]):
        return False  # "to" after "from" (same offset in generated values? not always)
    slot = case.body if isinstance(case.body, dict) else {}
    ends = [query.get("timeslottocheck.end"), slot.get("End")]
    return not any(end is not None for end in ends)  # End must be Start + Duration


@pytest.fixture
def api_schema(synced_store: Engine):
    settings_ = Settings(store_url=store_url(synced_store), base_domain=BASE_DOMAIN)
    app = create_app(settings_)
    schema = schemathesis.openapi.from_asgi(
        f"{API}/openapi.json", app, headers={"Host": TENANT_HOST}
    )
    return schema


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str], problems: list[str]):
    """A Hypothesis test of one operation in one mode, recording what goes wrong."""
    operation_id = operation.definition.raw["operationId"]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except AssertionError as failure:  # schemathesis's failures are these
            problems.append(f"{operation_id} {mode.value}: {failure}"[:600])
        if (
            mode is GenerationMode.POSITIVE
            and operation_id not in NOT_FOR_POSITIVE
            and response.status_code == 400
            and _allowed_by_cross_field_rules(case)
        ):
            problems.append(
                f"{operation_id}: schema-valid data refused: {case.path_parameters} "
                f"{case.query} {case.body} -> {response.text[:300]}"
            )

    return run


def test_the_api_answers_what_its_document_promises(api_schema) -> None:
    headers = {"Host": TENANT_HOST, "apiKey": DEMO_API_KEY}
    problems: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 15, [op.label for op in operations]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, problems)()
    assert problems == [], "\n".join(problems)
