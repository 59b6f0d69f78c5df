"""The OpenAPI document matches what each route answers (issue 15): a bounded schemathesis run over
``/openapi.json`` of a real server finds no server error and no status code the document does not list.

The operations are driven one by one with Hypothesis (a bounded number of generated requests each),
rather than through schemathesis' pytest plugin, so that one report lists every operation that fails.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402 - schemathesis brings hypothesis
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import status_code_conformance  # noqa: E402

EXAMPLES = 12  # per operation: bounded, the run takes about a minute


def test_every_route_answers_as_documented(live_server):
    schema = schemathesis.openapi.from_url(live_server + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(base_url=live_server, checks=[not_a_server_error, status_code_conformance],
                                   timeout=120)

        try:
            run()
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collected, reported together below
            failures[operation.label] = str(e)[:1500]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
