"""Fuzzing every JSON API operation from its own OpenAPI document: no input answers 5xx.

schemathesis generates requests (valid and invalid) from the marshmallow-derived schema; a user
with every role sends them, so each operation's own checks are reached, not only the role
check. Any 500 is a bug: the assertion names the operation and the request that broke it.
(Operations are walked in one test: schemathesis's pytest fixture loader does not run under
the pytest version we pin.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def everyone(factory: Any, patient: Any, sign_order: Any) -> dict[str, str]:
    sign_order(patient)  # so that patient 1 has an order, a plan and a schedule to fuzz against
    user = factory.user("nurse", "prescriber", "auditor", "admin", username="fuzzer")
    return {"Authorization": f"Bearer {factory.token(user)}"}


@pytest.mark.slow
def test_no_input_is_a_server_error(app: Any, everyone: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every blueprint's operations are in the document

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            response = case.call(headers=everyone)
            assert response.status_code < 500, (
                f"{case.operation.label}: {response.status_code} for {case.as_curl_command()}\n"
                f"{response.text[:500]}"
            )

        no_server_error()
