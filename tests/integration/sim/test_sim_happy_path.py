"""A whole firmware step in-process against the DSP loaded from generated files on disk."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from duis import build, gbcs
from duis.codes import DCC_EUI
from duis.image import build_image
from duis.keys import TrustStore, load_private_key
from duis.models import (
    ActivationResult,
    DccAlert,
    DeviceAlert,
    ReadFirmwareVersion,
    Response,
    SignedPreCommand,
)
from duis.parse import verify_response
from duis.requestid import InMemoryCounterSource, next_request_id
from duis.sign import SigningIdentity
from simulators import build_simulation

SUPPLIER = "90-B3-D5-1F-30-01-00-00"  # the default Supplier User (Import and Gas roles)


def test_batch_update_activate_and_read_back(generated: Path) -> None:
    """11.1 -> N60 + 0x8F72 -> 11.3 CV4/CV5 -> result 0 -> 11.2 shows the new version."""
    keys = generated / "keys"
    xml_id = SigningIdentity.load((keys / "supplier_xml.key.pem").read_bytes(),
                                  (keys / "supplier_xml.cert.pem").read_bytes())
    ds_key = load_private_key((keys / "supplier_ds.key.pem").read_bytes())
    trust = TrustStore.from_files([keys / "dcc_xml.cert.pem"])
    sim = build_simulation(generated)
    counters = InMemoryCounterSource(floor=1_700_000_000_000)

    def send(request: object) -> Response:
        answer = sim.dsp.submit(build.sign_request(request, xml_id))  # type: ignore[arg-type]
        return verify_response(answer, trust, sim.clock.now())

    def delivered() -> list[Response]:
        sim.dsp.run_until_idle()
        out = [verify_response(m, trust, sim.clock.now()) for m in sim.received]
        sim.received.clear()
        return out

    fleet, catalogue = sim.fleet, sim.catalogue
    old, new = next((a, b) for a, b in catalogue.permitted_upgrades() if b.device_type == "GSME")
    wanted = (*new.model_key, new.hardware_version)  # the image's hardware range must fit
    batch = [d for d in fleet.ids if fleet.model_of(fleet.index(d)) == wanted
             and fleet.status(fleet.index(d)) == "Commissioned"][:5]
    assert batch
    for device in batch:
        i = fleet.index(device)
        fleet.set_running(i, catalogue.index_of(old.cpl_entry_id))
        fleet.set_hub(i, fleet.hub(i)[0], "4.2")
    hw = int(new.hardware_version, 16)
    image = build_image((generated / "images" / f"{new.cpl_entry_id}.bin").read_bytes(),
                        int(new.manufacturer, 16), 0x0000, int(new.firmware_version, 16),
                        min_hw=hw, max_hw=hw, signing_key=ds_key)

    update = build.update_firmware(next_request_id(counters, SUPPLIER, DCC_EUI), image,
                                   new.firmware_version, batch)
    assert send(update).header.response_code == "I99"
    alerts = delivered()
    assert sorted(a.body.detail.target_device_id for a in alerts
                  if isinstance(a.body, DccAlert) and a.body.code == "N60") == sorted(batch)
    verified = [a.body for a in alerts if isinstance(a.body, DeviceAlert)]
    assert {(b.alert_code, b.firmware_hash.hex()) for b in verified} == {(0x8F72, new.image_hash)}

    for device in batch:
        rid = next_request_id(counters, SUPPLIER, device)
        pre = send(build.activate_firmware(rid, new.image_hash)).body.pre_command
        signed = SignedPreCommand(rid, gbcs.sign_pre_command(pre.gbcs_payload, ds_key))
        assert send(signed).header.response_code == "I99"
    results = [r.body.activation_result for r in delivered()]
    assert results == [ActivationResult.SUCCESS] * len(batch)

    for device in batch:
        send(ReadFirmwareVersion(next_request_id(counters, SUPPLIER, device)))
    versions = {r.body.firmware_version for r in delivered()}
    assert versions == {new.firmware_version}
    assert [fleet.running_entry(d) for d in batch] == [new.cpl_entry_id] * len(batch)
    assert fleet.bricked() == [] and sim.clock.now() - sim.dsp.journal[0].at < timedelta(days=1)
