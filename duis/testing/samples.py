"""Identifiers from the DCC test material, and one sample of every message, for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime

from duis import build, gbcs, respond
from duis.models import (
    DccAlert,
    DeviceAlert,
    FirmwareDeliveryStatus,
    FirmwareDistributionFailure,
    FirmwareVersionMismatch,
    FirmwareWarnings,
    InventoryDevice,
    PreCommand,
    QuarantinedRequest,
    ReadFirmwareVersion,
    ReadInventory,
    Request,
    Response,
    ResponseHeader,
    ResponseMessage,
    SignedPreCommand,
)
from duis.requestid import RequestId
from duis.testing.pki import Pki

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
DCC = "90-B3-D5-1F-30-00-00-02"
DEVICE = "00-DB-12-34-56-78-90-A0"
COMMS_HUB = "00-DB-12-34-56-78-90-A9"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TO_DCC, TO_DEVICE = RequestId(SUPPLIER, DCC, 1), RequestId(SUPPLIER, DEVICE, 2)


def sample_requests(pki: Pki) -> dict[str, Request]:
    """One request of each kind the library builds."""
    pre = gbcs.encode_pre_command(2, SUPPLIER, DEVICE, gbcs.CS06, b"\x01" * 32, None)
    many = [f"00-DB-12-34-56-78-90-{i:02X}" for i in range(50)]
    return {
        "11.1": build.update_firmware(TO_DCC, b"\x1e\xf1" * 500, "ACDCACDC", many),
        "11.4": build.update_firmware(TO_DCC, b"ppmid", "1", [DEVICE], ppmid=True),
        "11.3_now": build.activate_firmware(TO_DEVICE, "ab" * 32),
        "11.3_future": build.activate_firmware(
            TO_DEVICE, "ab" * 32, at=datetime(2030, 1, 15, 9, tzinfo=UTC)
        ),
        "11.3_cancel": build.activate_firmware(TO_DEVICE, "ab" * 32, cancel=True),
        "11.3_signed": SignedPreCommand(TO_DEVICE, gbcs.sign_pre_command(pre, pki.supplier_ds.key)),
        "11.2": ReadFirmwareVersion(TO_DEVICE),
        "8.2": ReadInventory(TO_DCC, DEVICE),
    }


def _gbcs_alerts() -> dict[str, DeviceAlert]:
    """FDRA GBZ, CCS08 and CS09 device alerts in their RTDS shapes (unsigned)."""
    receipt = gbcs.FirmwareDistributionReceipt(0x8F72, NOW, b"\xa1" * 32)
    moved = gbcs.FirmwareTransferAlert(0x8F8A, NOW, DEVICE, "0123ABCD", 0)
    ran = gbcs.PpmidActivationAlert(0x8F8B, NOW, "1234ABCD", 0)
    return {
        "fdra_gbz": respond.alert_message(
            0x8F72, gbcs.encode_fdra(6, DEVICE, SUPPLIER, receipt, gbz_format=True)
        ),
        "ccs08": respond.alert_message(
            0x8F8A, gbcs.encode_transfer_alert(7, COMMS_HUB, DCC, moved)
        ),
        "cs09": respond.alert_message(
            0x8F8B, gbcs.encode_ppmid_activation_alert(8, DEVICE, DCC, ran)
        ),
    }


def sample_responses() -> dict[str, Response]:
    """One response or alert of each kind the simulator will send."""
    h = ResponseHeader(TO_DCC, RequestId(DCC, SUPPLIER, 1), "I0", NOW)
    device = InventoryDevice(
        DEVICE,
        "ESME",
        "106C",
        "433100AC",
        "Commissioned",
        "0002012F",
        "Active",
        "Active",
        "4.2",
        "Dual Band",
        "5",
    )
    version = respond.device_response_payload(DEVICE, TO_DEVICE, 3, b"\x01\x02\x03\x04")
    pre = gbcs.encode_pre_command(2, SUPPLIER, DEVICE, gbcs.CS06, b"\x01" * 32, None)
    activated = gbcs.encode_activation_response(2, DEVICE, SUPPLIER, NOW, 0, "0123ABCE")
    done = gbcs.FutureDatedActivationAlert(0x8F66, NOW, 2, 0, "0123ABCE")
    dated = gbcs.encode_future_dated_alert(5, DEVICE, SUPPLIER, done)
    bodies: dict[str, ResponseMessage | DeviceAlert | DccAlert] = {
        "warnings": ResponseMessage(
            "11.1", "11.1", warnings=FirmwareWarnings((DEVICE,), (COMMS_HUB,))
        ),
        "ppmid_warnings": ResponseMessage(
            "11.4", "11.4", warnings=FirmwareWarnings(invalid_gbcs_version=(DEVICE,))
        ),
        "no_warnings": ResponseMessage("11.1", "11.1"),
        "inventory": ResponseMessage("8.2", "8.2", inventory=(device,)),
        "version": ResponseMessage("11.2", "11.2", gbcs_payload=version),
        "pre_command": ResponseMessage("11.3", "11.3", pre_command=PreCommand("4.2", pre)),
        "activation": ResponseMessage("11.3", "11.3", gbcs_payload=activated),
        "future_dated_alert": ResponseMessage(
            "11.3", "11.3", future_dated_alert=respond.alert_message(0x8F66, dated)
        ),
        "device_alert": respond.device_alert(0x8F72, DEVICE, SUPPLIER, 4, NOW, b"\x11" * 32),
        **_gbcs_alerts(),
        "n60": DccAlert(
            "N60", "", FirmwareDeliveryStatus(TO_DCC, COMMS_HUB, DEVICE, "0102", NOW, True)
        ),
        "n61": DccAlert("N61", "", FirmwareDistributionFailure(TO_DCC, (DEVICE,))),
        "ad1": DccAlert("AD1", "", QuarantinedRequest("ADDCCThresholdBreach", TO_DCC, 12345)),
        "mismatch": DccAlert("N999", "", FirmwareVersionMismatch(DEVICE, "GSME", "0101", "0102")),
    }
    return {name: Response("5.4", h, body) for name, body in bodies.items()}
