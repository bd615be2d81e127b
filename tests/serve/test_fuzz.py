"""Schemathesis on the server's own OpenAPI schema, bounded: valid and invalid queries of
every operation; no 5xx, every response (status, content type, body) as the schema says,
invalid ones refused with 4xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.integration  # the warehouse is built through Kafka

MAX_EXAMPLES = 20  # per operation and mode: 12 operations x 2 modes, ~480 requests


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(base_url, mode):
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12
    calls: list[int] = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate()
            calls.append(response.status_code)
            assert response.status_code < 500

        check()
    assert len(calls) >= len(operations) * 5
    if mode == schemathesis.GenerationMode.NEGATIVE:
        assert any(400 <= status < 500 for status in calls)
