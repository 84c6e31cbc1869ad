"""Success and failure thresholds are settable per campaign: typed values parse to the
policy, bad ones are refused with one line naming them, none given keeps the defaults."""
from __future__ import annotations

import pytest

from orchestrator.domain.errors import PolicyError
from orchestrator.domain.policy import FailureThreshold, Policy
from orchestrator.domain.policy_input import campaign_policy


def test_given_thresholds_reach_the_policy_and_defaults_stay_otherwise() -> None:
    policy = campaign_policy(success="90%", failures=["*=5%", "timeout=3"])
    assert policy.success_threshold == pytest.approx(0.9)
    assert policy.failure_thresholds == (FailureThreshold("*", percent=5.0),
                                         FailureThreshold("timeout", count=3))
    assert campaign_policy(success="0.8").success_threshold == pytest.approx(0.8)
    default = campaign_policy()
    assert (default.success_threshold, default.failure_thresholds) == (
        Policy().success_threshold, Policy().failure_thresholds)


@pytest.mark.parametrize("success,failures,words", [
    ("150%", [], "1.5"), ("abc", [], "'abc'"), ("nan", [], "'nan'"), ("-1%", [], "-0.01"),
    (None, ["*"], "KIND=N"), (None, ["=5"], "KIND=N"), (None, ["*=0"], "count"),
    (None, ["*=2.5"], "whole"), (None, ["*=120%"], "percent"), (None, ["*=x%"], "'x'")])
def test_bad_thresholds_are_one_line_naming_the_value(success: str | None,
                                                      failures: list[str], words: str) -> None:
    with pytest.raises(PolicyError) as caught:
        campaign_policy(success=success, failures=failures)
    assert words in str(caught.value) and "\n" not in str(caught.value)
