"""Campaigns, device jobs, their events and counters behave alike in every store."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from orchestrator.domain.campaign import Campaign, CampaignEvent, CampaignState
from orchestrator.domain.jobs import DeviceJob, JobEvent, JobState
from orchestrator.domain.policy import Budget, Policy, Wave

from .conftest import NOW, UowFactory, aware

J = JobState
HOUR = dt.timedelta(hours=1)
POLICY = Policy(waves=(Wave(percent=10.0), Wave(percent=100.0)),
                budgets=(Budget("11.1", 50, 3600.0),))


def _campaign(new_uow: UowFactory, name: str = "c") -> int:
    with new_uow() as uow:
        campaign_id = uow.campaigns.add(Campaign(0, name, "latest", {"model": ["m1"]}, POLICY,
                                                 "alice", NOW), 7, 2)
        uow.commit()
    return int(campaign_id)


def _jobs(new_uow: UowFactory, campaign_id: int, *jobs: DeviceJob) -> None:
    with new_uow() as uow:
        uow.campaigns.add_jobs([replace(j, campaign_id=campaign_id) for j in jobs], NOW)
        uow.commit()


def _job(device: str, state: JobState = J.PLANNED, wave: int = 1,
         due: dt.datetime | None = NOW, **kw: object) -> DeviceJob:
    return DeviceJob(0, device, ("E1", "E2"), wave=wave, state=state, due_at=due, **kw)  # type: ignore[arg-type]


def _move(new_uow: UowFactory, *pairs: tuple[DeviceJob, DeviceJob], events: tuple = ()) -> None:  # type: ignore[type-arg]
    with new_uow() as uow:
        uow.campaigns.update_jobs(list(pairs), list(events), NOW)
        uow.commit()


def _stored(new_uow: UowFactory, campaign_id: int, device: str) -> DeviceJob:
    with new_uow() as uow:
        return next(j for j in uow.campaigns.jobs(campaign_id) if j.device_id == device)


def test_a_campaign_reads_back_as_it_was_saved(new_uow: UowFactory) -> None:
    """Fields, policy, state and acknowledgements survive a save; the row carries the rest."""
    campaign_id = _campaign(new_uow)
    with new_uow() as uow:
        campaign = uow.campaigns.get(campaign_id, lock=True)
        assert campaign is not None and campaign.policy == POLICY
        assert campaign.state is CampaignState.DRAFT and campaign.selection == {"model": ["m1"]}
        campaign.state, campaign.current_wave = CampaignState.RUNNING, 2
        campaign.acknowledged = {1: {"rejected": 3}}
        uow.campaigns.save(campaign, plan_id=4)
        uow.commit()
    with new_uow() as uow:
        again = uow.campaigns.get(campaign_id)
        row = uow.campaigns.row(campaign_id)
        assert uow.campaigns.get(campaign_id + 100) is None
    assert again == campaign and aware(again.created_at) == NOW
    assert (row["snapshot_id"], row["wave_count"], row["plan_id"]) == (7, 2, 4)
    with new_uow() as uow:  # both from one read, as a dispatcher's claim takes them
        loaded = uow.campaigns.load(campaign_id, lock=True)
        assert uow.campaigns.load(campaign_id + 100) is None
    assert loaded is not None and loaded[0] == campaign
    assert (loaded[1]["snapshot_id"], loaded[1]["plan_id"]) == (7, 4)


def test_campaign_lists_and_the_reconcilers_scope(new_uow: UowFactory) -> None:
    """Newest first; running and paused campaigns are the reconciler's."""
    ids = [_campaign(new_uow, f"c{n}") for n in range(3)]
    with new_uow() as uow:
        for campaign_id, state in zip(ids, ("running", "paused", "completed")):
            campaign = uow.campaigns.get(campaign_id)
            campaign.state = CampaignState(state)
            uow.campaigns.save(campaign)
        uow.commit()
    with new_uow() as uow:
        assert [r["id"] for r in uow.campaigns.list()] == ids[::-1]
        assert [r["id"] for r in uow.campaigns.list(limit=1, offset=1)] == [ids[1]]
        assert uow.campaigns.running_ids() == ids[:2]


