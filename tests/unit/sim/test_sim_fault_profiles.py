"""Every named fault profile shows its fault; `none` shows none; the same seed repeats."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from duis.models import Response
from simulators import ConfigurationError, SimulatedSupplier, build_simulation
from simulators.dsp.client import alerts_of, device_of
from simulators.faults import PROFILES, RATE_FIELDS, FaultDice, profile

DEVICES = 40


def _campaign_step(data, faults: str, seed: int = 3) -> tuple[list[Response], object]:  # type: ignore[no-untyped-def]
    """11.1 to 40 gas meters, then an 11.2 to each: every message delivered, in order."""
    sim = build_simulation(data, faults=faults, seed=seed)
    gas = SimulatedSupplier(sim, "GS")
    old, new = next((a, b) for a, b in sim.catalogue.permitted_upgrades()
                    if b.device_type == "GSME")
    devices = [f"AA-BB-CC-00-00-00-00-{k:02X}" for k in range(DEVICES)]
    for k, device in enumerate(devices):
        sim.fleet.add(device, "GSME", old.manufacturer, old.model, old.hardware_version,
                      old.image_hash, old.firmware_version, "Commissioned",
                      f"AA-BB-CD-00-00-00-00-{k:02X}", "4.2")
    gas.update_firmware(new.cpl_entry_id, devices)
    messages = sim.deliver_all()
    for device in devices:
        gas.read_version(device)
    return messages + sim.deliver_all(), (sim, new)


def _codes(messages: list[Response], code: str) -> int:
    return sum(m.header.response_code == code for m in messages)


def _overtaken(messages: list[Response]) -> int:
    """How many 0x8F72 alerts arrived before their device's N60."""
    order = {id(m): i for i, m in enumerate(messages)}
    n60_at = {device_of(m): order[id(m)] for m in alerts_of(messages, "N60")}
    return sum(order[id(m)] < n60_at.get(device_of(m), -1) for m in alerts_of(messages, 0x8F72))


EFFECTS: dict[str, Callable[[list[Response], object], int]] = {
    "comms_failure": lambda ms, _: _codes(ms, "E20"),
    "no_response": lambda ms, _: _codes(ms, "E21"),
    "lost_response": lambda ms, ctx: ctx[0].dsp.stats.get("lost", 0)
    + (2 * DEVICES - len(alerts_of(ms, "N60")) - len(alerts_of(ms, 0x8F72))),
    "duplicate_alert": lambda ms, _: sum(
        n - 1 for n in Counter(str(m.header.response_id) for m in ms).values()),
    "out_of_order_alert": lambda ms, _: _overtaken(ms),
    "offline": lambda ms, _: len(alerts_of(ms, "N61")) + _codes(ms, "E21"),
    "delivery_failure": lambda ms, _: len(alerts_of(ms, "N61")),
    "verification_failure": lambda ms, ctx: sum(
        m.body.firmware_hash.hex() != ctx[1].image_hash for m in alerts_of(ms, 0x8F1C)),
    "slow_han": lambda ms, _: sum(
        m.header.response_datetime - ms[0].header.response_datetime > timedelta(hours=12)
        for m in alerts_of(ms, "N60")),
}


def test_profiles_cover_none_default_and_one_per_fault() -> None:
    """There is a `none`, a realistic `default` (1-3% each) and one profile per fault."""
    assert set(PROFILES) == {"none", "default", "slow_han", *RATE_FIELDS} == {"none", "default",
                                                                               *EFFECTS}
    assert all(0.01 <= rate <= 0.03 for rate in PROFILES["default"].rates.values())
    assert not any(PROFILES["none"].rates.values())


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_named_profile_shows_its_fault_and_none_does_not(data, name: str) -> None:
    """Under the named profile the fault appears; under `none` it never does."""
    faulty = _campaign_step(data, name)
    clean = _campaign_step(data, "none")
    assert EFFECTS[name](*faulty) > 0
    assert EFFECTS[name](*clean) == 0


def test_none_profile_delivers_every_alert_exactly_once(data) -> None:
    """No faults: one N60, one 0x8F72 and one 11.2 answer per device, nothing else."""
    messages, _ = _campaign_step(data, "none")
    assert len(messages) == 3 * DEVICES
    assert _codes(messages, "I0") == 3 * DEVICES


def test_default_profile_is_a_low_rate_mix_and_repeats_with_the_seed(data) -> None:
    """`default` spoils only a few messages, and the same seed gives the same messages."""
    first, _ = _campaign_step(data, "default", seed=11)
    again, _ = _campaign_step(data, "default", seed=11)
    assert [m.header for m in first] == [m.header for m in again]
    good = _codes(first, "I0")
    assert good >= 0.8 * 3 * DEVICES


def test_single_fault_rates_can_be_set_by_name() -> None:
    """`comms_failure:1.0` sets that rate; unknown names and bad rates are refused."""
    assert profile("comms_failure:1.0").comms_failure == 1.0
    for bad in ("nonsense", "default:0.5", "comms_failure:x", "comms_failure:2"):
        with pytest.raises(ConfigurationError):
            profile(bad)


def test_fault_dice_repeat_with_the_seed_and_none_draws_nothing() -> None:
    """The same seed gives the same draws; a zero rate or fixed delay consumes no randomness."""
    one, two = FaultDice(PROFILES["default"], 5), FaultDice(PROFILES["default"], 5)
    assert [one.hit("offline") for _ in range(500)] == [two.hit("offline") for _ in range(500)]
    quiet = FaultDice(PROFILES["none"], 5)
    state = quiet.rng.getstate()
    assert not quiet.hit("comms_failure") and quiet.delay("han_delivery") == timedelta(hours=1)
    assert quiet.rng.getstate() == state
