"""The simulator's GBCS bytes for the RTDS inputs match the DCC's RTDS 4.5.0 vectors.

Devices with the RTDS EUIs (ESME ...A0, GSME ...A1, PPMID ...A4 behind hub ...A2) are driven
by the RTDS test Supplier (90-B3-D5-1F-30-01-00-00) through the scenarios the vectors record;
each payload the simulator sends is decoded and compared with its vector field by field.
Signatures, MACs, times and transaction IDs (counters) are left aside, and so are the facts
of the simulated device (its firmware versions and image hashes, the device that answers
when the scenario needs another device), which are checked against the simulator's truth.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from duis import build
from duis.gbcs import decode_message
from duis.models import DeviceAlert, Response
from orchestrator.domain.catalogue import CatalogueEntry
from simulators import GeneratedData, SimulatedSupplier, Simulation, build_simulation
from simulators.dsp.client import alerts_of, device_alert_of
from simulators.fleet.devices import HeldImage

RTDS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "gbcs-rtds"
ESME, GSME, PPMID, HUB = (f"00-DB-12-34-56-78-90-{x}" for x in ("A0", "A1", "A4", "A2"))
RTDS_HASH = bytes.fromhex("AA758690730934FF0685AA758690730934FF0685657788990011223344556677")
ASIDE = {"time", "originator_counter"}  # times and transaction IDs


def vector(folder: str, name: str) -> bytes:
    """One RTDS vector's bytes."""
    path = RTDS / folder / name
    if not path.is_file():
        pytest.skip(f"RTDS vector {path} is absent (reference material not shipped)")
    return bytes.fromhex("".join(path.read_text().split()))


def fields(raw: bytes, **facts: Any) -> dict[str, Any]:
    """What a payload says, times, counters, MACs and signatures aside; `facts` replace."""
    message = decode_message(raw)
    frame = message.frame
    found = {"cra_flag": frame.cra_flag, "originator": frame.originator,
             "recipient": frame.recipient, "message_code": frame.message_code,
             "relayed_for": frame.relayed_for[0] if frame.relayed_for else None,
             "body": type(message.body).__name__}
    aside = ASIDE | ({"execution_time"} if found["body"] == "FutureDatedActivationAlert"
                     else set())  # when the activation ran: a time
    found |= {k: v for k, v in asdict(message.body).items() if k not in aside}
    return found | facts


class Rtds:
    """A simulation holding the RTDS devices, and the RTDS Supplier sending to it."""

    def __init__(self, data: GeneratedData) -> None:
        self.sim: Simulation = build_simulation(data)
        self.supplier = SimulatedSupplier(self.sim, "IS")
        assert self.supplier.user.eui == "90-B3-D5-1F-30-01-00-00"

    def edge(self, device_type: str) -> tuple[CatalogueEntry, CatalogueEntry]:
        """A permitted upgrade for the type."""
        return next((a, b) for a, b in self.sim.catalogue.permitted_upgrades()
                    if b.device_type == device_type)

    def add(self, device_id: str, entry: CatalogueEntry, hub: str) -> str:
        """A commissioned device running `entry` on hub `hub`."""
        self.sim.fleet.add(device_id, entry.device_type, entry.manufacturer, entry.model,
                           entry.hardware_version, entry.image_hash, entry.firmware_version,
                           "Commissioned", hub, "4.2")
        return device_id

    def answer(self, reference: str) -> bytes:
        """The GBCS payload of the one device answer to `reference` within the next hour."""
        soon = self.sim.clock.now() + timedelta(hours=1)
        answers = [m for m in self.sim.deliver_all(soon) if m.header.request_id is not None
                   and getattr(m.body, "service_reference", "") == reference
                   and m.body.future_dated_alert is None]  # type: ignore[union-attr]
        assert len(answers) == 1, answers
        payload = answers[0].body.gbcs_payload  # type: ignore[union-attr]
        assert payload is not None
        return payload

    def activate(self, device: str, image_hash: str | bytes, **kwargs: Any) -> Response:
        """11.3 CV4, signed pre-command, CV5."""
        return self.supplier.activate(device, image_hash, **kwargs)


def _alert(messages: list[Response], code: int) -> DeviceAlert:
    [found] = alerts_of(messages, code)
    alert = device_alert_of(found)
    assert alert is not None
    return alert


@pytest.fixture
def rtds(data: GeneratedData) -> Rtds:
    return Rtds(data)


def test_cs06_pre_commands_are_the_rtds_ones(rtds: Rtds) -> None:
    """CV4 answers CS06 0x0012 in ASN.1: hash, originator counter, execution time."""
    old, _ = rtds.edge("ESME")
    rtds.add(ESME, old, "00-DB-12-34-56-78-90-B0")
    for name, at, cancel in (("IMMEDIATE_SUCCESS", None, False),
                             ("FUTURE_DATED_SUCCESS", datetime(2030, 1, 15, 9, tzinfo=UTC), False),
                             ("FUTURE_DATED_ERROR", datetime(2030, 1, 1, tzinfo=UTC), False),
                             ("CANCELLATION_SUCCESS", None, True)):
        rid = rtds.supplier.request_id(ESME)
        first = rtds.supplier.send(build.activate_firmware(rid, RTDS_HASH, at=at, cancel=cancel))
        pre = first.body.pre_command  # type: ignore[union-attr]
        assert pre is not None
        assert decode_message(pre.gbcs_payload).originator_counter == rid.counter
        assert fields(pre.gbcs_payload) == fields(
            vector("11.3_CS06", f"CS06_11.3_{name}_PRECOMMAND_GBCS.HEX"))