def test_dispatch_facts_merge_pacing_and_keep_the_last_error(new_uow: UowFactory) -> None:
    """Each dispatch updates the SR types it paced and keeps the others."""
    campaign_id = _campaign(new_uow)
    with new_uow() as uow:
        uow.campaigns.record_dispatch(campaign_id, NOW, {"11.1": {"remaining": 1}})
        uow.campaigns.record_dispatch(campaign_id, NOW + HOUR, {"11.3": {"remaining": 2}})
        uow.campaigns.record_dispatch(campaign_id, NOW + 2 * HOUR)
        uow.commit()
    with new_uow() as uow:  # the stored pacing as the caller read it: no second read
        stored = uow.campaigns.row(campaign_id)["pacing"]
        uow.campaigns.record_dispatch(campaign_id, NOW + HOUR, {"11.2": {"remaining": 0}},
                                      stored)
        uow.campaigns.record_dispatch(campaign_id, NOW + 2 * HOUR)
        uow.campaigns.record_dispatch_error(campaign_id, NOW, "x" * 3000)
        uow.commit()
    with new_uow() as uow:
        row = uow.campaigns.row(campaign_id)
    assert row["pacing"] == {"11.1": {"remaining": 1}, "11.3": {"remaining": 2},
                             "11.2": {"remaining": 0}}
    assert aware(row["dispatched_at"]) == NOW + 2 * HOUR and len(row["dispatch_error"]) == 2000


def test_campaign_events_are_kept_oldest_first(new_uow: UowFactory) -> None:
    """Who, when and why, per campaign, in order."""
    one, two = _campaign(new_uow), _campaign(new_uow)
    with new_uow() as uow:
        uow.campaigns.add_events([CampaignEvent(one, "campaign_created", NOW, "alice"),
                                  CampaignEvent(two, "campaign_created", NOW, "bob"),
                                  CampaignEvent(one, "campaign_paused", NOW, "bob", "why",
                                                {"wave": 1})])
        uow.commit()
    with new_uow() as uow:
        events = uow.campaigns.events(one)
    assert [(e["name"], e["actor"], e["reason"], e["data"]) for e in events] == [
        ("campaign_created", "alice", "", {}), ("campaign_paused", "bob", "why", {"wave": 1})]


def test_counters_follow_every_state_change(new_uow: UowFactory) -> None:
    """Per (wave, state) counts start from the jobs and move with each change; zeros vanish."""
    campaign_id = _campaign(new_uow)
    a, b, c = _job("A"), _job("B"), _job("C", J.BLOCKED, wave=2)
    _jobs(new_uow, campaign_id, a, b, c)
    with new_uow() as uow:
        assert uow.campaigns.counters(campaign_id) == {(1, "planned"): 2, (2, "blocked"): 1}
    a2 = replace(a, campaign_id=campaign_id, state=J.DISTRIBUTING, request_id="r1")
    b2 = replace(b, campaign_id=campaign_id, state=J.DISTRIBUTING, request_id="r1")
    _move(new_uow, (replace(a, campaign_id=campaign_id), a2),
          (replace(b, campaign_id=campaign_id), b2))
    _move(new_uow, (b2, replace(b2, state=J.DELIVERED)), (a2, replace(a2, attempt=2)))
    with new_uow() as uow:
        assert uow.campaigns.counters(campaign_id) == {
            (1, "distributing"): 1, (1, "delivered"): 1, (2, "blocked"): 1}
    assert _stored(new_uow, campaign_id, "A").attempt == 2


