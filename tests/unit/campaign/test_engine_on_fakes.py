"""The campaign engine (claim, send, apply, gates, reconcile) on the in-memory fakes.

Real handlers, real DUIS signing and verification, the simulated DSP; only the storage,
pacer and send lock are the fakes of `tests/fakes.py`. Each test takes well under a second.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

from duis.requestid import parse_request_id
from orchestrator.domain.jobs import DeviceJob, JobState
from orchestrator.domain.policy import Budget, FailureThreshold, Policy, Wave
from orchestrator.errors import CampaignError, DspUnavailableError, SenderBusyError
from orchestrator.service import campaigns, inbound
from orchestrator.service.access import Approvals
from orchestrator.service.driver import run_campaign
from orchestrator.service.execution import dcc_lane, dispatch
from orchestrator.service.reconcile import reconcile

from .engine_world import ALICE, BOB, Seed, World, seed, world

J = JobState


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """A catalogue of 12 entries and a fleet of 8 devices, loaded once."""
    return seed(tmp_path_factory.mktemp("engine"), devices=8)


def _jobs(w: World, campaign_id: int) -> dict[str, DeviceJob]:
    with w.uow() as uow:
        return {j.device_id: j for j in uow.campaigns.jobs(campaign_id, limit=1000)}


def _sent(w: World) -> list[dict[str, object]]:
    return list(w.database.state.sent.values())


def test_a_campaign_on_fakes_completes_with_every_device_on_its_target(seeded: Seed) -> None:
    """Claim, send and apply until done: every planned device runs its target entry."""
    w = world(seeded)
    campaign_id = w.campaign()
    stats = run_campaign(w.ex, w.sim, campaign_id)
    assert stats.final_state == "completed"
    jobs = [j for j in _jobs(w, campaign_id).values() if j.state is not J.BLOCKED]
    assert len(jobs) >= 5 and {j.state for j in jobs} == {J.DONE}
    for job in jobs:
        assert w.sim.simulation.fleet.running_entry(job.device_id) == job.path[-1]
        with w.uow() as uow:
            assert uow.fleet.get(job.device_id).firmware_entry == job.path[-1]


def test_claim_records_each_request_before_it_is_sent_and_locks_only_the_dccs_lane(
        seeded: Seed) -> None:
    """When the DSP receives a request, it is already in the sent log without an answer (a
    crash now loses nothing); a request to the DCC itself is sent inside the DCC's lane of
    the send lock, a request to a device outside any lock."""
    w = world(seeded)
    campaign_id = w.campaign()
    seen: list[tuple[bool, bool, bool, int]] = []
    inner = w.ex.gateway
    lane = dcc_lane(w.ex)

    class Watching:
        def send(self, xml: bytes) -> bytes:
            with w.uow() as uow:
                waiting = uow.requests.unacknowledged(w.ex.clock.now() + dt.timedelta(1), 999)
            to_dcc = f":{w.ex.dcc_eui}:".encode() in xml[:4096]
            seen.append((to_dcc, w.lock.held(lane), w.lock.held(), len(waiting)))
            return inner.send(xml)

    w.ex.gateway = Watching()
    report = dispatch(w.ex, campaign_id)
    assert report.devices > 0 and seen and all(n > 0 for *_, n in seen)
    assert run_campaign(w.ex, w.sim, campaign_id).final_state == "completed"
    assert {to_dcc for to_dcc, *_ in seen} == {True, False}  # 11.1s and the rest
    assert all(in_lane == to_dcc and not whole for to_dcc, in_lane, whole, _ in seen)
    assert all(row["response_code"] for row in _sent(w))  # every answer is on record after
    moved = [j for j in _jobs(w, campaign_id).values() if j.request_id]
    assert {j.request_id for j in moved} <= {row["request_id"] for row in _sent(w)}


def test_a_busy_dcc_lane_still_applies_what_was_sent_to_devices(seeded: Seed) -> None:
    """Requests to devices go out before the DCC's lane is taken: when that lane is busy
    the dispatch fails (to be retried), but the answers to what it sent are on record."""
    w = world(seeded)
    campaign_id = w.campaign()
    device_states = {J.PREREAD, J.REREAD, J.DELIVERED, J.ACTIVATED}
    for _ in range(60):
        if any(j.state in device_states for j in _jobs(w, campaign_id).values()):
            break
        dispatch(w.ex, campaign_id)
        moment = w.sim.next_event_time()
        assert moment is not None
        w.sim.advance_to(moment)
    before = {row["request_id"] for row in _sent(w)}
    real = w.ex.send_lock

    def busy(lane: str = "") -> Any:
        if lane == dcc_lane(w.ex):
            raise SenderBusyError("another worker is sending to the DCC")
        return real(lane)

    w.ex.send_lock = busy
    with pytest.raises(SenderBusyError):
        dispatch(w.ex, campaign_id)
    fresh = [row for row in _sent(w) if row["request_id"] not in before]
    assert fresh and all(row["response_code"] for row in fresh)


def test_send_order_originator_sends_everything_under_the_one_lock(seeded: Seed) -> None:
    """`send_order="originator"` (a DSP wanting counters above any it has seen): every
    request goes out inside the deployment-wide lock."""
    w = world(seeded)
    w.ex.send_order = "originator"
    campaign_id = w.campaign()
    seen: list[bool] = []
    inner = w.ex.gateway

    class Watching:
        def send(self, xml: bytes) -> bytes:
            seen.append(w.lock.held())
            return inner.send(xml)

    w.ex.gateway = Watching()
    for _ in range(2):
        dispatch(w.ex, campaign_id)
    assert seen and all(seen)


def test_requests_to_devices_are_sent_concurrently_up_to_the_setting(seeded: Seed) -> None:
    """With `send_concurrency` 4 a dispatch keeps up to 4 requests to devices in flight at
    once, never more, and the campaign still completes with every device on its target."""
    w = world(seeded)
    w.ex.send_concurrency = 4
    campaign_id = w.campaign()
    inner = w.ex.gateway
    guard = threading.Lock()
    flying, peak = [0], [0]

    class Slow:
        def send(self, xml: bytes) -> bytes:
            with guard:
                flying[0] += 1
                peak[0] = max(peak[0], flying[0])
            time.sleep(0.02)
            try:
                return inner.send(xml)
            finally:
                with guard:
                    flying[0] -= 1

    w.ex.gateway = Slow()
    stats = run_campaign(w.ex, w.sim, campaign_id)
    assert stats.final_state == "completed"
    assert peak[0] == 4
    jobs = [j for j in _jobs(w, campaign_id).values() if j.state is not J.BLOCKED]
    assert {j.state for j in jobs} == {J.DONE}
    assert all(w.sim.simulation.fleet.running_entry(j.device_id) == j.path[-1] for j in jobs)
    assert [d for d in w.sim.simulation.dsp.journal if d.code == "E42"] == []


def test_an_unreachable_dsp_puts_the_jobs_back_to_retry_later(seeded: Seed) -> None:
    """Nothing fails for good: a failed pre-read falls back to distribution at once, a failed
    11.1 backs off; once the DSP answers again the retry goes out under a new RequestID."""
    w = world(seeded)
    campaign_id = w.campaign()
    inner = w.ex.gateway

    class Down:
        def send(self, xml: bytes) -> bytes:
            raise DspUnavailableError("connection refused")

    w.ex.gateway = Down()
    now = w.ex.clock.now()
    reports = [dispatch(w.ex, campaign_id) for _ in range(3)]
    assert [set(r.requests) for r in reports] == [{"11.2"}, {"11.1"}, set()]
    jobs = [j for j in _jobs(w, campaign_id).values() if j.state is not J.BLOCKED]
    assert jobs and all(j.sr_type == "11.1" and j.due_at > now for j in jobs)
    assert {j.failure for j in jobs} == {"dsp_unavailable"}
    tried = {str(r["request_id"]) for r in _sent(w)}
    w.ex.gateway = inner
    w.sim.advance_to(max(j.due_at for j in jobs))
    assert dispatch(w.ex, campaign_id).devices == len(jobs)
    resent = [j for j in _jobs(w, campaign_id).values() if j.state is J.DISTRIBUTING]
    assert len(resent) == len(jobs) and not {j.request_id for j in resent} & tried


def test_request_counters_strictly_increase_per_originator_and_never_repeat(
        seeded: Seed) -> None:
    """Over a whole campaign, each originator's counters climb in the order they were sent."""
    w = world(seeded)
    run_campaign(w.ex, w.sim, w.campaign())
    by_originator: dict[str, list[int]] = defaultdict(list)
    for row in _sent(w):  # in the order they were recorded
        rid = parse_request_id(str(row["request_id"]))
        by_originator[rid.originator].append(rid.counter)
    assert by_originator
    for counters in by_originator.values():
        assert counters == sorted(set(counters))


