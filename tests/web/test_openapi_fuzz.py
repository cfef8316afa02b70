"""schemathesis against the API on SQLite: requests generated from the OpenAPI document
(good and bad input alike, by an admin's token), answered with no 5xx and nothing that
breaks the document (status codes, content types, bodies). Driven through schemathesis'
Python API, one Hypothesis run per operation (its pytest plugin's lazy schema does not run
under this pytest)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clinicledger.domain.permissions import Role

from .harness import token_for

EXAMPLES = 30  # per operation: enough to find a 5xx, few enough for the quick loop
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_api_has_no_5xx_and_keeps_to_its_document(app: FastAPI, desk) -> None:
    headers = {"Authorization": f"Bearer {token_for(desk, Role.ADMIN)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            answer = case.call_and_validate(headers=headers, checks=CHECKS)
            assert answer.status_code < 500, (case.method, case.path, answer.text)

        run()