def test_due_jobs_are_those_owing_a_request_in_open_waves(new_uow: UowFactory) -> None:
    """Sending states only, waves up to the current one, due now or before, earliest first."""
    campaign_id = _campaign(new_uow)
    _jobs(new_uow, campaign_id,
          _job("late", due=NOW - HOUR), _job("now", due=NOW), _job("future", due=NOW + HOUR),
          _job("wave2", wave=2, due=NOW - 2 * HOUR), _job("waiting", J.DISTRIBUTING),
          _job("activate", J.DELIVERED, due=NOW - HOUR), _job("done", J.DONE))
    with new_uow() as uow:
        due = uow.campaigns.due(campaign_id, 1, NOW, 10)
        assert [j.device_id for j in due if j.state is J.PLANNED] == ["late", "now"]
        assert {j.device_id for j in due} == {"late", "now", "activate"}
        assert {j.device_id for j in uow.campaigns.due(campaign_id, 2, NOW, 10)} == {
            "late", "now", "activate", "wave2"}
        limited = uow.campaigns.due(campaign_id, 2, NOW, 1)  # a share of the limit per state
        assert [(j.device_id, j.state) for j in limited] == [("wave2", J.PLANNED),
                                                             ("activate", J.DELIVERED)]
        # some sending states only (a dispatcher's round): each state's earliest, in order
        assert [j.device_id for j in uow.campaigns.due(campaign_id, 2, NOW, 10, {
            J.DELIVERED})] == ["activate"]
        assert [j.device_id for j in uow.campaigns.due(campaign_id, 2, NOW, 2, {
            J.PLANNED, J.DELIVERED})] == ["wave2", "late", "activate"]
        assert uow.campaigns.due(campaign_id, 2, NOW, 10, {J.DISTRIBUTING}) == []
        assert aware(uow.campaigns.next_due_at(campaign_id, 1)) == NOW - HOUR
        assert aware(uow.campaigns.next_due_at(campaign_id, 2)) == NOW - 2 * HOUR


def test_overdue_stages_come_earliest_deadline_first(new_uow: UowFactory) -> None:
    """Only waiting states past their deadline; the next deadline of any waiting job."""
    campaign_id = _campaign(new_uow)
    _jobs(new_uow, campaign_id,
          _job("d2", J.DISTRIBUTING, deadline_at=NOW - HOUR),
          _job("d1", J.ACTIVATING, deadline_at=NOW - 2 * HOUR),
          _job("later", J.VERIFYING, deadline_at=NOW + HOUR),
          _job("sending", J.PLANNED, deadline_at=NOW - 3 * HOUR))
    with new_uow() as uow:
        assert [j.device_id for j in uow.campaigns.overdue(NOW, 10)] == ["d1", "d2"]
        assert [j.device_id for j in uow.campaigns.overdue(NOW, 1)] == ["d1"]
        assert aware(uow.campaigns.next_deadline()) == NOW - 2 * HOUR


def test_jobs_are_found_by_device_request_and_state(new_uow: UowFactory) -> None:
    """Active jobs of devices, live jobs of a request, pages of a campaign's jobs."""
    old, new = _campaign(new_uow), _campaign(new_uow)
    _jobs(new_uow, old, _job("A", J.DONE), _job("B", J.DISTRIBUTING, request_id="r1"))
    _jobs(new_uow, new, _job("A", J.DISTRIBUTING, request_id="r1"),
          _job("C", J.REJECTED, request_id="r1"), _job("D"))
    with new_uow() as uow:
        assert [(j.campaign_id, j.device_id) for j in uow.campaigns.active_for_devices(
            ["A", "B", "C", "Z"])] == [(new, "A"), (old, "B")]
        assert [(j.campaign_id, j.device_id) for j in uow.campaigns.by_request("r1")] == [
            (new, "A"), (old, "B")]
        assert [j.campaign_id for j in uow.campaigns.jobs_of_device("A")] == [old, new]
        assert [j.device_id for j in uow.campaigns.jobs(new)] == ["A", "C", "D"]
        assert [j.device_id for j in uow.campaigns.jobs(new, states=["planned", "rejected"],
                                                        limit=1, offset=1)] == ["D"]


def test_history_failures_and_verified_steps(new_uow: UowFactory) -> None:
    """Transitions are kept per device; terminal failures counted by reason."""
    campaign_id = _campaign(new_uow)
    _jobs(new_uow, campaign_id, _job("A", J.REJECTED, failure="E42"),
          _job("B", J.TIMED_OUT, failure="timed_out"), _job("C", J.REJECTED, failure="E42"),
          _job("D", J.DONE))
    read = JobEvent("D", campaign_id, "verified", NOW, "verifying", "done", 1, "version_read")
    other = JobEvent("D", campaign_id, "sent", NOW, "planned", "distributing", 0, "sent_11.1",
                     "r1", {"n": 1})
    _move(new_uow, events=(other, read))
    with new_uow() as uow:
        assert uow.campaigns.failures(campaign_id) == {"E42": 2, "timed_out": 1}
        assert uow.campaigns.verified_steps(campaign_id) == 1
        history = uow.campaigns.device_history("D")
    assert [(h["cause"], h["request_id"], h["data"]) for h in history] == [
        ("sent_11.1", "r1", {"n": 1}), ("version_read", None, {})]
