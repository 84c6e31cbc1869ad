"""The wait a running campaign shows follows from its counters and due times."""
from __future__ import annotations

import datetime as dt

from orchestrator.domain.campaign import Campaign, CampaignState
from orchestrator.domain.policy import ActivationWindow, Policy
from orchestrator.domain.waiting import Facts, Held, campaign_wait

NOW = dt.datetime(2026, 1, 6, 12, 0, tzinfo=dt.UTC)  # 12:00 in London


def _running(policy: Policy | None = None, wave: int = 1) -> Campaign:
    return Campaign(1, "c", "latest", {}, policy or Policy(), "alice", NOW,
                    state=CampaignState.RUNNING, device_count=10, current_wave=wave)


def test_future_dated_activations_wait_for_the_window() -> None:
    """Activations sent outside the window wait for its next opening, named with the zone."""
    window = ActivationWindow.parse("01:00-05:00")
    wait = campaign_wait(_running(Policy(activation_window=window)),
                         Facts(NOW, {1: {"scheduled": 4, "done": 6}}, dispatched_at=NOW))
    assert wait is not None and wait.reason == "activation_window"
    assert wait.until == dt.datetime(2026, 1, 7, 1, 0, tzinfo=dt.UTC)
    assert wait.detail.startswith("4 activations future-dated into the window 01:00-05:00")


def test_retries_due_later_wait_for_their_backoff() -> None:
    """Jobs due only later (retries) are a backoff wait until the earliest is due."""
    later = NOW + dt.timedelta(minutes=15)
    wait = campaign_wait(_running(), Facts(NOW, {1: {"planned": 3}}, later, dispatched_at=NOW))
    assert wait is not None and (wait.reason, wait.until) == ("backoff", later)


def test_the_next_wave_waits_for_the_gate() -> None:
    """With work out in wave 1 and wave 2 untouched, the wait is the wave gate."""
    wait = campaign_wait(_running(), Facts(NOW, {1: {"distributing": 2, "done": 1},
                                                 2: {"planned": 7}}, dispatched_at=NOW))
    assert wait is not None and wait.reason == "wave_gate"
    assert "wave 2 opens when the 2 unfinished devices of wave 1" in wait.detail


def test_a_spent_budget_outranks_and_a_refilled_one_does_not() -> None:
    """Due work held by a budget waits for pacing; once the refill time passed it does not."""
    held = (Held("11.1", 100, 3600.0, NOW + dt.timedelta(minutes=20)),)
    facts = Facts(NOW, {1: {"planned": 5}}, NOW, held, dispatched_at=NOW)
    wait = campaign_wait(_running(), facts)
    assert wait is not None and (wait.reason, wait.sr_type) == ("pacing", "11.1")
    later = Facts(NOW + dt.timedelta(minutes=21), {1: {"planned": 5}}, NOW, held,
                  dispatched_at=NOW + dt.timedelta(minutes=21))
    assert campaign_wait(_running(), later) is None  # due and sending: no wait


def test_due_work_with_no_dispatcher_says_so() -> None:
    """Due work no dispatcher has looked at for minutes asks whether a worker runs."""
    stale = NOW - dt.timedelta(minutes=10)
    wait = campaign_wait(_running(), Facts(NOW, {1: {"planned": 5}}, NOW, dispatched_at=stale))
    assert wait is not None and wait.reason == "dispatcher" and "worker" in wait.detail


def test_requests_out_outrank_a_retry_due_later() -> None:
    """With answers awaited and one retry due later, the campaign waits for the answers."""
    later = NOW + dt.timedelta(minutes=15)
    wait = campaign_wait(_running(), Facts(NOW, {1: {"distributing": 9, "planned": 1}}, later,
                                           dispatched_at=NOW))
    assert wait is not None and wait.reason == "answers" and wait.detail.startswith("9 ")
