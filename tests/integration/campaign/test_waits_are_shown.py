"""What a campaign waits for is shown where operators look: the status (CLI, API, dashboard)
names the wait and when it ends, and /metrics carries it with the SR budgets left."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from orchestrator.adapters.metrics import Metrics
from orchestrator.domain.pacing import window_end
from orchestrator.domain.policy import ActivationWindow, Budget, Policy
from orchestrator.errors import OrchestratorError
from orchestrator.service import campaigns
from orchestrator.service.access import Approvals, Principal
from orchestrator.service.driver import run_campaign
from orchestrator.service.execution import dispatch

from .conftest import GENEROUS, World

HOUR = 3600.0
ALICE, BOB = Principal("alice", "admin"), Principal("bob", "admin")


def _status(world: World, campaign_id: int) -> dict:  # type: ignore[type-arg]
    return campaigns.status(world.app.uow(), campaign_id, world.ex.clock.now())


def _paced_policy() -> Policy:
    budgets = tuple(Budget(sr, GENEROUS[sr], HOUR) for sr in ("11.1", "11.4", "11.3"))
    return Policy(budgets=(*budgets, Budget("11.2", 2, HOUR)))


def test_a_used_up_budget_is_shown_with_its_sr_type_and_refill_time(
        make_world: Callable[..., World]) -> None:
    """Started but never dispatched, the campaign waits for a dispatcher; once a dispatch
    has spent the 2 pre-reads (11.2) an hour allows, it waits for pacing of SR 11.2 until
    the hour's window ends (not "planned"), only the 2 sent devices are in flight, and
    /metrics shows the wait and 0 left of the 11.2 budget."""
    world = make_world()
    campaign_id = world.campaign(_paced_policy())
    assert _status(world, campaign_id)["waiting"]["reason"] == "dispatcher"
    while dispatch(world.ex, campaign_id).devices:
        pass
    status = _status(world, campaign_id)
    now = world.ex.clock.now()
    refill = window_end(Budget("11.2", 2, HOUR), now)
    assert status["waiting"] == {
        "reason": "pacing", "sr_type": "11.2", "until": refill.isoformat(),
        "detail": "SR 11.2 budget used up (2 per hour): sends resume when it refills"}
    assert status["in_flight"] == 2 and status["states"]["prereading"] == 2
    assert status["pacing"]["11.2"]["remaining"] == 0
    assert status["policy"]["budgets"]["11.2"] == "2 per hour"
    text = Metrics(world.app.engine, world.ex.clock).render()[0].decode()
    assert (f'fwo_campaign_waiting{{campaign="test",campaign_id="{campaign_id}",'
            'reason="pacing"} 1.0') in text
    assert 'fwo_pacing_budget_remaining{sr_type="11.2"} 0.0' in text
    until = next(line for line in text.splitlines()
                 if line.startswith("fwo_campaign_wait_until_seconds{"))
    assert f'campaign_id="{campaign_id}"' in until
    assert float(until.rsplit(" ", 1)[1]) == refill.timestamp()


def test_approval_pause_and_a_dispatch_error_are_shown(
        make_world: Callable[..., World]) -> None:
    """Above the four-eyes size the campaign waits for an approver other than its creator;
    paused it waits with the pause reason; a dispatch error is kept on the campaign; the
    actions offered are those the state allows."""
    world = make_world()
    ex = replace(world.ex, approvals=Approvals(above=1))
    campaign_id = world.campaign(start=False)
    campaigns.act(ex, campaign_id, "submit", ALICE)
    status = _status(world, campaign_id)
    assert status["waiting"]["reason"] == "approval" and "alice" in status["waiting"]["detail"]
    assert status["actions"] == ["approve", "cancel"]
    for action in ("approve", "start"):
        campaigns.act(ex, campaign_id, action, BOB)
    campaigns.act(ex, campaign_id, "pause", BOB, "change freeze")
    status = _status(world, campaign_id)
    assert status["waiting"]["reason"] == "paused"
    assert status["waiting"]["detail"] == "change freeze"
    assert status["actions"] == ["resume", "cancel"]
    campaigns.record_dispatch_error(world.app.uow(), campaign_id,
                                    OrchestratorError("no FWO_DSP_URL"))
    assert _status(world, campaign_id)["dispatch_error"] == "OrchestratorError: no FWO_DSP_URL"


def test_every_reason_is_kept_with_who_gave_it(make_world: Callable[..., World]) -> None:
    """The reasons given to approve, start, pause and resume are in the campaign's events
    with their actor; a device cancelled then retried carries both reasons in its events
    and no longer shows the `cancelled` failure."""
    world = make_world()
    ex = replace(world.ex, approvals=Approvals(above=1))
    campaign_id = world.campaign(start=False)
    campaigns.act(ex, campaign_id, "submit", ALICE, "Q1 security fix")
    campaigns.act(ex, campaign_id, "approve", BOB, "CAB-42 approved")
    campaigns.act(ex, campaign_id, "start", BOB, "window agreed")
    campaigns.act(ex, campaign_id, "pause", BOB, "change freeze")
    campaigns.act(ex, campaign_id, "resume", ALICE, "freeze lifted")
    with world.app.uow() as uow:
        events = [(e["name"], e["actor"], e["reason"]) for e in uow.campaigns.events(campaign_id)]
        device = uow.campaigns.jobs(campaign_id, limit=1)[0].device_id
    assert events[1:] == [("campaign_submit", "alice", "Q1 security fix"),
                          ("campaign_approve", "bob", "CAB-42 approved"),
                          ("campaign_start", "bob", "window agreed"),
                          ("campaign_pause", "bob", "change freeze"),
                          ("campaign_resume", "alice", "freeze lifted")]
    campaigns.device_action(ex, campaign_id, device, "cancel", BOB, "customer complaint")
    campaigns.device_action(ex, campaign_id, device, "retry", ALICE, "customer agreed")
    with world.app.uow() as uow:
        job = next(j for j in uow.campaigns.jobs_of_device(device))
        details = [e["data"].get("detail") for e in uow.campaigns.device_history(device)]
    assert job.state.value == "planned" and job.failure is None
    assert "cancel by bob: customer complaint" in details
    assert "retry by alice: customer agreed" in details


class _Seen(Exception):
    """Stops a simulated run at the first future-dated activation."""


def test_future_dated_activations_are_scheduled_and_wait_for_the_window(
        make_world: Callable[..., World]) -> None:
    """Outside a 01:00-05:00 window, every accepted 11.3 is counted as `scheduled` (not
    activating, not in flight) and the campaign waits for the window's next opening."""
    world = make_world()
    window = ActivationWindow.parse("01:00-05:00", "Europe/London")
    campaign_id = world.campaign(Policy(activation_window=window))

    def stop_when_scheduled(_: object) -> None:
        if _status(world, campaign_id)["states"].get("scheduled"):
            raise _Seen

    try:
        run_campaign(world.ex, world.sim, campaign_id, on_turn=stop_when_scheduled)
    except _Seen:
        pass
    status, now = _status(world, campaign_id), world.ex.clock.now()
    assert not window.contains(now)
    scheduled = status["states"]["scheduled"]
    assert scheduled > 0 and "activating" not in status["states"]
    assert status["in_flight"] == 0  # accepted and dated: no answer is awaited before then
    assert status["waiting"] == {
        "reason": "activation_window", "sr_type": None,
        "until": window.next_opening(now).isoformat(),
        "detail": f"{scheduled} activations future-dated into the window 01:00-05:00 "
                  "Europe/London"}
    assert status["waves"]["1"]["scheduled"] == scheduled


def test_a_worker_without_keys_leaves_its_error_on_the_campaign(
        make_world: Callable[..., World], tmp_path: Path) -> None:
    """The dispatch task of a worker whose keys are missing fails into the campaign's
    status (the last dispatch error and when), not only into the worker's log."""
    from orchestrator.entrypoints import celery_app
    from orchestrator.entrypoints.tasks import dispatch_campaign

    world = make_world()
    campaign_id = world.campaign()
    celery_app.create_celery(dataclasses.replace(
        world.app.settings, keys_dir=tmp_path / "no-keys", broker_url="memory://"))
    try:
        assert dispatch_campaign(campaign_id) == 0
    finally:
        worker_app = celery_app._state.pop("app", None)
        if worker_app is not None:
            worker_app.close()
        celery_app._state.clear()
    status = _status(world, campaign_id)
    assert status["dispatch_error"].startswith("ConfigurationError: ")
    assert "no-keys" in status["dispatch_error"] and status["dispatch_error_at"] is not None
