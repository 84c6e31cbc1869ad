"""The ASN.1 use cases: CS06 (activate), CS08 (PPMID/HCALCS version), 8F66/8F67, CCS08, CS09.

Layouts (DER, as the RTDS vectors carry them):
- CS06 command: SEQUENCE { OCTET STRING(32) image hash, INTEGER originator counter,
  [GeneralizedTime execution time; 99991231235959Z cancels] }
- CS06 response: SEQUENCE { INTEGER result, OCTET STRING version } (immediate), or NULL
  (future-dated or cancellation accepted)
- CS08 command: NULL; response: SEQUENCE { OCTET STRING version, INTEGER result }
- 0x00CA alert: SEQUENCE { INTEGER alert code, GeneralizedTime execution time, INTEGER
  originator counter, SEQUENCE { INTEGER result, OCTET STRING version } }
- CCS08 alert: SEQUENCE { INTEGER alert code, GeneralizedTime, OCTET STRING(8) device,
  OCTET STRING version, INTEGER status }
- CS09 alert: SEQUENCE { INTEGER alert code, GeneralizedTime, OCTET STRING version, INTEGER
  result }
"""

from __future__ import annotations

from datetime import datetime

from duis.errors import GbcsPayloadError
from duis.gbcs.content import (
    ActivationCommand,
    ActivationResponse,
    FirmwareTransferAlert,
    FirmwareVersionResponse,
    FutureDatedActivationAlert,
    PpmidActivationAlert,
    ReadFirmwareVersionCommand,
    version_hex,
)
from duis.gbcs.wire import (
    Asn1,
    decode_der,
    der_integer,
    der_null,
    der_octets,
    der_sequence,
    der_time,
)
from duis.requestid import eui_bytes, eui_from_bytes

HASH_LENGTH = 32


def _fields(value: Asn1, what: str, *kinds: type) -> tuple[Asn1, ...]:
    """The SEQUENCE's items, checked against the expected Python types."""
    if not isinstance(value, tuple) or len(value) != len(kinds):
        raise GbcsPayloadError(f"{what}: expected a SEQUENCE of {len(kinds)} items")
    for i, (item, kind) in enumerate(zip(value, kinds)):
        if not isinstance(item, kind):
            raise GbcsPayloadError(f"{what}: item {i + 1} is not {kind.__name__}")
    return value


def decode_activation_command(content: bytes) -> ActivationCommand:
    """CS06 pre-command or command content."""
    value = decode_der(content)
    if not isinstance(value, tuple) or len(value) not in (2, 3):
        raise GbcsPayloadError("CS06 command: expected SEQUENCE {hash, counter, [time]}")
    kinds = (bytes, int, datetime)[: len(value)]
    image_hash, counter, *when = _fields(value, "CS06 command", *kinds)
    assert isinstance(image_hash, bytes) and isinstance(counter, int)
    if len(image_hash) != HASH_LENGTH:
        raise GbcsPayloadError(f"CS06 image hash must be 32 bytes, got {len(image_hash)}")
    at = when[0] if when else None
    assert at is None or isinstance(at, datetime)
    return ActivationCommand(image_hash, counter, at)


def encode_activation_command(command: ActivationCommand) -> bytes:
    """CS06 pre-command content."""
    if len(command.image_hash) != HASH_LENGTH:
        raise GbcsPayloadError(f"CS06 image hash must be 32 bytes, got {len(command.image_hash)}")
    at = (der_time(command.execution_time),) if command.execution_time else ()
    return der_sequence(der_octets(command.image_hash), der_integer(command.originator_counter), *at)


def decode_activation_response(content: bytes) -> ActivationResponse:
    """CS06 response content."""
    value = decode_der(content)
    if value is None:
        return ActivationResponse(None)
    result, version = _fields(value, "CS06 response", int, bytes)
    assert isinstance(result, int) and isinstance(version, bytes)
    return ActivationResponse(result, version_hex(version))


def encode_activation_response(response: ActivationResponse) -> bytes:
    """CS06 response content."""
    if response.result is None:
        return der_null()
    version = bytes.fromhex(response.firmware_version or "00000000")
    return der_sequence(der_integer(response.result), der_octets(version))


def decode_cs08_command(content: bytes) -> ReadFirmwareVersionCommand:
    """CS08 command content (ASN.1 NULL)."""
    if decode_der(content) is not None:
        raise GbcsPayloadError("CS08 command: expected ASN.1 NULL")
    return ReadFirmwareVersionCommand("CS08")


def decode_cs08_response(content: bytes) -> FirmwareVersionResponse:
    """CS08 response content."""
    version, result = _fields(decode_der(content), "CS08 response", bytes, int)
    assert isinstance(version, bytes) and isinstance(result, int)
    return FirmwareVersionResponse("CS08", version_hex(version) if result == 0 else None, result)


def encode_cs08_response(response: FirmwareVersionResponse) -> bytes:
    """CS08 response content (an error carries version 00000000)."""
    version = bytes.fromhex(response.firmware_version or "00000000")
    return der_sequence(der_octets(version), der_integer(response.result))


def decode_future_dated_alert(content: bytes) -> FutureDatedActivationAlert:
    """0x00CA content (0x8F66 / 0x8F67)."""
    value = decode_der(content)
    code, at, counter, outcome = _fields(value, "0x00CA alert", int, datetime, int, tuple)
    result, version = _fields(outcome, "0x00CA outcome", int, bytes)
    assert isinstance(code, int) and isinstance(at, datetime) and isinstance(counter, int)
    assert isinstance(result, int) and isinstance(version, bytes)
    return FutureDatedActivationAlert(code, at, counter, result, version_hex(version))


def encode_future_dated_alert(alert: FutureDatedActivationAlert) -> bytes:
    """0x00CA content."""
    return der_sequence(
        der_integer(alert.alert_code),
        der_time(alert.execution_time),
        der_integer(alert.originator_counter),
        der_sequence(der_integer(alert.result), der_octets(bytes.fromhex(alert.firmware_version))),
    )


def decode_transfer_alert(content: bytes) -> FirmwareTransferAlert:
    """CCS08 0x0128 content (0x8F8A / 0x8F89)."""
    value = decode_der(content)
    code, at, device, version, status = _fields(value, "CCS08 alert", int, datetime, bytes, bytes, int)
    assert isinstance(code, int) and isinstance(at, datetime) and isinstance(status, int)
    assert isinstance(device, bytes) and isinstance(version, bytes)
    return FirmwareTransferAlert(code, at, eui_from_bytes(device), version_hex(version), status)


def encode_transfer_alert(alert: FirmwareTransferAlert) -> bytes:
    """CCS08 0x0128 content."""
    return der_sequence(
        der_integer(alert.alert_code),
        der_time(alert.time),
        der_octets(eui_bytes(alert.target_device)),
        der_octets(bytes.fromhex(alert.firmware_version)),
        der_integer(alert.status),
    )


def decode_ppmid_activation_alert(content: bytes) -> PpmidActivationAlert:
    """CS09 0x012B content (0x8F8B)."""
    code, at, version, result = _fields(decode_der(content), "CS09 alert", int, datetime, bytes, int)
    assert isinstance(code, int) and isinstance(at, datetime) and isinstance(result, int)
    assert isinstance(version, bytes)
    return PpmidActivationAlert(code, at, version_hex(version), result)


def encode_ppmid_activation_alert(alert: PpmidActivationAlert) -> bytes:
    """CS09 0x012B content."""
    return der_sequence(
        der_integer(alert.alert_code),
        der_time(alert.time),
        der_octets(bytes.fromhex(alert.firmware_version)),
        der_integer(alert.result),
    )
