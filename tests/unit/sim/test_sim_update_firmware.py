"""SR 11.1 / 11.4 in the simulated DSP: warning lists, response codes, delivery alerts."""
from __future__ import annotations

from duis import build, schema
from duis.image import build_image
from duis.models import DccAlert, FirmwareDeliveryStatus, ResponseMessage
from duis.testing.pki import Pki
from simulators import SimulatedSupplier, build_simulation
from simulators.dsp.client import alerts_of, device_of
from simulators.fleet.devices import BRICKED


def _warnings(response):  # type: ignore[no-untyped-def]
    body = response.body
    assert isinstance(body, ResponseMessage)
    return body.warnings


def test_accepted_batch_gets_i99_then_n60_and_0x8f72_with_the_cpl_hash(world) -> None:
    """Every device accepted: I99 with no warnings, then N60 and 0x8F72 carrying the CPL hash."""
    old, new = world.edge("GSME")
    devices = world.add_devices(old, 3)
    answer = world.gas.update_firmware(new.cpl_entry_id, devices)
    assert answer.header.response_code == "I99" and _warnings(answer) is None
    messages = world.messages()
    n60, ok = alerts_of(messages, "N60"), alerts_of(messages, 0x8F72)
    assert sorted(map(device_of, n60)) == sorted(devices) == sorted(map(device_of, ok))
    assert {m.body.firmware_hash.hex() for m in ok} == {new.image_hash}
    detail = n60[0].body.detail
    assert isinstance(detail, FirmwareDeliveryStatus) and detail.success
    assert detail.update_firmware_request_id == answer.header.request_id
    assert all(world.sim.fleet.view(d, world.sim.clock.now()).held_hash == new.image_hash
               for d in devices)


def test_each_warning_list_names_its_devices(world) -> None:
    """Unknown/foreign, not commissioned, wrong image, in progress and GBCS each get a list."""
    old, new = world.edge("GSME")
    fleet = world.sim.fleet
    ok, foreign, busy = world.add_devices(old, 3)
    suspended = world.add_devices(old, status="Suspended")[0]
    low_hub = world.add_devices(old, hub_gbcs="2.0")[0]
    fleet.set_party(fleet.index(foreign), "rival")
    other_model, _ = world.edge("ESME")
    wrong_model = world.add_devices(other_model)[0]
    world.gas.update_firmware(new.cpl_entry_id, [busy])
    answer = world.gas.update_firmware(new.cpl_entry_id, [
        ok, "00-11-22-33-44-55-66-77", foreign, suspended, wrong_model, busy, low_hub])
    w = _warnings(answer)
    assert answer.header.response_code == "W110101"
    assert set(w.invalid) == {"00-11-22-33-44-55-66-77", foreign, wrong_model}
    assert (w.not_commissioned, w.other_request_in_progress) == ((suspended,), (busy,))
    assert w.invalid_gbcs_version == (low_hub,) and ok not in w.rejected


def test_image_not_active_for_the_model_is_not_applicable(world) -> None:
    """An image whose hash is a non-Active entry of the model goes to the NotApplicable list."""
    catalogue = world.sim.catalogue
    retired = next(e for e in catalogue.entries if e.device_type == "GSME" and not e.active)
    device = world.add_devices(retired)[0]
    answer = world.gas.update_firmware(retired.cpl_entry_id, [device])
    assert answer.header.response_code == "E110101"
    assert _warnings(answer).not_applicable_firmware == (device,)
    assert world.messages() == []


def test_electricity_devices_need_the_import_supplier(world) -> None:
    """A Gas Supplier's 11.1 for an electricity meter lists it as invalid."""
    old, new = world.edge("ESME")
    device = world.add_devices(old)[0]
    answer = world.gas.update_firmware(new.cpl_entry_id, [device],
                                       image=world.sim.upgrade_image(new.cpl_entry_id))
    assert _warnings(answer).invalid == (device,)


def test_unreadable_image_and_version_mismatch_are_rejected_whole(world) -> None:
    """E110102 for bytes that are no GBCS image; E110103 when FirmwareVersion disagrees."""
    old, new = world.edge("GSME")
    device = world.add_devices(old)[0]
    rid = world.gas.request_id()
    junk = world.gas.send(build.update_firmware(rid, b"not an image", "01", [device]))
    image = world.sim.upgrade_image(new.cpl_entry_id)
    other = build.update_firmware(world.gas.request_id(), image, "FFFFFFFF", [device])
    assert junk.header.response_code == "E110102"
    assert world.gas.send(other).header.response_code == "E110103"


