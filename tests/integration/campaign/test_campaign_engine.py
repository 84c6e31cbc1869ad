"""Whole campaigns against the simulated DSP and fleet, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import pytest

from orchestrator.domain.policy import Budget, FailureThreshold, Policy
from orchestrator.errors import CampaignError
from orchestrator.service import campaigns
from orchestrator.service.access import Approvals, Principal
from orchestrator.service.driver import run_campaign

from .conftest import World

ALICE, BOB = Principal("alice", "admin"), Principal("bob", "admin")


def test_a_campaign_completes_and_every_device_runs_its_target(
        make_world: Callable[..., World]) -> None:
    """No faults: every planned device ends done, on its target, and nothing is bricked."""
    world = make_world()
    campaign_id = world.campaign()
    stats = run_campaign(world.ex, world.sim, campaign_id)
    assert stats.final_state == "completed"
    jobs = world.rows(f"select device_id, state, path from device_jobs "
                      f"where campaign_id = {campaign_id} and state != 'blocked'")
    assert jobs and {state for _, state, _ in jobs} == {"done"}
    fleet = world.sim.simulation.fleet
    for device_id, _, path in jobs:
        target = path[-1] if isinstance(path, list) else eval(path)[-1]
        assert fleet.running_entry(device_id) == target
    assert fleet.bricked() == []


def test_steps_are_confirmed_by_read_back_before_the_next_is_sent(
        make_world: Callable[..., World]) -> None:
    """For every device, each step's 11.1 comes after the previous step's read-back."""
    world = make_world()
    campaign_id = world.campaign()
    run_campaign(world.ex, world.sim, campaign_id)
    events = world.rows(f"select device_id, step, cause from job_events where campaign_id = "
                        f"{campaign_id} order by id")
    seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for device, step, cause in events:
        seen[device].append((step, cause))
    multi = [d for d, e in seen.items() if any(s > 0 for s, _ in e)]
    assert multi, "the generated fleet should have multi-step paths"
    for device in multi:
        causes = [(s, c) for s, c in seen[device] if c in ("sent_11.1", "version_read")]
        for (step_a, cause_a), (step_b, cause_b) in itertools.pairwise(causes):
            if cause_b == "sent_11.1" and step_b > 0:
                assert (step_a, cause_a) == (step_b - 1, "version_read")


def test_request_ids_never_repeat_and_match_what_the_dsp_counted(
        make_world: Callable[..., World]) -> None:
    """Every RequestID is unique and the DSP admitted exactly the SRs we recorded."""
    world = make_world()
    campaign_id = world.campaign()
    run_campaign(world.ex, world.sim, campaign_id)
    ids = [r[0] for r in world.rows("select request_id from sent_requests")]
    assert len(ids) == len(set(ids))
    ours = dict(world.rows("select sr_type, count(*) from sent_requests where "
                           "command_variant != 4 group by sr_type"))
    dsp = {sr: sum(p.values()) for sr, p in world.sim.simulation.dsp.sr_counts().items()}
    assert ours == {sr: n for sr, n in dsp.items() if n}


def test_with_faults_every_device_ends_terminal_and_agrees_with_the_simulator(
        make_world: Callable[..., World]) -> None:
    """Default faults: all jobs terminal, done devices run their target, none bricked."""
    world = make_world(faults="default", seed=3)
    policy = Policy(failure_thresholds=(),
                    success_threshold=0.0)
    campaign_id = world.campaign(policy)
    stats = run_campaign(world.ex, world.sim, campaign_id)
    assert stats.final_state == "completed"
    fleet = world.sim.simulation.fleet
    for device_id, state, path in world.rows(
            f"select device_id, state, path from device_jobs where campaign_id = {campaign_id}"
            " and state != 'blocked'"):
        target = path[-1] if isinstance(path, list) else eval(path)[-1]
        assert state in {"done", "rejected", "delivery_failed", "verification_failed",
                         "activation_failed", "quarantined", "timed_out"}
        if state == "done":
            assert fleet.running_entry(device_id) == target
    assert fleet.bricked() == []
    assert_no_unrecorded_resend(world, campaign_id)


SR_FROM = {"planned": "11.1", "delivered": "11.3", "activated": "11.2", "preread": "preread",
           "reread": "reread"}  # the state a recorded retry returns to -> what it sends


def assert_no_unrecorded_resend(world: World, campaign_id: int) -> None:
    """Each (device, step, SR) is sent once, plus once per recorded retry leading back to it.

    A recorded retry is an event that carries a failure and returns the job to the state in
    which that SR is sent (a retry of the stage, a re-activation, a re-distribution).
    """
    sends: dict[tuple[str, int, str], int] = defaultdict(int)
    retries: dict[tuple[str, int, str], int] = defaultdict(int)
    for device, step, cause, new, data in world.rows(
            "select device_id, step, cause, to_state, data from job_events "
            f"where campaign_id = {campaign_id}"):
        if cause.startswith("sent_"):
            sends[(device, step, cause[5:].replace("11.4", "11.1"))] += 1
        failure = (data if isinstance(data, dict) else json.loads(data)).get("failure")
        if failure and new in SR_FROM:
            retries[(device, step, SR_FROM[new])] += 1
    assert sends and any(retries.values())
    for key, count in sends.items():
        assert count <= 1 + retries[key], key


def test_failures_pause_the_wave_and_resume_and_cancel_work(
        make_world: Callable[..., World]) -> None:
    """A failure threshold pauses with a reason; resume continues; cancel ends everything."""
    world = make_world(faults="delivery_failure:0.6", seed=2)
    policy = Policy(failure_thresholds=(FailureThreshold("delivery_failed", count=2),))
    campaign_id = world.campaign(policy)
    stats = run_campaign(world.ex, world.sim, campaign_id)
    status = campaigns.status(world.app.uow(), campaign_id)
    assert stats.final_state == "paused" and "delivery_failed" in status["pause_reason"]
    campaigns.act(world.ex, campaign_id, "resume", BOB)
    assert campaigns.status(world.app.uow(), campaign_id)["state"] == "running"
    campaigns.act(world.ex, campaign_id, "cancel", BOB, "too many failures")
    states = campaigns.status(world.app.uow(), campaign_id)["states"]
    active = {"planned", "distributing", "delivered", "activating", "activated", "verifying"}
    assert not active & {s for s, n in states.items() if n}
    assert world.sim.simulation.fleet.bricked() == []


def test_pacing_keeps_every_sr_type_within_its_budget(make_world: Callable[..., World]) -> None:
    """With 11.3 and 11.2 limited per hour, the DSP never counts more in any hour."""
    world = make_world()
    budgets = (Budget("11.1", 3, 3600), Budget("11.3", 10, 3600), Budget("11.2", 10, 3600))
    campaign_id = world.campaign(Policy(budgets=budgets))
    stats = run_campaign(world.ex, world.sim, campaign_id)
    assert stats.final_state == "completed"
    sent = world.rows("select sr_type, sent_at from sent_requests where command_variant != 4")
    per_hour: dict[tuple[str, str], int] = defaultdict(int)
    for sr, at in sent:
        per_hour[(sr, str(at)[:13])] += 1
    limits = {b.sr_type: b.limit for b in budgets}
    assert per_hour and all(n <= limits[sr] for (sr, _), n in per_hour.items())


def test_the_creator_cannot_approve_a_large_campaign(make_world: Callable[..., World]) -> None:
    """Four eyes: above the deployment's size the creator's approval is refused (whatever the
    case of the name), another person's works."""
    world = make_world()
    ex = replace(world.ex, approvals=Approvals(above=1))
    campaign_id = world.campaign(start=False)
    assert campaigns.act(ex, campaign_id, "submit", ALICE)["state"] == "awaiting_approval"
    with pytest.raises(CampaignError, match="other than its creator"):
        campaigns.act(ex, campaign_id, "approve", Principal("ALICE", "admin"))
    assert campaigns.act(ex, campaign_id, "approve", BOB)["state"] == "approved"


def test_requests_recorded_but_never_sent_are_retried_by_the_reconciler(
        make_world: Callable[..., World]) -> None:
    """A sender that dies after recording its claim loses nothing: the reconciler retries."""
    from orchestrator.service.execution import _claim
    from orchestrator.service.reconcile import reconcile

    world = make_world()
    campaign_id = world.campaign()
    claimed = _claim(world.ex, campaign_id)  # recorded as sent; the "worker" dies here
    assert claimed is not None and claimed[2].devices > 0
    world.ex.unacknowledged_grace_s = 0.0
    world.sim.advance_to(world.ex.clock.now() + dt.timedelta(seconds=1))
    assert reconcile(world.ex).timed_out == claimed[2].devices
    retried = world.rows("select count(*) from job_events where cause = 'timed_out' "
                         f"and to_state = 'planned' and campaign_id = {campaign_id}")
    assert retried[0][0] == claimed[2].devices
    assert run_campaign(world.ex, world.sim, campaign_id).final_state == "completed"
    assert world.sim.simulation.fleet.bricked() == []
