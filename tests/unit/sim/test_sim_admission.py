"""Request-level checks of the simulated DSP and the device checks of 11.2 / 11.3."""
from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from duis import build
from duis.codes import DCC_EUI
from duis.models import ReadFirmwareVersion
from duis.requestid import RequestId
from duis.sign import sign_document
from duis.testing.pki import Pki
from simulators import ConfigurationError, SimulatedSupplier, build_simulation
from simulators.dsp.users import UserIdentity


def _code(world, xml: bytes) -> str:  # type: ignore[no-untyped-def]
    return world.sim.verify(world.sim.dsp.submit(xml)).header.response_code


def _read(supplier, device: str) -> str:  # type: ignore[no-untyped-def]
    return supplier.send(ReadFirmwareVersion(supplier.request_id(device))).header.response_code


SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"


def _signed_after(supplier, edit) -> bytes:  # type: ignore[no-untyped-def]
    """A read request edited by `edit(root)`, then properly signed by `supplier`."""
    request = ReadFirmwareVersion(supplier.request_id("00-11-22-33-44-55-66-77"))
    root = etree.fromstring(build.to_xml(request))
    edit(root)
    return sign_document(root, supplier.user.xml)


def _unknown_body(root) -> None:  # type: ignore[no-untyped-def]
    root.find(f"{SR}Body")[0].tag = f"{SR}Extra"


def test_malformed_and_schema_invalid_requests_get_e43(world) -> None:
    """Not XML, or a signed request whose body is no DUIS request, is answered E43."""
    root = etree.fromstring(_signed_after(world.gas, _unknown_body))
    assert _code(world, b"<not xml") == "E43"
    assert _code(world, etree.tostring(root)) == "E43"
    assert world.sim.dsp.journal[-1].code == "E43"


def test_requests_breaking_the_official_schema_get_e43(data, xsd) -> None:
    """With the DCC's DUIS XSD configured, a signed request with a stray element is E43."""
    sim = build_simulation(data, schema_path=xsd)
    signed = _signed_after(SimulatedSupplier(sim, "GS"),
                           lambda root: etree.SubElement(root[0], f"{SR}Extra"))
    assert sim.verify(sim.dsp.submit(signed)).header.response_code == "E43"
    assert xsd.name in sim.dsp.journal[-1].reason


def test_unsigned_tampered_or_foreign_signatures_get_e41(world) -> None:
    """Missing signature, altered content, or a key the DCC does not know: E41."""
    rid = world.gas.request_id("00-11-22-33-44-55-66-77")
    request = ReadFirmwareVersion(rid)
    tampered = world.gas.user.sign(request).replace(f":{rid.counter}<".encode(),
                                                    f":{rid.counter + 1}<".encode())
    stranger = Pki.generate().supplier_xml.identity
    for xml in (build.to_xml(request), tampered, build.sign_request(request, stranger)):
        assert _code(world, xml) == "E41"


def test_signing_with_another_users_certificate_is_e41(data) -> None:
    """A User must sign with its own registered XML-signing certificate."""
    pki = Pki.generate()
    other = UserIdentity("90-B3-D5-1F-30-01-00-09", "IS", pki.supplier_xml.identity,
                         pki.supplier_ds.key, pki.supplier_ds.certificate)
    sim = build_simulation(data, users=[other, *build_simulation(data).users.values()])
    gas = sim.users["GS"]
    rid = RequestId(other.eui, "00-11-22-33-44-55-66-77", 1)
    xml = build.sign_request(ReadFirmwareVersion(rid), gas.xml)
    assert sim.verify(sim.dsp.submit(xml)).header.response_code == "E41"


def test_unknown_originator_is_e1_and_a_role_without_rights_is_e2(data) -> None:
    """An EUI no User holds is E1; a role that may not send 11.1 (e.g. ED) is E2."""
    sim = build_simulation(data)
    gas = sim.users["GS"]
    network = UserIdentity("90-B3-D5-1F-30-02-00-00", "ED", gas.xml, gas.ds_key, gas.ds_cert,
                           party="network")
    sim = build_simulation(data, users=[network])
    sneaky = ReadFirmwareVersion(RequestId("90-B3-D5-1F-30-0F-00-00", DCC_EUI, 5))
    assert sim.verify(sim.dsp.submit(network.sign(sneaky))).header.response_code == "E1"
    answer = SimulatedSupplier(sim, network).update_firmware(
        sim.catalogue.entries[0].cpl_entry_id, ["00-11-22-33-44-55-66-77"])
    assert answer.header.response_code == "E2"


def test_wrong_target_is_e13(world) -> None:
    """11.1 must go to the DCC's EUI and 11.2 to a device."""
    old, new = world.edge("GSME")
    device = world.add_devices(old)[0]
    image = world.sim.upgrade_image(new.cpl_entry_id)
    to_device = build.update_firmware(world.gas.request_id(device), image,
                                      new.firmware_version, [device])
    assert world.gas.send(to_device).header.response_code == "E13"
    assert _read(world.gas, DCC_EUI) == "E13"