def test_only_a_running_campaign_is_dispatched(seeded: Seed) -> None:
    """A draft, and a paused campaign, send nothing."""
    w = world(seeded)
    draft = w.campaign(start=False)
    assert dispatch(w.ex, draft).devices == 0 and _sent(w) == []
    campaigns.act(w.ex, draft, "cancel", ALICE)  # frees its devices
    running = w.campaign(start=False)
    for action in ("submit", "start", "pause"):
        campaigns.act(w.ex, running, action, ALICE)
    assert dispatch(w.ex, running).devices == 0 and _sent(w) == []
    campaigns.act(w.ex, running, "resume", ALICE)
    assert dispatch(w.ex, running).devices > 0


def test_a_large_campaign_needs_a_second_person_to_approve(seeded: Seed) -> None:
    """Above the four-eyes size the creator cannot approve; another approver can."""
    w = world(seeded, approvals=Approvals(above=3, role="approver"))
    campaign_id = w.campaign(start=False)
    campaigns.act(w.ex, campaign_id, "submit", ALICE)
    with pytest.raises(CampaignError):
        campaigns.act(w.ex, campaign_id, "start", ALICE)
    with pytest.raises(CampaignError):
        campaigns.act(w.ex, campaign_id, "approve", ALICE)
    campaigns.act(w.ex, campaign_id, "approve", BOB)
    assert campaigns.act(w.ex, campaign_id, "start", ALICE)["state"] == "running"


