"""SR 11.3 in the simulated DSP: the pre-command flow, activation codes, bricking."""
from __future__ import annotations

from datetime import timedelta

from duis import build, gbcs
from duis.models import ActivationResult, ReadFirmwareVersion, SignedPreCommand
from duis.testing.pki import Pki
from simulators import SimulatedSupplier, build_simulation
from simulators.dsp.client import alerts_of, device_of
from simulators.fleet.devices import HeldImage


def _delivered(world, old, new, n=1):  # type: ignore[no-untyped-def]
    """Devices on `old` that hold `new`'s image (11.1 delivered and verified)."""
    devices = world.add_devices(old, n)
    world.supplier(new.device_type).update_firmware(new.cpl_entry_id, devices)
    assert len(alerts_of(world.messages(), 0x8F72)) == n
    return devices


def _result(messages):  # type: ignore[no-untyped-def]
    [answer] = [m for m in messages if m.body.service_reference == "11.3"]
    return answer.header.response_code, answer.body.activation_result


def test_pre_command_is_signed_back_and_the_device_activates(world) -> None:
    """CV4 answers I0 with a pre-command; CV5 signed with the DS key gives I99 then result 0."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    rid = world.gas.request_id(device)
    first = world.gas.send(build.activate_firmware(rid, new.image_hash))
    pre = first.body.pre_command
    assert first.header.response_code == "I0" and pre is not None
    message = gbcs.decode_message(pre.gbcs_payload)
    assert (message.originator_counter, message.recipient) == (rid.counter, device)
    signed = gbcs.sign_pre_command(pre.gbcs_payload, world.gas.user.ds_key)
    second = world.gas.send(SignedPreCommand(rid, signed))
    assert second.header.response_code == "I99"
    assert _result(world.messages()) == ("I0", ActivationResult.SUCCESS)
    assert world.sim.fleet.running_entry(device) == new.cpl_entry_id
    assert world.sim.fleet.bricked() == []


def test_bad_pre_commands_are_refused_with_e44(world) -> None:
    """A pre-command signed by another key, altered, or never issued is refused (E44)."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    rid = world.gas.request_id(device)
    pre = world.gas.send(build.activate_firmware(rid, new.image_hash)).body.pre_command
    stranger = gbcs.sign_pre_command(pre.gbcs_payload, Pki.generate().supplier_ds.key)
    forged = gbcs.encode_pre_command(rid.counter + 7, rid.originator, device, gbcs.CS06,
                                     bytes.fromhex(new.image_hash), None)
    altered = pre.gbcs_payload.replace(bytes.fromhex(new.image_hash), bytes(32))
    for payload in (stranger, world.gas.user.sign_pre_command(forged),
                    world.gas.user.sign_pre_command(altered)):
        answer = world.gas.send(SignedPreCommand(rid, payload))
        assert answer.header.response_code == "E44"
    assert world.messages() == []


def test_signed_pre_command_cannot_be_replayed(world) -> None:
    """The same CV5 a second time is a replay (E42): the pre-command was used up."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    rid = world.gas.request_id(device)
    pre = world.gas.send(build.activate_firmware(rid, new.image_hash)).body.pre_command
    cv5 = SignedPreCommand(rid, world.gas.user.sign_pre_command(pre.gbcs_payload))
    assert world.gas.send(cv5).header.response_code == "I99"
    assert world.gas.send(cv5).header.response_code == "E42"


def test_no_image_held_is_1_and_wrong_hash_is_2(world) -> None:
    """Activation without a held image answers 1; with another image's hash, 2."""
    old, new = world.edge("GSME")
    [bare] = world.add_devices(old)
    world.gas.activate(bare, new.image_hash)
    assert _result(world.messages()) == ("I0", ActivationResult.NO_IMAGE_HELD)
    [holding] = _delivered(world, old, new)
    world.gas.activate(holding, old.image_hash)
    assert _result(world.messages()) == ("I0", ActivationResult.HASH_MISMATCH)
    assert world.sim.fleet.running_entry(holding) == old.cpl_entry_id


def test_future_dated_activation_raises_0x8f66_at_its_time(world) -> None:
    """A future-dated 11.3 is accepted at once (CS06 NULL, as the RTDS answers); the device
    switches and says 0x8F66 at `at`."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    at = world.sim.clock.now() + timedelta(days=3)
    world.gas.activate(device, new.image_hash, at=at)
    world.sim.dsp.advance_by(timedelta(hours=1))
    [answer] = [m for m in world.sim.deliver_all(limit=world.sim.clock.now())
                if m.body.service_reference == "11.3"]
    assert answer.header.response_code == "I0" and answer.body.activation_accepted
    assert answer.body.activation_result is None
    assert world.sim.fleet.running_entry(device) == old.cpl_entry_id
    done = alerts_of(world.messages(), 0x8F66)
    assert [device_of(m) for m in done] == [device] and done[0].header.response_datetime == at
    assert world.sim.fleet.running_entry(device) == new.cpl_entry_id


def test_future_activation_fails_with_0x8f67_when_the_image_changed(world) -> None:
    """If another image replaces the held one before `at`, the activation fails (0x8F67)."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    world.gas.activate(device, new.image_hash, at=world.sim.clock.now() + timedelta(days=3))
    world.gas.update_firmware(old.cpl_entry_id, [device])
    messages = world.messages()
    assert [device_of(m) for m in alerts_of(messages, 0x8F67)] == [device]
    assert world.sim.fleet.running_entry(device) == old.cpl_entry_id


