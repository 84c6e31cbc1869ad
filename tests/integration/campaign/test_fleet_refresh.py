"""`fwo fleet refresh` (SR 8.2) and inbound 8.2 / mismatch alerts against the simulated DSP."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from duis.build import sign_request
from duis.models import FirmwareVersionMismatch, ReadInventory
from duis.requestid import RequestId
from duis.respond import sign_response
from orchestrator.domain.policy import Budget
from orchestrator.service import inbound, planning
from orchestrator.service.fleet_refresh import refresh_fleet
from simulators.dsp.messages import dcc_alert

from .conftest import World


def _by_hub(world: World) -> dict[str, list[str]]:
    hubs: dict[str, list[str]] = {}
    for device_id, hub in world.rows("select device_id, comms_hub_id from devices"):
        hubs.setdefault(hub, []).append(device_id)
    return hubs


def test_a_gaining_supplier_loads_inherited_devices_from_the_dcc(
        make_world: Callable[..., World]) -> None:
    """With an empty inventory, 8.2 per premises brings the devices and their firmware."""
    world = make_world()
    premises = [ids for ids in _by_hub(world).values() if len(ids) > 1][:5]
    with world.app.engine.begin() as connection:
        connection.exec_driver_sql("delete from devices")
    report = refresh_fleet(world.ex, device_ids=[ids[0] for ids in premises])
    assert (report.requests, report.failed) == (len(premises), {})
    sim = world.sim.simulation.fleet
    with world.app.uow() as uow:
        loaded = uow.fleet.get_many([d for ids in premises for d in ids])
    assert len(loaded) == sum(len(ids) for ids in premises) == report.recorded
    for device in loaded.values():
        i = sim.index(device.device_id)
        assert (device.firmware_version, device.status) == (sim.running_version(i),
                                                            sim.status(i))
        assert device.source == "8.2"
        assert device.read_at is not None
    variants = world.rows("select sr_type, command_variant, campaign_id from sent_requests")
    assert set(variants) == {("8.2", 8, None)}


def test_refresh_finds_a_device_changed_behind_our_back_and_stales_its_plan(
        make_world: Callable[..., World]) -> None:
    """A refreshed version that contradicts the record is drift; plans holding it go stale."""
    world = make_world()
    plan = planning.plan_fleet(planning.PlanFleet(), world.app.uow())
    moved = next(p for p in plan.devices if p.outcome.status == "planned")
    device_id, target = moved.device.device_id, moved.outcome.path[0]
    sim = world.sim.simulation.fleet
    sim.set_running(sim.index(device_id), sim.catalogue.by_id[target])
    report = refresh_fleet(world.ex, [f"device_id={device_id}"])
    assert report.drift == 1 and report.requests == 1
    with world.app.uow() as uow:
        device = uow.fleet.get(device_id)
        history = uow.fleet.events(device_id)
        stale = uow.plans.get(plan.plan_id)  # type: ignore[arg-type]
    assert device is not None
    assert device.firmware_version == sim.running_version(sim.index(device_id))
    drift = [f for f in history if f.name == "drift"]
    assert drift[0].data["read_version"] == device.firmware_version
    assert stale is not None and stale.stale and device_id in (stale.stale_reason or "")


def test_refresh_is_paced_by_its_budget(make_world: Callable[..., World]) -> None:
    """Beyond the 8.2 budget nothing is sent; the rest is reported as waiting for it."""
    world = make_world()
    report = refresh_fleet(world.ex, budget=Budget("8.2", 2, 3600))
    assert report.requests == 2 and report.deferred > 0 and report.paced_until is not None
    dsp = world.sim.simulation.dsp.sr_counts()
    assert sum(dsp.get("8.2", {}).values()) == 2


def test_inventories_and_mismatch_alerts_reaching_the_receiver_update_the_fleet(
        make_world: Callable[..., World]) -> None:
    """An 8.2 answer and a FirmwareVersionMismatch alert received are applied and recorded."""
    world = make_world()
    device_id = next(iter(_by_hub(world).values()))[0]
    sim, dsp = world.sim.simulation.fleet, world.sim.simulation.dsp
    identity = world.ex.identity_for("ESME")
    later = world.ex.clock.now() + dt.timedelta(hours=1)
    world.sim.advance_to(later)
    request = ReadInventory(RequestId(identity.originator, world.ex.dcc_eui, 10**15),
                            device_id)
    with world.app.uow() as uow:  # a request this deployment sent (others are quarantined)
        uow.requests.record_sent([{"request_id": str(request.request_id), "campaign_id": None,
                                   "sr_type": "8.2", "command_variant": 8, "entry": None,
                                   "device_count": 1, "sent_at": later}])
        uow.commit()
    answer = dsp.submit(sign_request(request, identity.xml))
    assert inbound.receive(world.ex, answer).status == "applied"
    alert = dcc_alert("N44", FirmwareVersionMismatch(device_id, "ESME", "00000001", "00000002"),
                      world.ex.dcc_eui, identity.originator, 10**15 + 1, later)
    raw = sign_response(alert, dsp.dcc_identity)
    assert inbound.receive(world.ex, raw).status == "applied"
    with world.app.uow() as uow:
        device = uow.fleet.get(device_id)
        history = uow.fleet.events(device_id)
    assert device is not None and device.source == "8.2"
    assert device.firmware_version == sim.running_version(sim.index(device_id))
    assert [f.name for f in history] == ["firmware_read", "drift"]
    assert history[1].data["finding"] == "FirmwareVersionMismatch"
    assert history[1].source == "dcc_alert:N44"