def test_later_waves_wait_for_the_gate(seeded: Seed) -> None:
    """Only wave 1 is sent until its devices are done; then the gate opens wave 2."""
    w = world(seeded)
    campaign_id = w.campaign(Policy(waves=(Wave(percent=25.0), Wave(percent=100.0))))
    dispatch(w.ex, campaign_id)
    jobs = _jobs(w, campaign_id).values()
    assert {j.wave for j in jobs if j.request_id} == {1}
    assert any(j.wave == 2 and j.state is not J.BLOCKED for j in jobs)
    stats = run_campaign(w.ex, w.sim, campaign_id)
    assert stats.final_state == "completed"
    with w.uow() as uow:
        opened = [e["data"] for e in uow.campaigns.events(campaign_id)
                  if e["name"] == "wave_opened"]
    assert opened == [{"wave": 2}]  # wave 1 opens with the start; the gate opened 2


def test_failures_past_the_threshold_pause_the_campaign_with_a_reason(seeded: Seed) -> None:
    """With no image to send, every 11.1 is refused: the gate pauses and says why."""
    w = world(seeded)

    def no_image(entry: object) -> bytes:
        from orchestrator.adapters.images import ImageNotFoundError

        raise ImageNotFoundError(f"no image for {entry}")

    w.ex.upgrade_image = no_image
    policy = Policy(failure_thresholds=(FailureThreshold(percent=10.0),))
    campaign_id = w.campaign(policy)
    stats = run_campaign(w.ex, w.sim, campaign_id)
    assert stats.final_state == "paused"
    with w.uow() as uow:
        campaign = uow.campaigns.get(campaign_id)
        failures = uow.campaigns.failures(campaign_id)
    sendable = [j for j in _jobs(w, campaign_id).values() if j.state is not J.BLOCKED]
    assert "threshold" in campaign.pause_reason and failures["refused"] == len(sendable)


