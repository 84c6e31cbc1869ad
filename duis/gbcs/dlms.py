"""The DLMS use cases: ECS52 (ESME/CH firmware version) and FDRA DLMS (0x00CE, alert 0x8F72).

- ECS52 command: ACCESS-Request `D9 invoke-id(4) 00 | n (01 class(2) instance(6) attribute(1))
  | n data (00 null)`.
- ECS52 response: ACCESS-Response `DA invoke-id(4) 00 00 | n data | n (01 result)`; the
  first data is an octet-string version when the result is 0 (success).
- FDRA DLMS: DATA-NOTIFICATION `0F invoke-id(4) 00 | structure(3) { long-unsigned alert code,
  octet-string(12) COSEM date-time, octet-string(32) calculated Manufacturer Image hash }`.
"""

from __future__ import annotations

from duis.errors import GbcsPayloadError
from duis.gbcs.content import (
    FirmwareDistributionReceipt,
    FirmwareVersionResponse,
    ReadFirmwareVersionCommand,
    version_hex,
)
from duis.gbcs.wire import Reader, counted, decode_cosem_datetime, encode_cosem_datetime

ACCESS_REQUEST, ACCESS_RESPONSE, DATA_NOTIFICATION = 0xD9, 0xDA, 0x0F
OCTETS, LONG_UNSIGNED, STRUCTURE, NULL = 0x09, 0x12, 0x02, 0x00
GET, INVOKE_PRIORITY = 0x01, 0x20000000  # long-invoke-id-and-priority: high priority bits
FIRMWARE_ATTRIBUTE = (1, bytes.fromhex("0000000201FF"), 2)  # ECS52: class 1, OBIS, attribute 2
Data = bytes | int | tuple["Data", ...] | None


def _data(r: Reader, depth: int = 0) -> Data:
    if depth > 4:
        raise GbcsPayloadError("DLMS data nested too deeply")
    tag = r.byte()
    if tag == OCTETS:
        return r.counted()
    if tag == LONG_UNSIGNED:
        return r.uint(2)
    if tag == STRUCTURE:
        return tuple(_data(r, depth + 1) for _ in range(r.length()))
    if tag == NULL:
        return None
    raise GbcsPayloadError(f"unsupported DLMS data tag 0x{tag:02X} at byte {r.pos - 1}")


def _apdu(content: bytes, tag: int, what: str) -> Reader:
    r = Reader(content)
    if r.byte() != tag:
        raise GbcsPayloadError(f"{what}: expected DLMS APDU 0x{tag:02X}")
    r.take(4)  # long-invoke-id-and-priority
    if r.counted():
        raise GbcsPayloadError(f"{what}: a DLMS date-time here is unsupported")
    return r


def invoke_id(counter: int) -> bytes:
    """The long-invoke-id-and-priority the RTDS derives from the request's counter."""
    return (INVOKE_PRIORITY | (counter & 0x00FFFFFF)).to_bytes(4, "big")


def decode_ecs52_command(content: bytes) -> ReadFirmwareVersionCommand:
    """ECS52 command content (a DLMS GET of the firmware identifier)."""
    r = _apdu(content, ACCESS_REQUEST, "ECS52 command")
    specs = []
    for _ in range(r.length()):
        if r.byte() != GET:
            raise GbcsPayloadError("ECS52 command: only GET access is expected")
        specs.append(f"{r.uint(2)}/{r.take(6).hex().upper()}/{r.byte()}")
    for _ in range(r.length()):
        _data(r)
    r.end("the ECS52 command")
    if len(specs) != 1:
        raise GbcsPayloadError(f"ECS52 command: expected one GET, got {len(specs)}")
    return ReadFirmwareVersionCommand("ECS52", specs[0])


def encode_ecs52_command(counter: int) -> bytes:
    """ECS52 command content."""
    class_id, instance, attribute = FIRMWARE_ATTRIBUTE
    spec = bytes([GET]) + class_id.to_bytes(2, "big") + instance + bytes([attribute])
    return bytes([ACCESS_REQUEST]) + invoke_id(counter) + b"\x00\x01" + spec + b"\x01\x00"


def decode_ecs52_response(content: bytes) -> FirmwareVersionResponse:
    """ECS52 response content."""
    r = _apdu(content, ACCESS_RESPONSE, "ECS52 response")
    if r.byte() != 0:
        raise GbcsPayloadError("ECS52 response: an access-request-specification is unsupported")
    items = [_data(r) for _ in range(r.length())]
    results = [r.take(2)[1] for _ in range(r.length())]
    r.end("the ECS52 response")
    if len(items) != 1 or len(results) != 1:
        raise GbcsPayloadError("ECS52 response: expected one data item and one result")
    version = items[0]
    if results[0] == 0 and not isinstance(version, bytes):
        raise GbcsPayloadError("ECS52 response: success without an octet-string version")
    return FirmwareVersionResponse(
        "ECS52", version_hex(version) if isinstance(version, bytes) and not results[0] else None,
        results[0],
    )


def encode_ecs52_response(response: FirmwareVersionResponse, counter: int) -> bytes:
    """ECS52 response content (success: the version; else null-data and the result)."""
    data = (bytes([OCTETS]) + counted(bytes.fromhex(response.firmware_version))
            if response.result == 0 and response.firmware_version else bytes([NULL]))
    return (bytes([ACCESS_RESPONSE]) + invoke_id(counter) + b"\x00\x00\x01" + data
            + bytes([1, GET, response.result]))


def decode_fdra_dlms(content: bytes) -> FirmwareDistributionReceipt:
    """FDRA DLMS content (0x00CE)."""
    r = _apdu(content, DATA_NOTIFICATION, "FDRA DLMS")
    body = _data(r)
    r.end("the FDRA DLMS notification")
    if not (isinstance(body, tuple) and len(body) == 3 and isinstance(body[0], int)
            and isinstance(body[1], bytes) and isinstance(body[2], bytes)):
        raise GbcsPayloadError("FDRA DLMS: expected structure {alert code, date-time, hash}")
    if len(body[2]) != 32:
        raise GbcsPayloadError(f"FDRA DLMS: hash must be 32 bytes, got {len(body[2])}")
    return FirmwareDistributionReceipt(body[0], decode_cosem_datetime(body[1]), body[2])


def encode_fdra_dlms(alert: FirmwareDistributionReceipt, counter: int) -> bytes:
    """FDRA DLMS content (0x00CE)."""
    return (
        bytes([DATA_NOTIFICATION]) + invoke_id(counter) + b"\x00"
        + bytes([STRUCTURE, 3, LONG_UNSIGNED]) + alert.alert_code.to_bytes(2, "big")
        + bytes([OCTETS]) + counted(encode_cosem_datetime(alert.time))
        + bytes([OCTETS]) + counted(alert.image_hash)
    )

