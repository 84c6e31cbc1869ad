"""The GBCS payloads a simulated device (or its hub) answers with, in the RTDS 4.5.0 shapes.

Built with `duis.gbcs`'s encoders, one use case per device type:

| what | ESME, CHF | GSME, GPF | PPMID, HCALCS |
|---|---|---|---|
| 11.2 answer | ECS52 0x0059 (DLMS) | GCS38 0x0084 (GBZ) | CS08 0x0129 (ASN.1, relayed by the DCC) |
| 11.3 answer | CS06 0x0012 | CS06 0x0012 | CS06 0x0012 |
| image received | FDRA 0x00CE (DLMS) | FDRA 0x00CF (GBZ) | CCS08 0x0128 from the hub |
| future-dated activation ran | 0x00CA (0x8F66 / 0x8F67) | 0x00CA | 0x00CA, then CS09 0x012B |

CHF and GPF follow the ESME and GSME shapes (a simulator convention: the RTDS has vectors
for ESME, GSME and PPMID/HCALCS only). Transaction counters of answers are the command's;
alerts carry the DSP's own counter. No device keys: payloads are unsigned (signature length
0) and MACs are zeros, which the DCC would have added.
"""
from __future__ import annotations

from datetime import datetime

from duis import respond
from duis.gbcs import (
    FirmwareDistributionReceipt,
    FirmwareTransferAlert,
    FutureDatedActivationAlert,
    PpmidActivationAlert,
    encode_activation_response,
    encode_fdra,
    encode_firmware_version_response,
    encode_future_dated_alert,
    encode_ppmid_activation_alert,
    encode_transfer_alert,
)
from duis.models import DeviceAlert
from duis.requestid import RequestId

READ_USE_CASES = {"ESME": "ECS52", "CHF": "ECS52", "GSME": "GCS38", "GPF": "GCS38",
                  "PPMID": "CS08", "HCALCS": "CS08"}
GBZ_TYPES = frozenset({"GSME", "GPF"})
RELAYED = frozenset({"CS08"})  # the DCC sends the command and receives the answer


def hex_version(version: str) -> str:
    """A DUIS FirmwareVersion as the hex of its GBCS octets (hex text is taken as octets)."""
    try:
        raw = bytes.fromhex(version) if len(version) % 2 == 0 else version.encode()
    except ValueError:
        raw = version.encode()
    return raw.hex().upper()


def version_answer(device_type: str, device: str, request_id: RequestId, version: str,
                   dcc_eui: str) -> bytes:
    """A device's 11.2 answer: its running firmware version (hex)."""
    use_case = READ_USE_CASES.get(device_type, "ECS52")
    if use_case in RELAYED:
        return encode_firmware_version_response(
            use_case, request_id.counter, device, dcc_eui, version,
            relayed_for=(request_id.originator, request_id.counter))
    return encode_firmware_version_response(use_case, request_id.counter, device,
                                            request_id.originator, version)


def activation_answer(device: str, request_id: RequestId, at: datetime, result: int | None,
                      version: str | None) -> bytes:
    """A device's CS06 answer: result and running version, or None (accepted for later)."""
    return encode_activation_response(request_id.counter, device, request_id.originator, at,
                                      result, version if result is not None else None)


def distribution_receipt(code: int, device_type: str, device: str, user: str, counter: int,
                         at: datetime, computed_hash: bytes) -> DeviceAlert:
    """FDRA 0x8F72 (image verified) or 0x8F1C (failed) with the hash the device computed."""
    receipt = FirmwareDistributionReceipt(code, at, computed_hash)
    payload = encode_fdra(counter, device, user, receipt, gbz_format=device_type in GBZ_TYPES)
    return respond.alert_message(code, payload)


def transfer_alert(code: int, hub: str, device: str, dcc_eui: str, counter: int,
                   at: datetime, version: str) -> DeviceAlert:
    """CCS08 0x8F8A (the hub passed the image to a PPMID/HCALCS) or 0x8F89 (it failed)."""
    moved = FirmwareTransferAlert(code, at, device, hex_version(version),
                                  0 if code == 0x8F8A else 1)
    return respond.alert_message(code, encode_transfer_alert(counter, hub, dcc_eui, moved))


def future_dated_alert(code: int, device: str, user: str, counter: int, executed_at: datetime,
                       command_counter: int, result: int, version: str) -> DeviceAlert:
    """0x8F66 (the future-dated activation ran) or 0x8F67 (it failed, with the result)."""
    done = FutureDatedActivationAlert(code, executed_at, command_counter, result, version)
    return respond.alert_message(code, encode_future_dated_alert(counter, device, user, done))


def ppmid_activation_alert(device: str, dcc_eui: str, counter: int, at: datetime,
                           version: str) -> DeviceAlert:
    """CS09 0x8F8B: a PPMID reports the firmware it now runs."""
    ran = PpmidActivationAlert(0x8F8B, at, version, 0)
    return respond.alert_message(0x8F8B, encode_ppmid_activation_alert(counter, device,
                                                                       dcc_eui, ran))
