"""The fleet learns what campaigns did, and jobs read the running firmware before acting."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.domain.policy import Policy
from orchestrator.errors import CampaignInputError
from orchestrator.service import campaigns, fleet, planning
from orchestrator.service.access import Principal
from orchestrator.service.driver import run_campaign

from .conftest import World

FIRMWARE_SENDS = "('11.1', '11.4', '11.3')"


def _path(raw: Any) -> list[str]:
    return raw if isinstance(raw, list) else json.loads(raw)


def _data(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else json.loads(raw)


def _done(world: World, campaign_id: int) -> dict[str, list[str]]:
    return {d: _path(p) for d, p in world.rows(
        f"select device_id, path from device_jobs where campaign_id = {campaign_id} "
        "and state = 'done'")}


def _firmware_sends(world: World, campaign_id: int) -> int:
    return int(world.rows(f"select count(*) from sent_requests where campaign_id = "
                          f"{campaign_id} and sr_type in {FIRMWARE_SENDS}")[0][0])


def test_a_completed_campaign_leaves_every_done_device_up_to_date_in_the_fleet(
        make_world: Callable[..., World]) -> None:
    """After a campaign, the fleet holds each done device's target and re-planning is a no-op."""
    world = make_world()
    campaign_id = world.campaign()
    assert run_campaign(world.ex, world.sim, campaign_id).final_state == "completed"
    done = _done(world, campaign_id)
    assert done
    with world.app.uow() as uow:
        devices = uow.fleet.get_many(done)
    catalogue_hashes = dict(world.rows("select cpl_entry_id, image_hash from catalogue_entries "
                                       "where snapshot_id = 1"))
    for device_id, path in done.items():
        device = devices[device_id]
        assert (device.firmware_entry, device.firmware_hash) == (
            path[-1], catalogue_hashes[path[-1]])
        assert device.source == "11.2 read-back" and device.read_at is not None
    plan = planning.plan_fleet(planning.PlanFleet(), world.app.uow())
    statuses = {p.device.device_id: p.outcome.status for p in plan.devices}
    assert {statuses[d] for d in done} == {"up_to_date"}


def test_the_campaign_plan_goes_stale_and_history_records_each_confirmed_step(
        make_world: Callable[..., World]) -> None:
    """Confirmed read-backs stale the campaign's stored plan and land in the device history."""
    world = make_world()
    campaign_id = world.campaign()
    run_campaign(world.ex, world.sim, campaign_id)
    plan_id = world.rows(f"select plan_id from campaigns where id = {campaign_id}")[0][0]
    stale, reason = world.rows(f"select stale, stale_reason from plans where id = {plan_id}")[0]
    assert stale and "running firmware" in reason
    device_id, path = next((d, p) for d, p in _done(world, campaign_id).items() if len(p) > 1)
    with world.app.uow() as uow:
        history = uow.fleet.events(device_id)
    entries = [f.data["entry"] for f in history if f.name == "firmware_read" and
               f.data["entry"]]
    assert entries == path
    assert all(f.campaign_id == campaign_id for f in history if f.data.get("entry"))


def test_a_follow_up_campaign_on_a_stale_inventory_sends_no_firmware_and_bricks_nothing(
        make_world: Callable[..., World]) -> None:
    """Re-importing the pre-campaign inventory plans the old paths again; pre-reads end them."""
    world = make_world()
    first = world.campaign()
    run_campaign(world.ex, world.sim, first)
    upgraded = _done(world, first)
    fleet.import_fleet(world.app.uow(), world.data / "fleet.csv", world.ex.clock.now())
    second = world.campaign()
    replanned = {d for d, p in world.rows(f"select device_id, path from device_jobs where "
                                          f"campaign_id = {second} and state = 'planned'")}
    assert replanned & upgraded.keys(), "the stale inventory should plan them again"
    assert run_campaign(world.ex, world.sim, second).final_state == "completed"
    assert _firmware_sends(world, second) == 0
    assert set(_done(world, second)) == replanned
    assert world.sim.simulation.fleet.bricked() == []
    drift = world.rows("select device_id from fleet_events where name = 'drift'")
    assert {d for (d,) in drift} >= replanned


def test_a_follow_up_campaign_on_the_learned_fleet_has_nothing_to_do(
        make_world: Callable[..., World]) -> None:
    """With the fleet updated by the first campaign, a second plans no device again: it is
    refused as empty, and no campaign is stored."""
    world = make_world()
    first = world.campaign()
    run_campaign(world.ex, world.sim, first)
    with pytest.raises(CampaignInputError, match="nothing to upgrade"):
        world.campaign()
    assert world.rows("select count(*) from campaigns")[0][0] == 1
    assert world.sim.simulation.fleet.bricked() == []