def test_cancellation_removes_a_pending_activation(world) -> None:
    """11.3 with the 3000-12-31 date cancels: nothing happens at the planned time."""
    old, new = world.edge("GSME")
    [device] = _delivered(world, old, new)
    world.gas.activate(device, new.image_hash, at=world.sim.clock.now() + timedelta(days=3))
    world.sim.dsp.advance_by(timedelta(hours=1))
    world.gas.activate(device, new.image_hash, cancel=True)
    messages = world.messages()
    assert not alerts_of(messages, 0x8F66) and not alerts_of(messages, 0x8F67)
    assert world.sim.fleet.running_entry(device) == old.cpl_entry_id


def test_out_of_order_activation_bricks_and_in_order_does_not(world) -> None:
    """Skipping a step the FIR does not permit bricks the device: E21 for ever after."""
    edges = list(world.sim.catalogue.permitted_upgrades())
    first, second, third = next(
        (a, b, c) for a, b in edges for b2, c in edges
        if b2 == b and a.cpl_entry_id not in (c.predecessors or ()) and c.device_type == "GSME")
    [skipper] = _delivered(world, first, third)
    [stepper] = _delivered(world, first, second)
    world.gas.activate(skipper, third.image_hash)
    world.gas.activate(stepper, second.image_hash)
    codes = {device_of(m): m.header.response_code for m in world.messages()}
    assert codes == {skipper: "E21", stepper: "I0"}
    assert world.sim.fleet.bricked() == [skipper]
    world.gas.send(ReadFirmwareVersion(world.gas.request_id(skipper)))
    [read] = world.messages()
    assert read.header.response_code == "E21"


def test_unknown_predecessors_brick_unless_the_model_is_not_order_sensitive(world) -> None:
    """An entry with no FIR predecessor data bricks, unless its model is marked insensitive."""
    catalogue, fleet = world.sim.catalogue, world.sim.fleet
    legacy = next(e for e in catalogue.entries
                  if e.predecessors is None and e.active and e.device_type == "GSME")
    start = next(e for e in catalogue.entries
                 if e.model_key == legacy.model_key and e.cpl_entry_id != legacy.cpl_entry_id)
    [doomed, spared] = _delivered(world, start, legacy, 2)
    world.gas.activate(doomed, legacy.image_hash)
    world.messages()
    fleet.order_insensitive.add(legacy.model_key)
    world.gas.activate(spared, legacy.image_hash)
    world.messages()
    assert fleet.bricked() == [doomed]
    assert fleet.running_entry(spared) == legacy.cpl_entry_id


def test_a_lost_activation_answer_leaves_the_device_suspended_until_read(data) -> None:
    """When the 11.3 answer is lost the DCC marks the device Suspended; an 11.2 lifts it."""
    sim = build_simulation(data, faults="lost_response:1.0")
    gas = SimulatedSupplier(sim, "GS")
    old, new = next((a, b) for a, b in sim.catalogue.permitted_upgrades()
                    if b.device_type == "GSME")
    i = sim.fleet.add("AA-BB-CC-00-00-0E-00-01", "GSME", old.manufacturer, old.model,
                      old.hardware_version, old.image_hash, old.firmware_version,
                      "Commissioned", "AA-BB-CD-00-00-0E-00-01", "4.2")
    sim.fleet.held[i] = HeldImage(new.image_hash, new.firmware_version)
    assert gas.activate("AA-BB-CC-00-00-0E-00-01", new.image_hash).header.response_code == "I99"
    assert sim.deliver_all() == []
    view = sim.fleet.view("AA-BB-CC-00-00-0E-00-01", sim.clock.now())
    assert (view.status, view.running_entry) == ("Suspended", new.cpl_entry_id)
    gas.read_version("AA-BB-CC-00-00-0E-00-01")
    sim.deliver_all()
    assert sim.fleet.status(i) == "Commissioned"


def test_the_devices_record_when_each_activation_ran_and_reads_while_one_is_pending(
        world) -> None:
    """Ground truth for window tests: a dated activation is recorded at its execution time
    (future-dated), an immediate one at once; an 11.2 reaching a device whose dated
    activation is still pending is counted, one after it ran is not."""
    old, new = world.edge("GSME")
    [dated, now] = _delivered(world, old, new, n=2)
    at = world.sim.clock.now() + timedelta(days=1)
    world.gas.activate(dated, new.image_hash, at=at)
    world.sim.dsp.advance_by(timedelta(hours=1))  # the command reached the device
    world.gas.read_version(dated)  # before it ran: the mistake windows must never make
    assert world.sim.dsp.stats["read_while_activation_pending"] == 1
    world.gas.activate(now, new.image_hash)
    world.messages()  # runs simulated time past `at`
    world.gas.read_version(dated)
    assert world.sim.dsp.stats["read_while_activation_pending"] == 1
    ran = {a.device_id: a for a in world.sim.dsp.activations}
    assert (ran[dated].at, ran[dated].future_dated, ran[dated].outcome) == (at, True, "success")
    assert ran[now].future_dated is False and ran[now].at < at
    assert f":{dated}:" in ran[dated].request_id  # the 11.3 behind it
