"""The fleet's column store, its firmware rules and the persisted engineer edits."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from simulators import FleetStateError, UnknownDeviceError, build_simulation
from simulators.fleet.behaviour import Activation, activate, in_order
from simulators.fleet.devices import HeldImage
from simulators.fleet.state import FleetState, apply_state, load_state, save_state

NOW = datetime(2025, 1, 6, tzinfo=UTC)


def test_devices_resolve_their_running_entry_by_hash(data) -> None:
    """Each fleet row's hash finds its CPL entry; a hash on no entry is unknown firmware."""
    sim = build_simulation(data)
    fleet = sim.fleet
    assert len(fleet) == len(data.rows)
    for row in data.rows[:50]:
        entry = fleet.running_entry(row[0])
        if entry is None:
            assert fleet.view(row[0], NOW).running_hash == row[5]
        else:
            assert sim.catalogue.entries[sim.catalogue.index_of(entry)].image_hash == row[5]
    assert any(fleet.running_entry(r[0]) is None for r in data.rows)
    with pytest.raises(UnknownDeviceError):
        fleet.index("00-11-22-33-44-55-66-77")


def test_in_order_follows_the_fir_predecessor_lists(world) -> None:
    """A listed predecessor may go to the target; anything else is out of order."""
    fleet, catalogue = world.sim.fleet, world.sim.catalogue
    old, new = world.edge("GSME")
    [device] = world.add_devices(old)
    i, target = fleet.index(device), catalogue.index_of(new.cpl_entry_id)
    assert in_order(fleet, i, target) and in_order(fleet, i, catalogue.index_of(old.cpl_entry_id))
    fleet.set_running(i, catalogue.index_of(new.cpl_entry_id))
    assert not in_order(fleet, i, catalogue.index_of(old.cpl_entry_id))
    fleet.order_insensitive.add(old.model_key)
    assert in_order(fleet, i, catalogue.index_of(old.cpl_entry_id))


def test_unknown_running_firmware_bricks_on_activation(world) -> None:
    """A device on an image no CPL entry knows has no permitted path: activation bricks it."""
    fleet = world.sim.fleet
    old, new = world.edge("GSME")
    fleet.add("AA-BB-CC-00-00-0F-00-01", "GSME", old.manufacturer, old.model,
              old.hardware_version, "ab" * 32, "00000001", "Commissioned",
              "AA-BB-CD-00-00-0F-00-01", "4.2")
    i = fleet.index("AA-BB-CC-00-00-0F-00-01")
    fleet.held[i] = HeldImage(new.image_hash, new.firmware_version)
    assert activate(fleet, i, new.image_hash) is Activation.BRICKED
    assert fleet.bricked() == ["AA-BB-CC-00-00-0F-00-01"]


def test_edits_round_trip_through_the_state_file(world, tmp_path) -> None:
    """Edits saved as JSON apply again: running entry, offline, status, party, sensitivity."""
    old, new = world.edge("GSME")
    [device] = world.add_devices(old)
    state = FleetState()
    state.set_device(device, running_entry=new.cpl_entry_id, offline=True, status="Suspended",
                     party="rival")
    state.set_order_sensitive(new.manufacturer, new.model, False)
    save_state(state, tmp_path / "fleet_state.json")
    assert json.loads((tmp_path / "fleet_state.json").read_text())["version"] == 1
    apply_state(world.sim.fleet, load_state(tmp_path / "fleet_state.json"))
    view = world.sim.fleet.view(device, NOW)
    assert (view.running_entry, view.offline, view.status, view.party) == (
        new.cpl_entry_id, True, "Suspended", "rival")
    assert new.model_key in world.sim.fleet.order_insensitive


def test_bad_edits_are_refused(world, tmp_path) -> None:
    """Unknown devices, entries of another model and unreadable files raise FleetStateError."""
    old, _ = world.edge("GSME")
    [device] = world.add_devices(old)
    other = next(e for e in world.sim.catalogue.entries if e.model_key != old.model_key)
    for edit in ({"00-11-22-33-44-55-66-77": {"offline": True}},
                 {device: {"running_entry": other.cpl_entry_id}}):
        with pytest.raises(FleetStateError):
            apply_state(world.sim.fleet, FleetState(edit, {}))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FleetStateError):
        load_state(tmp_path / "bad.json")
