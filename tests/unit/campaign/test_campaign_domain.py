"""Campaign state machine, device-job steps, waves, gates, pacing and windows (pure domain)."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import pytest

from orchestrator.domain.campaign import Campaign, CampaignState
from orchestrator.domain.errors import ApprovalError, InvalidTransitionError, PolicyError
from orchestrator.domain.jobs import Context, DeviceJob, JobState, Outcome, advance, sent
from orchestrator.domain.pacing import InProcessPacer
from orchestrator.domain.policy import (
    ActivationWindow,
    Budget,
    FailureThreshold,
    Policy,
    RetryPolicy,
    parse_waves,
)
from orchestrator.domain.waves import WaveCounts, assign_waves, evaluate_gate

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def campaign(devices: int = 10, **policy: object) -> Campaign:
    return Campaign(1, "c", "latest", {}, Policy(**policy), "alice", T0,  # type: ignore[arg-type]
                    device_count=devices)


def ctx(version: str = "00000002", policy: Policy | None = None) -> Context:
    return Context(T0, policy or Policy(), version, random.Random(1))


def test_small_campaigns_are_approved_on_submit() -> None:
    """Below the four-eyes size the creator's submit approves it."""
    c = campaign(10)
    c.submit(T0, "alice", 1000)
    assert c.state is CampaignState.APPROVED and c.approved_by == "alice"


def test_large_campaigns_need_a_different_approver() -> None:
    """Above the size the creator cannot approve; someone else can."""
    c = campaign(5000)
    c.submit(T0, "alice", 1000)
    with pytest.raises(ApprovalError, match="other than its creator"):
        c.approve(T0, "alice")
    c.approve(T0, "bob")
    assert (c.state, c.approved_by) == (CampaignState.APPROVED, "bob")


def test_running_pauses_resumes_and_cannot_restart_after_cancel() -> None:
    """running ⇄ paused; cancelled is terminal."""
    c = campaign()
    c.submit(T0, "alice", 1000)
    c.start(T0, "alice")
    c.pause(T0, "ops", "investigating")
    assert c.pause_reason == "investigating" and not c.sending
    c.resume(T0, "ops")
    c.cancel(T0, "ops", "wrong target")
    with pytest.raises(InvalidTransitionError, match="cancelled: cannot start"):
        c.start(T0, "ops")


def test_a_step_is_confirmed_only_by_the_read_back() -> None:
    """planned→distributing→delivered→activating→activated→verifying→next step→done."""
    job = DeviceJob(1, "D1", ("E2", "E3"))
    c2, c3 = ctx("00000002"), ctx("00000003")
    job, _ = sent(job, "r1", c2)
    job, _ = advance(job, Outcome("delivered", "r1"), c2)  # type: ignore[misc]
    job, _ = sent(job, "r2", c2)
    job, _ = advance(job, Outcome("activated", "r2"), c2)  # type: ignore[misc]
    assert job.state is JobState.ACTIVATED and job.step == 0
    job, _ = sent(job, "r3", c2)
    job, event = advance(job, Outcome("version_read", "r3", firmware_version="00000002"),
                         c2)  # type: ignore[misc]
    assert (job.state, job.step, event.to_state) == (JobState.PLANNED, 1, "planned")
    for rid, outcome in (("r4", "delivered"), ("r5", "activated")):
        job, _ = sent(job, rid, c3)
        job, _ = advance(job, Outcome(outcome, rid), c3)  # type: ignore[misc]
    job, _ = sent(job, "r6", c3)
    job, _ = advance(job, Outcome("version_read", "r6", firmware_version="00000003"),
                     c3)  # type: ignore[misc]
    assert job.state is JobState.DONE


def test_stale_and_duplicate_outcomes_are_ignored() -> None:
    """An answer to an older request, or a repeated one, changes nothing."""
    job, _ = sent(DeviceJob(1, "D1", ("E2",)), "r1", ctx())
    assert advance(job, Outcome("delivered", "old"), ctx()) is None
    job, _ = advance(job, Outcome("delivered", "r1"), ctx())  # type: ignore[misc]
    assert advance(job, Outcome("delivered", "r1"), ctx()) is None


def test_transient_failures_retry_with_backoff_then_end() -> None:
    """comms failures go back a stage with growing delay; after the last attempt they end."""
    policy = Policy(retry=RetryPolicy(attempts=2, base_s=100, jitter=0))
    job, _ = sent(DeviceJob(1, "D1", ("E2",)), "r1", ctx(policy=policy))
    job, _ = advance(job, Outcome("comms_failure", "r1"), ctx(policy=policy))  # type: ignore[misc]
    assert (job.state, job.attempt, job.due_at) == (JobState.PLANNED, 2,
                                                    T0 + dt.timedelta(seconds=100))
    job, _ = sent(job, "r2", ctx(policy=policy))
    job, event = advance(job, Outcome("comms_failure", "r2"), ctx(policy=policy))  # type: ignore[misc]
    assert job.state is JobState.TIMED_OUT and event.data["failure"] == "comms_failure"


