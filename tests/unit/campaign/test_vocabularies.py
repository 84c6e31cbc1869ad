"""The job vocabularies are types: every outcome kind has its transition, every failure a
policy may retry is a known one, and a policy naming another is refused."""
from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.domain import jobs
from orchestrator.domain.errors import PolicyError
from orchestrator.domain.jobs import OutcomeKind
from orchestrator.domain.policy import Failure, Policy, RetryPolicy
from orchestrator.domain.policy_input import check_policy


def test_every_outcome_kind_has_exactly_one_transition() -> None:
    assert set(jobs._HANDLERS) == set(OutcomeKind)


def test_the_default_retries_name_known_failures_and_never_a_rejected_answer() -> None:
    retry_on = RetryPolicy().retry_on
    assert retry_on <= set(Failure)
    assert Failure.ANSWER_REJECTED not in retry_on


def test_a_policy_retrying_an_unknown_failure_is_refused_with_the_known_ones() -> None:
    retry = replace(RetryPolicy(), retry_on=frozenset({"timed_out", "timeout"}))
    with pytest.raises(PolicyError, match="unknown failure.*timeout.*known: comms_failure"):
        check_policy(replace(Policy(), retry=retry))
    check_policy(replace(Policy(), retry=replace(retry, retry_on=frozenset({"timed_out"}))))