def test_ppmid_update_uses_11_4_and_the_hub_transfer_alert(world) -> None:
    """11.4 for a PPMID: I99, N60 and 0x8F8A; a hub below GBCS 3.2 is InvalidGBCSVersion."""
    old, new = world.edge("PPMID")
    good, old_hub = world.add_devices(old)[0], world.add_devices(old, hub_gbcs="3.1")[0]
    answer = world.electricity.update_firmware(new.cpl_entry_id, [good, old_hub])
    assert answer.body.service_reference == "11.4"
    assert answer.header.response_code == "W110401"
    assert _warnings(answer).invalid_gbcs_version == (old_hub,)
    messages = world.messages()
    assert [device_of(m) for m in alerts_of(messages, 0x8F8A)] == [good]
    assert len(alerts_of(messages, "N60")) == 1 and not alerts_of(messages, 0x8F72)


def test_device_refuses_images_that_do_not_fit_and_says_0x8f1c(world) -> None:
    """Unsigned, foreign-signed, wrong manufacturer, type or hardware: 0x8F1C, nothing held."""
    old, new = world.edge("GSME")
    image = world.sim.images(new.cpl_entry_id)
    code, hw = int(new.manufacturer, 16), int(new.hardware_version, 16)
    stranger = Pki.generate().supplier_ds.key
    key = world.gas.user.ds_key
    bad = [build_image(image, code, 0, int(new.firmware_version, 16)),
           build_image(image, code, 0, int(new.firmware_version, 16), signing_key=stranger),
           build_image(image, code ^ 1, 0, int(new.firmware_version, 16), signing_key=key),
           build_image(image, code, 0x84, int(new.firmware_version, 16), signing_key=key),
           build_image(image, code, 0, int(new.firmware_version, 16), min_hw=hw + 1,
                       max_hw=hw + 2, signing_key=key)]
    for data in bad:
        device = world.add_devices(old)[0]
        assert world.gas.update_firmware(new.cpl_entry_id, [device], image=data
                                         ).header.response_code == "I99"
        failed = alerts_of(world.messages(), 0x8F1C)
        assert [device_of(m) for m in failed] == [device]
        assert world.sim.fleet.view(device, world.sim.clock.now()).held_hash is None


def test_bricked_device_fails_delivery_with_n61(world) -> None:
    """A device that no longer answers gets N61 (CommsHubTransferStatus Failure)."""
    old, new = world.edge("GSME")
    device = world.add_devices(old)[0]
    world.sim.fleet.set_flag(world.sim.fleet.index(device), BRICKED, True)
    world.gas.update_firmware(new.cpl_entry_id, [device])
    [n61] = world.messages()
    assert isinstance(n61.body, DccAlert) and n61.body.code == "N61"
    assert not n61.body.detail.success


def test_every_message_is_schema_valid_and_dcc_signed(world, xsd) -> None:
    """Responses and alerts validate against the DUIS XSD and verify with the DCC cert."""
    old, new = world.edge("GSME")
    devices = world.add_devices(old, 2)
    world.gas.update_firmware(new.cpl_entry_id, devices + ["00-11-22-33-44-55-66-77"])
    world.sim.dsp.run_until_idle()
    raw = list(world.sim.received)
    assert len(raw) == 4
    for xml in raw:
        schema.validate(xml, xsd)
        assert world.sim.verify(xml).signed


def test_failed_ppmid_transfer_raises_n61_and_0x8f89(data) -> None:
    """When the hub cannot get the image to a PPMID: N61 and the CH alert 0x8F89."""
    sim = build_simulation(data, faults="delivery_failure:1.0")
    old, new = next((a, b) for a, b in sim.catalogue.permitted_upgrades()
                    if b.device_type == "PPMID")
    sim.fleet.add("AA-BB-CC-00-00-0D-00-01", "PPMID", old.manufacturer, old.model,
                  old.hardware_version, old.image_hash, old.firmware_version, "Commissioned",
                  "AA-BB-CD-00-00-0D-00-01", "4.2")
    SimulatedSupplier(sim, "IS").update_firmware(new.cpl_entry_id, ["AA-BB-CC-00-00-0D-00-01"])
    messages = sim.deliver_all()
    assert [device_of(m) for m in alerts_of(messages, "N61")] == ["AA-BB-CC-00-00-0D-00-01"]
    assert [device_of(m) for m in alerts_of(messages, 0x8F89)] == ["AA-BB-CC-00-00-0D-00-01"]