def test_a_budget_holds_back_what_it_does_not_allow(seeded: Seed) -> None:
    """A pacing budget of 3 reads a day: one dispatch sends 3 and says when more may go."""
    w = world(seeded)
    campaign_id = w.campaign(Policy(budgets=(Budget("11.2", 3, 86400.0),)))
    report = dispatch(w.ex, campaign_id)
    assert report.requests.get("11.2") == 3 and report.paced_until is not None
    assert dispatch(w.ex, campaign_id).requests.get("11.2") is None
    with w.uow() as uow:
        assert uow.campaigns.row(campaign_id)["pacing"]["11.2"]["remaining"] == 0


def test_reconcile_times_out_requests_a_dead_sender_never_sent(seeded: Seed) -> None:
    """A sender dying after the claim leaves recorded, unanswered requests; the reconciler
    marks them lost and their jobs are sent again under new RequestIDs."""
    w = world(seeded)
    campaign_id = w.campaign()
    inner = w.ex.gateway

    class Dying:
        def send(self, xml: bytes) -> bytes:
            raise RuntimeError("worker killed")

    w.ex.gateway = Dying()
    with pytest.raises(RuntimeError, match="worker killed"):
        dispatch(w.ex, campaign_id)
    lost = {str(r["request_id"]) for r in _sent(w)}
    claimed = [j for j in _jobs(w, campaign_id).values() if j.request_id in lost]
    assert lost and claimed and all(r["response_code"] is None for r in _sent(w))
    w.ex.gateway = inner
    assert reconcile(w.ex).timed_out == 0  # within the grace period nothing moves
    w.sim.advance_to(w.ex.clock.now() + dt.timedelta(seconds=w.ex.unacknowledged_grace_s + 1))
    assert reconcile(w.ex).timed_out == len(claimed)
    assert {w.database.state.sent[r]["response_code"] for r in lost} == {"LOST"}
    dispatch(w.ex, campaign_id)
    again = _jobs(w, campaign_id)
    assert all(again[j.device_id].request_id not in lost for j in claimed)


def test_reconcile_starts_a_scheduled_campaign_when_its_time_comes(seeded: Seed) -> None:
    """Scheduled for an hour on: not started before, started by the reconciler after."""
    w = world(seeded)
    campaign_id = w.campaign(start=False)
    campaigns.act(w.ex, campaign_id, "submit", ALICE)
    start_at = w.ex.clock.now() + dt.timedelta(hours=1)
    campaigns.schedule(w.ex, campaign_id, start_at, ALICE)
    assert reconcile(w.ex).started == []
    w.sim.advance_to(start_at + dt.timedelta(seconds=1))
    report = reconcile(w.ex)
    assert report.started == [campaign_id] and campaign_id in report.running


def test_a_redelivered_answer_is_stored_once_and_applied_once(seeded: Seed) -> None:
    """The DSP delivering the same messages again changes nothing: each is a duplicate."""
    w = world(seeded)
    campaign_id = w.campaign()
    dispatch(w.ex, campaign_id)
    w.sim.advance_to(w.ex.clock.now() + dt.timedelta(hours=1))
    raws = [m["raw"] for m in w.database.state.inbound.values()]
    before = (_inbound_counts(w), len(w.database.state.job_events), _jobs(w, campaign_id))
    assert raws and before[0].get("applied")
    results = inbound.receive_many(w.ex, raws)
    assert {r.status for r in results} == {"duplicate"}
    assert (_inbound_counts(w), len(w.database.state.job_events),
            _jobs(w, campaign_id)) == before


def _inbound_counts(w: World) -> dict[str, int]:
    with w.uow() as uow:
        return dict(uow.requests.inbound_counts())
