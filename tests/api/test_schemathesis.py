"""Schemathesis against the OpenAPI description: every operation, with generated inputs that fit
the schema and inputs that do not (wrong types, oversized strings, missing and extra fields, odd
characters in every path and query parameter), as an integration and as an anonymous caller.
No input may produce a 5xx.

(Schemathesis' pytest plugin does not run under pytest 9 yet, so the operations are driven through
its Hypothesis strategies directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

PROFILE = settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def test_no_input_makes_a_server_error(app: FastAPI, integration_key: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    headers = {"Authorization": f"Bearer {integration_key}"}
    failures: list[str] = []
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @PROFILE
        @given(case=strategy, anonymous=st.booleans())
        def exercise(case: schemathesis.Case, anonymous: bool) -> None:
            response = case.call(headers=None if anonymous else headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.operation.label}: {response.status_code} for {case.as_curl_command()}"
                )

        exercise()
    assert failures == [], "\n".join(failures[:10])


@pytest.mark.parametrize("size", [2_000_000])
def test_an_oversized_body_is_refused_with_a_4xx(
    app: FastAPI, integration_key: str, size: int
) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as client:
        body = b'{"external_ref": "' + b"x" * size + b'"}'
        response = client.post(
            "/v1/customers",
            content=body,
            headers={
                "Authorization": f"Bearer {integration_key}",
                "Content-Type": "application/json",
            },
        )
        assert 400 <= response.status_code < 500