def test_replayed_or_lower_counters_are_e42(world) -> None:
    """The originator counter must strictly increase: a replay or a lower one is E42."""
    device = world.add_devices(world.edge("GSME")[0])[0]
    request = ReadFirmwareVersion(world.gas.request_id(device))
    xml = world.gas.user.sign(request)
    assert _code(world, xml) == "I99"
    assert _code(world, xml) == "E42"
    lower = ReadFirmwareVersion(RequestId(world.gas.user.eui, device, 5))
    assert world.gas.send(lower).header.response_code == "E42"


def test_counters_increase_per_target_not_across_targets(world) -> None:
    """Replay protection is per originator and target (GBCS devices keep one counter per
    remote party): a lower counter to another device is accepted, a lower one to the same
    device is not."""
    first, second = world.add_devices(world.edge("GSME")[0], 2)
    eui = world.gas.user.eui
    assert world.gas.send(ReadFirmwareVersion(RequestId(eui, first, 900))).header.response_code == "I99"
    assert world.gas.send(ReadFirmwareVersion(RequestId(eui, second, 800))).header.response_code == "I99"
    assert world.gas.send(ReadFirmwareVersion(RequestId(eui, first, 850))).header.response_code == "E42"
    assert "to " + first in world.sim.dsp.journal[-1].reason


def test_originator_scope_wants_counters_above_any_target(world, data) -> None:
    """The stricter reading (`replay_scope="originator"`): a lower counter is refused
    whatever its target."""
    sim = build_simulation(data, replay_scope="originator")
    world = dataclasses.replace(world, sim=sim, gas=SimulatedSupplier(sim, "GS"))
    devices = world.add_devices(world.edge("GSME")[0], 2)
    supplier, eui = world.gas, world.gas.user.eui
    assert supplier.send(ReadFirmwareVersion(RequestId(eui, devices[0], 900))).header.response_code == "I99"
    assert supplier.send(ReadFirmwareVersion(RequestId(eui, devices[1], 800))).header.response_code == "E42"
    assert "any target" in sim.dsp.journal[-1].reason


@pytest.mark.parametrize("case,code", [("unknown", "E19"), ("foreign", "E4"),
                                       ("wrong_role", "E4"), ("decommissioned", "E5")])
def test_device_checks_of_a_read(world, case: str, code: str) -> None:
    """11.2: no such device E19, not the User's E4, status not allowing it E5."""
    old, _ = world.edge("GSME")
    device = world.add_devices(old, status="Decommissioned" if case == "decommissioned"
                               else "Commissioned")[0]
    fleet = world.sim.fleet
    if case == "foreign":
        fleet.set_party(fleet.index(device), "rival")
    supplier = world.electricity if case == "wrong_role" else world.gas
    target = "00-11-22-33-44-55-66-77" if case == "unknown" else device
    assert _read(supplier, target) == code


def test_activation_of_a_type_without_it_is_e11_and_of_a_suspended_meter_e5(world) -> None:
    """A gas proxy (GPF) takes no 11.3 (E11); a Suspended meter may be read but not activated."""
    gpf_old, gpf_new = world.edge("GPF")
    gpf = world.add_devices(gpf_old)[0]
    assert world.gas.activate(gpf, gpf_new.image_hash).header.response_code == "E11"
    old, new = world.edge("GSME")
    suspended = world.add_devices(old, status="Suspended")[0]
    assert world.gas.activate(suspended, new.image_hash).header.response_code == "E5"
    assert _read(world.gas, suspended) == "I99"


def test_dcc_managed_hubs_are_not_the_users(world) -> None:
    """SMETS2 comms hubs are upgraded by the DCC: a User's 11.1 lists them as invalid."""
    old, new = world.edge("CHF")
    hub = world.add_devices(old)[0]
    answer = world.electricity.update_firmware(new.cpl_entry_id, [hub])
    assert answer.body.warnings.invalid == (hub,)


def test_the_dsp_refuses_a_missing_or_unloadable_schema_when_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The XSD is compiled once, when the DSP is configured: a wrong path or a file that is
    not a schema is a configuration error then, not a failure on every request."""
    import pytest

    from simulators.dsp.config import DspConfig

    with pytest.raises(ConfigurationError, match="not found"):
        DspConfig(schema_path=tmp_path / "missing.xsd")
    broken = tmp_path / "broken.xsd"
    broken.write_text("<not-a-schema/>")
    with pytest.raises(ConfigurationError):
        DspConfig(schema_path=broken)


def test_an_unknown_replay_scope_is_refused(data) -> None:
    """The simulated DSP knows two replay scopes and names them when given another."""
    with pytest.raises(ConfigurationError, match="replay scope 'device': use target or originator"):
        build_simulation(data, replay_scope="device")
