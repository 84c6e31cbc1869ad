"""The simulated DSP answers SR 8.2 with the inventory of the device's premises."""
from __future__ import annotations

from pathlib import Path

from duis.models import ResponseMessage
from simulators import build_simulation
from simulators.dsp.client import SimulatedSupplier
from simulators.dsp.reads import PREMISES_MAX


def test_an_inventory_lists_the_devices_on_the_same_hub_up_to_the_limit(
        generated: Path) -> None:
    """8.2 names the asked device first, then its hub's other devices, at most 17 in all."""
    sim = build_simulation(generated)
    fleet = sim.dsp.fleet
    asked = fleet.ids[0]
    hub_id, gbcs = fleet.hub(0)
    for i in range(1, 25):  # move 24 more devices onto the same comms hub
        fleet.set_hub(i, hub_id, gbcs)
    answer = SimulatedSupplier(sim).read_inventory(asked)
    assert answer.header.response_code == "I0"
    assert isinstance(answer.body, ResponseMessage) and answer.body.inventory is not None
    listed = [d.device_id for d in answer.body.inventory]
    assert len(listed) == PREMISES_MAX == 17 and listed[0] == asked
    assert all(fleet.hub(fleet.index(d))[0] == hub_id for d in listed)
    first = answer.body.inventory[0]
    assert first.firmware_version == fleet.running_version(0)