def test_an_esme_answers_and_alerts_in_the_rtds_shapes(rtds: Rtds) -> None:
    """ESME: CS06 error / future-dated / cancellation answers, FDRA DLMS 0x00CE, 0x8F66,
    0x8F67 and the ECS52 read-back, as the RTDS has them."""
    old, new = rtds.edge("ESME")
    rtds.add(ESME, old, "00-DB-12-34-56-78-90-B0")
    fleet, i = rtds.sim.fleet, rtds.sim.fleet.index(ESME)
    rtds.activate(ESME, RTDS_HASH)  # no image held: result 1 with the running version
    assert fields(rtds.answer("11.3")) == fields(
        vector("11.3_CS06", "CS06_11.3_IMMEDIATE_ERROR_RESPONSE_GBCS.HEX"),
        firmware_version=old.firmware_version)
    rtds.supplier.update_firmware(new.cpl_entry_id, [ESME])
    receipt = _alert(rtds.sim.deliver_all(), 0x8F72)
    assert fields(receipt.gbcs_payload) == fields(
        vector("NA_FDRA-DLMS", "FDRA-DLMS_NA_8F72_ALERT_GBCS.HEX"),
        image_hash=bytes.fromhex(new.image_hash))
    later = rtds.sim.clock.now() + timedelta(days=3)
    rtds.activate(ESME, new.image_hash, at=later)
    accepted = rtds.answer("11.3")
    assert fields(accepted) == fields(
        vector("11.3_CS06", "CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX"))
    rtds.activate(ESME, new.image_hash, cancel=True)
    assert fields(rtds.answer("11.3")) == fields(
        vector("11.3_CS06", "CS06_11.3_CANCELLATION_SUCCESS_RESPONSE_GBCS.HEX"))
    rtds.activate(ESME, new.image_hash, at=rtds.sim.clock.now() + timedelta(days=3))
    assert fields(rtds.answer("11.3"))["result"] is None  # accepted for later
    fleet.held[i] = HeldImage(RTDS_HASH.hex(), "0123ABCF")  # then another image arrives
    failed = _alert(rtds.sim.deliver_all(), 0x8F67)
    assert fields(failed.gbcs_payload) == fields(
        vector("11.3_CS06", "CS06_11.3_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX"),
        firmware_version=old.firmware_version)
    fleet.held[i] = HeldImage(new.image_hash, new.firmware_version)
    rtds.activate(ESME, new.image_hash, at=rtds.sim.clock.now() + timedelta(days=3))
    done = _alert(rtds.sim.deliver_all(), 0x8F66)
    assert fields(done.gbcs_payload) == fields(
        vector("11.3_CS06", "CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"),
        firmware_version=new.firmware_version)
    rtds.supplier.read_version(ESME)
    assert fields(rtds.answer("11.2")) == fields(
        vector("11.2_ECS52", "ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
        firmware_version=new.firmware_version)


def test_a_gsme_answers_and_alerts_in_the_rtds_shapes(rtds: Rtds) -> None:
    """GSME: FDRA in GBZ (0x00CF), the CS06 immediate success, the GCS38 read-back."""
    old, new = rtds.edge("GSME")
    rtds.add(GSME, old, "00-DB-12-34-56-78-90-B1")
    rtds.supplier.update_firmware(new.cpl_entry_id, [GSME])
    receipt = _alert(rtds.sim.deliver_all(), 0x8F72)
    assert fields(receipt.gbcs_payload) == fields(
        vector("NA_FDRA-ZigBee", "FDRA-ZigBee_NA_8F72_ALERT_GBCS.HEX"),
        image_hash=bytes.fromhex(new.image_hash))
    rtds.activate(GSME, new.image_hash)
    assert fields(rtds.answer("11.3")) == fields(
        vector("11.3_CS06", "CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"),
        originator=GSME, firmware_version=new.firmware_version)
    rtds.supplier.read_version(GSME)
    assert fields(rtds.answer("11.2")) == fields(
        vector("11.2_GCS38", "GCS38_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
        firmware_version=new.firmware_version)


def test_a_ppmid_answers_and_alerts_in_the_rtds_shapes(rtds: Rtds) -> None:
    """PPMID: the hub's CCS08 0x8F8A (0x0128), CS09 0x8F8B on activation, the CS08 read-back
    relayed by the DCC for the Supplier."""
    old, new = rtds.edge("PPMID")
    rtds.add(PPMID, old, HUB)
    rtds.supplier.update_firmware(new.cpl_entry_id, [PPMID])
    moved = _alert(rtds.sim.deliver_all(), 0x8F8A)
    assert fields(moved.gbcs_payload) == fields(
        vector("NA_CCS08", "CCS08_NA_NA_ALERT_GBCS.HEX"), firmware_version=new.firmware_version)
    rtds.activate(PPMID, new.image_hash)
    messages = rtds.sim.deliver_all()
    ran = _alert(messages, 0x8F8B)
    assert fields(ran.gbcs_payload) == fields(
        vector("NA_CS09", "CS09_NA_8F8B_ALERT_GBCS.HEX"), firmware_version=new.firmware_version)
    rtds.supplier.read_version(PPMID)
    assert fields(rtds.answer("11.2")) == fields(
        vector("11.2_CS08", "CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
        firmware_version=new.firmware_version)