def test_a_wrong_read_back_version_activates_again_then_fails_the_device() -> None:
    """The 11.2 read-back must show the step's version: re-activate, then stop there."""
    policy = Policy(retry=RetryPolicy(attempts=2, jitter=0))
    job = DeviceJob(1, "D1", ("E2", "E3"), state=JobState.VERIFYING, request_id="r")
    job, _ = advance(job, Outcome("version_read", "r", firmware_version="00000001"),
                     ctx("00000002", policy))  # type: ignore[misc]
    assert (job.state, job.step, job.failure) == (JobState.DELIVERED, 0, "version_mismatch")
    job = replace(job, state=JobState.VERIFYING, request_id="r2")
    job, _ = advance(job, Outcome("version_read", "r2", firmware_version="00000001"),
                     ctx("00000002", policy))  # type: ignore[misc]
    assert (job.state, job.failure) == (JobState.ACTIVATION_FAILED, "version_mismatch")


def test_waves_parse_and_cover_every_device_once() -> None:
    """Cumulative percentages split devices; every device lands in exactly one wave."""
    waves = parse_waves("1%,10%,50%")
    assert waves[-1].percent == 100.0
    assigned = assign_waves([f"D{i}" for i in range(1000)], waves)
    sizes = [sum(1 for w in assigned.values() if w == n) for n in (1, 2, 3, 4)]
    assert sizes == [10, 90, 400, 500]
    with pytest.raises(PolicyError):
        parse_waves("ten")


def test_gate_pauses_on_failures_and_opens_on_success() -> None:
    """A failure threshold pauses mid-wave; a finished, successful wave opens the next."""
    policy = Policy(failure_thresholds=(FailureThreshold("delivery_failed", count=3),),
                    success_threshold=0.9)
    running = {1: WaveCounts(total=100, done=10, failed={"delivery_failed": 3})}
    decision = evaluate_gate(policy, 1, 3, running)
    assert decision.action == "pause" and "delivery_failed" in decision.reason
    assert evaluate_gate(policy, 1, 3, {1: WaveCounts(100, 95, {"x": 2})}).action == "continue"
    assert evaluate_gate(policy, 1, 3, {1: WaveCounts(100, 98, {"x": 2})}).action == "open_next"
    low = evaluate_gate(Policy(failure_thresholds=()), 1, 3, {1: WaveCounts(10, 5, {"x": 5})})
    assert low.action == "pause" and "below" in low.reason
    assert evaluate_gate(policy, 3, 3, {3: WaveCounts(10, 10)}).action == "complete"


def test_pacing_grants_within_the_window_and_says_when_more_come() -> None:
    """A budget of 5 per hour grants 5, then nothing until the next aligned window."""
    pacer, budget = InProcessPacer(), Budget("11.1", 5, 3600)
    first = pacer.acquire(budget, 3, T0)
    second = pacer.acquire(budget, 3, T0)
    assert (first.granted, second.granted) == (3, 2)
    assert second.retry_at == T0 + dt.timedelta(hours=1)
    assert pacer.acquire(budget, 3, T0 + dt.timedelta(hours=1)).granted == 3


def test_activation_window_wraps_midnight_in_london_time() -> None:
    """01:00-05:00 Europe/London: inside passes through, outside moves to the next 01:00."""
    window = ActivationWindow.parse("01:00-05:00")
    inside = dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.UTC)  # 02:30 BST
    assert window.next_opening(inside) == inside
    opening = window.next_opening(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC))
    assert opening == dt.datetime(2026, 7, 2, 0, 0, tzinfo=dt.UTC)  # 01:00 BST
    night = ActivationWindow.parse("23:00-02:00", "UTC")
    assert night.contains(dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.UTC))


def test_an_11_3_near_the_close_of_the_window_is_dated_to_the_next_opening() -> None:
    """Outside the window: the next opening; well inside: at once; within the closing margin
    (30 minutes): the next opening, so a slow WAN never lands an activation after the close."""
    window = ActivationWindow.parse("01:00-05:00", "UTC")
    day = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    assert window.activation_time(day.replace(hour=12)) == day.replace(day=2, hour=1)
    assert window.activation_time(day.replace(hour=0, minute=50)) == day.replace(hour=1)
    assert window.activation_time(day.replace(hour=2)) is None
    assert window.activation_time(day.replace(hour=4, minute=29)) is None
    assert window.activation_time(day.replace(hour=4, minute=31)) == day.replace(day=2, hour=1)


def test_a_future_dated_activation_is_read_back_only_after_it_ran() -> None:
    """Dated into the window, the activation stage counts from the execution time: nothing
    times it out (and reads back) before then; 0x8F66 moves it on; 0x8F67 fails it."""
    c = ctx()
    at = T0 + dt.timedelta(hours=13)  # the next 01:00
    job, _ = sent(DeviceJob(1, "D1", ("E2",), state=JobState.DELIVERED), "r1", c, at)
    assert job.state is JobState.ACTIVATING and job.sr_type is None  # nothing to send
    assert job.deadline_at == at + dt.timedelta(seconds=Policy().timeouts.activating_s)
    ran, _ = advance(job, Outcome("activated", None, "0x8F66"), c)  # type: ignore[misc]
    assert ran.state is JobState.ACTIVATED and ran.sr_type == "11.2"
    failed, event = advance(job, Outcome("activation_failed", None,
                                         "0x8F67 result 3 (activation_failure)"),
                            c)  # type: ignore[misc]
    assert failed.state is JobState.ACTIVATION_FAILED
    assert event.data["detail"].endswith("(activation_failure)")
    now, _ = sent(DeviceJob(1, "D1", ("E2",), state=JobState.DELIVERED), "r2", c)
    assert now.deadline_at == T0 + dt.timedelta(seconds=Policy().timeouts.activating_s)
