"""Anomaly detection (AD1 at the threshold, counts per period) and the read SRs 11.2 / 8.2."""
from __future__ import annotations

from datetime import timedelta

from duis.models import DccAlert, QuarantinedRequest
from simulators import SimulatedSupplier, build_simulation
from simulators.dsp.client import alerts_of
from simulators.dsp.config import AnomalyThresholds


def test_requests_over_the_threshold_are_quarantined_with_ad1(data) -> None:
    """With 2 reads a day allowed, the third is acknowledged, quarantined (AD1), not sent."""
    sim = build_simulation(data, thresholds=AnomalyThresholds({"11.2": 2}))
    gas = SimulatedSupplier(sim, "GS")
    device = next(d for d in sim.fleet.ids if sim.fleet.device_type(sim.fleet.index(d)) == "GSME"
                  and sim.fleet.status(sim.fleet.index(d)) == "Commissioned")
    answers = [gas.read_version(device) for _ in range(3)]
    assert [a.header.response_code for a in answers] == ["I99"] * 3
    messages = sim.deliver_all()
    [ad1] = alerts_of(messages, "AD1")
    assert isinstance(ad1.body, DccAlert) and isinstance(ad1.body.detail, QuarantinedRequest)
    assert ad1.body.detail.request_id == answers[2].header.request_id
    assert [m.header.request_id for m in messages if m.header.response_code == "I0"
            and m.body.__class__.__name__ == "ResponseMessage"] == [
        answers[0].header.request_id, answers[1].header.request_id]
    day = sim.dsp.sr_counts()["11.2"]
    assert list(day.values()) == [2] and list(sim.dsp.quarantine_counts()["11.2"].values()) == [1]


def test_counts_restart_each_period_and_are_kept_per_type(data) -> None:
    """Counts are per SR type per period: a new day admits again; 11.3 counts its CV5 only."""
    sim = build_simulation(data, thresholds=AnomalyThresholds({"11.2": 1}))
    gas = SimulatedSupplier(sim, "GS")
    device = next(d for d in sim.fleet.ids if sim.fleet.device_type(sim.fleet.index(d)) == "GSME"
                  and sim.fleet.status(sim.fleet.index(d)) == "Commissioned")
    gas.read_version(device)
    sim.dsp.advance_by(timedelta(days=1))
    gas.read_version(device)
    gas.activate(device, "00" * 32)
    counts = sim.dsp.sr_counts()
    assert sorted(counts["11.2"].values()) == [1, 1] and len(counts["11.2"]) == 2
    assert list(counts["11.3"].values()) == [1] and "11.1" not in counts
    assert not sim.dsp.quarantine_counts()


def test_read_back_reports_the_running_version(world) -> None:
    """11.2 answers I99 at once, then I0 with the running version decoded by duis."""
    old, _ = world.edge("GSME")
    device = world.add_devices(old)[0]
    assert world.gas.read_version(device).header.response_code == "I99"
    [answer] = world.messages()
    assert answer.header.response_code == "I0"
    assert answer.body.firmware_version == old.firmware_version
    assert answer.header.response_id.originator == device


def test_a_read_back_lifts_a_suspended_device_on_an_active_entry(world) -> None:
    """A device left Suspended (lost 11.3 answer) returns to Commissioned after an 11.2."""
    old, _ = world.edge("GSME")
    device = world.add_devices(old, status="Suspended")[0]
    world.gas.read_version(device)
    world.messages()
    assert world.sim.fleet.view(device, world.sim.clock.now()).status == "Commissioned"


def test_inventory_lists_the_device_as_the_dcc_knows_it(world) -> None:
    """8.2 answers I0 with the device's type, model, status, version and CPL status."""
    old, _ = world.edge("GSME")
    device = world.add_devices(old)[0]
    answer = world.gas.read_inventory(device)
    [item] = answer.body.inventory
    assert answer.header.response_code == "I0"
    assert (item.device_id, item.device_type, item.model, item.firmware_version,
            item.cpl_status) == (device, "GSME", old.model, old.firmware_version, old.status)
    assert world.gas.read_inventory("00-11-22-33-44-55-66-77").header.response_code == "E19"
