"""The GBZ (ZigBee) use cases: GCS38 (GSME firmware version) and FDRA GBZ (0x00CF).

- GCS38 command / response: `01 09 | components(1) | per component: control(1) cluster(2)
  length(2) ZCL frame`, the ZCL frame being Read Attributes (`00 seq 00 attr-id(LE)...`)
  or its response (`08 seq 01 | attr-id(LE) status [type value]`), type 0x41 an octet string.
- FDRA GBZ alert: `01 09 | components(1) | alert code(2) | UTC time(4) | 09 20 hash(32)`.
"""

from __future__ import annotations

from duis.errors import GbcsPayloadError
from duis.gbcs.content import (
    FirmwareDistributionReceipt,
    FirmwareVersionResponse,
    ReadFirmwareVersionCommand,
    version_hex,
)
from duis.gbcs.wire import Reader, counted, decode_zigbee_time, encode_zigbee_time

PROFILE = 0x0109
LAST_COMPONENT = 0x01
FROM_DATE_TIME = 0x10
METERING, CURRENT_METER_ID = 0x0702, 0x0206  # where GCS38 reads the firmware version
READ_ATTRIBUTES, READ_ATTRIBUTES_RESPONSE = 0x00, 0x01
CLIENT_TO_SERVER, SERVER_TO_CLIENT = 0x00, 0x08
OCTET_STRING, DLMS_OCTETS = 0x41, 0x09


def _component(r: Reader, what: str) -> tuple[int, int, Reader]:
    """One GBZ component: its cluster, ZCL command id and a reader over the ZCL payload."""
    control, cluster = r.byte(), r.uint(2)
    frame = Reader(r.take(r.uint(2)))
    if control & 0x02:
        raise GbcsPayloadError(f"{what}: encrypted GBZ components are unsupported")
    if control & FROM_DATE_TIME:
        frame.take(4)
    frame.take(2)  # ZCL frame control, sequence number
    return cluster, frame.byte(), frame


def _one_component(content: bytes, what: str) -> tuple[int, int, Reader]:
    r = Reader(content)
    if r.uint(2) != PROFILE:
        raise GbcsPayloadError(f"{what}: GBZ profile must be 0x0109")
    if r.byte() != 1:
        raise GbcsPayloadError(f"{what}: expected one GBZ component")
    found = _component(r, what)
    r.end(f"the {what}")
    return found


def decode_gcs38_command(content: bytes) -> ReadFirmwareVersionCommand:
    """GCS38 command content (ZCL Read Attributes)."""
    cluster, command, frame = _one_component(content, "GCS38 command")
    if command != READ_ATTRIBUTES:
        raise GbcsPayloadError("GCS38 command: expected ZCL Read Attributes")
    attribute = int.from_bytes(frame.take(2), "little")
    frame.end("the GCS38 command")
    return ReadFirmwareVersionCommand("GCS38", f"{cluster:04X}/{attribute:04X}")


def _component_bytes(cluster: int, zcl: bytes) -> bytes:
    return (PROFILE.to_bytes(2, "big") + b"\x01" + bytes([LAST_COMPONENT])
            + cluster.to_bytes(2, "big") + len(zcl).to_bytes(2, "big") + zcl)


def encode_gcs38_command() -> bytes:
    """GCS38 command content."""
    zcl = bytes([CLIENT_TO_SERVER, 0, READ_ATTRIBUTES]) + CURRENT_METER_ID.to_bytes(2, "little")
    return _component_bytes(METERING, zcl)


def decode_gcs38_response(content: bytes) -> FirmwareVersionResponse:
    """GCS38 response content (ZCL Read Attributes Response)."""
    _cluster, command, frame = _one_component(content, "GCS38 response")
    if command != READ_ATTRIBUTES_RESPONSE:
        raise GbcsPayloadError("GCS38 response: expected ZCL Read Attributes Response")
    frame.take(2)  # attribute id
    status = frame.byte()
    version = None
    if status == 0:
        if frame.byte() != OCTET_STRING:
            raise GbcsPayloadError("GCS38 response: the version must be a ZCL octet string")
        version = version_hex(frame.take(frame.byte()))
    frame.end("the GCS38 response")
    return FirmwareVersionResponse("GCS38", version, status)


def encode_gcs38_response(response: FirmwareVersionResponse) -> bytes:
    """GCS38 response content (a failure carries its ZCL status, e.g. 0xC0)."""
    record = CURRENT_METER_ID.to_bytes(2, "little") + bytes([response.result])
    if response.result == 0:
        version = bytes.fromhex(response.firmware_version or "")
        record += bytes([OCTET_STRING, len(version)]) + version
    zcl = bytes([SERVER_TO_CLIENT, 0, READ_ATTRIBUTES_RESPONSE]) + record
    return _component_bytes(METERING, zcl)


def decode_fdra_gbz(content: bytes) -> FirmwareDistributionReceipt:
    """FDRA GBZ content (0x00CF)."""
    r = Reader(content)
    if r.uint(2) != PROFILE:
        raise GbcsPayloadError("FDRA GBZ: GBZ profile must be 0x0109")
    r.byte()  # number of GBZ components
    code, at = r.uint(2), decode_zigbee_time(r.take(4))
    if r.byte() != DLMS_OCTETS:
        raise GbcsPayloadError("FDRA GBZ: the hash must be an octet string")
    digest = r.counted()
    r.end("the FDRA GBZ alert")
    if len(digest) != 32:
        raise GbcsPayloadError(f"FDRA GBZ: hash must be 32 bytes, got {len(digest)}")
    return FirmwareDistributionReceipt(code, at, digest)


def encode_fdra_gbz(alert: FirmwareDistributionReceipt) -> bytes:
    """FDRA GBZ content (0x00CF)."""
    return (PROFILE.to_bytes(2, "big") + b"\x01" + alert.alert_code.to_bytes(2, "big")
            + encode_zigbee_time(alert.time) + bytes([DLMS_OCTETS]) + counted(alert.image_hash))
