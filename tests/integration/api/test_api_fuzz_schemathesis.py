"""Schemathesis fuzzes every operation of the OpenAPI schema in process: never a 5xx.

Each operation gets a few positive and negative examples (hypothesis, derandomized) sent
through the ASGI app with an admin token, so every route's code runs, not just its guard.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from orchestrator.entrypoints.api import create_app

from .conftest import add_users, ops_app

EXAMPLES = 6


@pytest.fixture
def fuzzed(api_data: Path, tmp_path: Path) -> Any:
    """The API on a SQLite database with data, and an admin token."""
    app = ops_app(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}", api_data, tmp_path)
    tokens = add_users(app)
    yield create_app(app), tokens["ada"]
    app.close()


def test_no_operation_answers_5xx(fuzzed: Any) -> None:
    """Whatever schemathesis sends to any operation, with an admin token, no 5xx comes back."""
    api, token = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 38
    seen: list[int] = []
    for operation in operations:
        fuzz(operation, token, seen)
    assert any(200 <= s < 300 for s in seen) and any(400 <= s < 500 for s in seen)
    assert max(seen) < 500


def fuzz(operation: Any, token: str, seen: list[int]) -> None:
    """Run EXAMPLES generated cases (valid and invalid input) of one operation."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                          checks=[not_a_server_error])
        seen.append(response.status_code)

    run()