def test_a_device_changed_behind_our_back_is_replanned_not_activated(
        make_world: Callable[..., World]) -> None:
    """A device already moved one step on is re-planned from what it runs; nothing bricks."""
    world = make_world()
    campaign_id = world.campaign(start=False)
    sim_fleet = world.sim.simulation.fleet
    jobs = {d: _path(p) for d, p in world.rows(
        f"select device_id, path from device_jobs where campaign_id = {campaign_id} "
        "and state = 'planned'")}
    device_id, path = next((d, p) for d, p in sorted(jobs.items()) if len(p) > 2)
    sim_fleet.set_running(sim_fleet.index(device_id),
                          sim_fleet.catalogue.by_id[path[0]])  # someone else did step 1
    for action in ("submit", "start"):
        campaigns.act(world.ex, campaign_id, action, Principal("alice", "admin"))
    assert run_campaign(world.ex, world.sim, campaign_id).final_state == "completed"
    events = world.rows(f"select cause, to_state, data from job_events where campaign_id = "
                        f"{campaign_id} and device_id = '{device_id}' order by id")
    replanned = [_data(d) for c, s, d in events if c == "preread" and s == "planned"]
    assert replanned and replanned[0]["new_path"] == path[1:]
    sent_entries = {e for (e,) in world.rows(
        f"select entry from sent_requests r join job_events e on e.request_id = r.request_id "
        f"where e.device_id = '{device_id}' and r.sr_type in {FIRMWARE_SENDS}")}
    assert path[0] not in sent_entries
    assert sim_fleet.running_entry(device_id) == path[-1]
    assert sim_fleet.bricked() == []


def test_every_activation_follows_a_recent_read(make_world: Callable[..., World]) -> None:
    """With a zero read age, each 11.3 is preceded by a read of the device after its delivery."""
    world = make_world()
    campaign_id = world.campaign(Policy(read_max_age_s=0.0))
    assert run_campaign(world.ex, world.sim, campaign_id).final_state == "completed"
    last: dict[str, str] = {}
    for device_id, cause in world.rows(f"select device_id, cause from job_events where "
                                       f"campaign_id = {campaign_id} order by id"):
        if cause == "sent_11.3":
            assert last.get(device_id) == "reread", device_id
        if cause in ("reread", "delivered", "sent_11.3"):
            last[device_id] = cause
    assert world.sim.simulation.fleet.bricked() == []


def test_a_device_changed_between_delivery_and_activation_is_not_activated(
        make_world: Callable[..., World]) -> None:
    """The read before 11.3 sees a version changed after delivery: re-plan, no activation."""
    world = make_world()
    campaign_id = world.campaign(Policy(read_max_age_s=0.0))
    jobs = {d: _path(p) for d, p in world.rows(
        f"select device_id, path from device_jobs where campaign_id = {campaign_id} "
        "and state = 'planned'")}
    device_id, path = next((d, p) for d, p in sorted(jobs.items()) if len(p) > 2)
    sim_fleet = world.sim.simulation.fleet
    changed: list[bool] = []

    def behind_our_back(_: object) -> None:
        state = world.rows(f"select state, step from device_jobs where campaign_id = "
                           f"{campaign_id} and device_id = '{device_id}'")[0]
        if tuple(state) == ("rereading", 0) and not changed:
            sim_fleet.set_running(sim_fleet.index(device_id),
                                  sim_fleet.catalogue.by_id[path[0]])
            changed.append(True)

    assert run_campaign(world.ex, world.sim, campaign_id,
                        on_turn=behind_our_back).final_state == "completed"
    assert changed
    events = world.rows(f"select cause, to_state, data from job_events where "
                        f"campaign_id = {campaign_id} and device_id = '{device_id}' order by id")
    replanned = [_data(d) for c, s, d in events if c == "reread" and s == "planned"]
    assert replanned and replanned[0]["new_path"] == path[1:]
    activated = {e for (e,) in world.rows(
        f"select r.entry from sent_requests r join job_events e on e.request_id = r.request_id "
        f"where e.device_id = '{device_id}' and r.sr_type = '11.3'")}
    assert path[0] not in activated
    assert sim_fleet.running_entry(device_id) == path[-1] and sim_fleet.bricked() == []
