"""0x8F1C (the image failed the device's verification) ends the step at once: in
`verification_failed` with the hash the device computed, or distributed again when the policy
retries a corrupted transfer; never left to wait for the stage deadline."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from orchestrator.domain.policy import Policy, RetryPolicy
from orchestrator.service.driver import run_campaign

from .conftest import World


def _data(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def test_a_corrupted_image_ends_the_step_verification_failed_with_the_computed_hash(
        make_world: Callable[..., World]) -> None:
    """Every image arrives corrupted and the policy does not retry it: each device that
    raised 0x8F1C ends `verification_failed` from that alert (not `timed_out`), its event
    carrying the hash the device computed and the one expected."""
    world = make_world(faults="verification_failure:1.0")
    retry = replace(RetryPolicy(), retry_on=RetryPolicy().retry_on - {"verification_failed"})
    campaign_id = world.campaign(Policy(retry=retry,
                                        failure_thresholds=()))
    assert run_campaign(world.ex, world.sim, campaign_id).final_state == "completed"
    states = dict(world.rows(f"select state, count(*) from device_jobs where campaign_id = "
                             f"{campaign_id} and state != 'blocked' group by state"))
    events = world.rows(f"select device_id, to_state, data from job_events where campaign_id = "
                        f"{campaign_id} and cause = 'image_verification_failed'")
    assert events and states.get("verification_failed") == len(events), states
    assert set(states) <= {"verification_failed", "delivery_failed"}  # PPMIDs: 0x8F89
    assert not world.rows(f"select 1 from job_events where campaign_id = {campaign_id} "
                          f"and cause = 'timed_out'")
    for device_id, to_state, data in events:
        found = _data(data)
        assert to_state == "verification_failed" and found["failure"] == "verification_failed"
        expected = found["expected_hash"]
        corrupted = hashlib.sha256(bytes.fromhex(expected) + b"corrupted").hexdigest()
        assert found["computed_hash"] == corrupted, device_id
    assert world.sim.simulation.fleet.bricked() == []


def test_a_corrupted_transfer_is_sent_again_by_default(make_world: Callable[..., World]) -> None:
    """With the default policy a 0x8F1C re-distributes the step (a corrupted transfer), so
    with a third of the transfers corrupted the campaign still completes: each device done,
    unless all its attempts at a step arrived corrupted."""
    world = make_world(faults="verification_failure:0.3", seed=3)
    campaign_id = world.campaign()
    stats = run_campaign(world.ex, world.sim, campaign_id)
    events = world.rows(f"select device_id, step, to_state from job_events where campaign_id "
                        f"= {campaign_id} and cause = 'image_verification_failed' order by id")
    assert any(to == "planned" for _, _, to in events)
    assert stats.final_state == "completed"
    states = dict(world.rows(f"select device_id, state from device_jobs where campaign_id = "
                             f"{campaign_id}"))
    tries: dict[tuple[str, int], int] = {}
    for device, step, _ in events:
        tries[(device, step)] = tries.get((device, step), 0) + 1
    attempts = RetryPolicy().attempts
    exhausted = {device for (device, _), n in tries.items() if n >= attempts}
    for device, _ in tries:  # done, unless every attempt at one of its steps arrived corrupted
        assert states[device] == ("verification_failed" if device in exhausted else "done"), \
            device
    assert world.sim.simulation.fleet.bricked() == []
