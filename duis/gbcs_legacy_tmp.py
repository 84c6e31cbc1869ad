"""A small GBCS codec: the envelopes and DLMS pieces the firmware flow needs.

Decodes the DCC's 11.2 response sample byte for byte (general-ciphering `DD` around a
general-signing `DF` carrying a DLMS ACCESS-Response `DA`). Encodes the same shapes for the
simulator: 11.2/11.3 responses, critical pre-commands for 11.3 and device alerts (DLMS
DATA-NOTIFICATION `0F`). GBZ (gas) encodings and MAC checks are out of scope.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import GbcsPayloadError
from duis.keys import raw_ecdsa_sign, raw_ecdsa_verify
from duis.requestid import eui_bytes, eui_from_bytes

CRA_COMMAND, CRA_RESPONSE, CRA_ALERT = 1, 2, 3
TAG_OCTETS, TAG_ENUM, TAG_LONG_UNSIGNED, TAG_STRUCTURE = 0x09, 0x16, 0x12, 0x02
SIGNATURE_LENGTH = 64
Data = bytes | int | tuple["Data", ...] | None


@dataclass(frozen=True, slots=True)
class GbcsMessage:
    """A decoded general-signing message (command, response or alert)."""

    cra_flag: int
    originator_counter: int
    originator: str
    recipient: str
    other_information: bytes
    apdu_tag: int
    data: tuple[Data, ...]
    timestamp: datetime | None
    signature: bytes


class _Reader:
    """Cursor over bytes that raises GbcsPayloadError when data runs out."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.pos = raw, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.raw):
            raise GbcsPayloadError(f"GBCS payload truncated at byte {self.pos} (wanted {n})")
        out = self.raw[self.pos : self.pos + n]
        self.pos += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

    def length(self) -> int:
        first = self.byte()
        if first < 0x80:
            return first
        return int.from_bytes(self.take(first & 0x7F), "big")

    def counted(self) -> bytes:
        return self.take(self.length())


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def encode_cosem_datetime(moment: datetime) -> bytes:
    """Encode a UTC COSEM date-time (12 bytes)."""
    t = moment.astimezone(UTC)
    return struct.pack(
        ">HBBBBBBBhB",
        t.year,
        t.month,
        t.day,
        t.isoweekday(),
        t.hour,
        t.minute,
        t.second,
        t.microsecond // 10000,
        0,
        0,
    )


def decode_cosem_datetime(raw: bytes) -> datetime:
    """Decode a 12-byte COSEM date-time as UTC."""
    if len(raw) != 12:
        raise GbcsPayloadError(f"COSEM date-time needs 12 bytes, got {len(raw)}")
    year, month, day, _dow, hour, minute, second, hundredths, _dev, _st = struct.unpack(
        ">HBBBBBBBhB", raw
    )
    try:
        return datetime(year, month, day, hour, minute, second, hundredths * 10000, UTC)
    except ValueError as err:
        raise GbcsPayloadError(f"invalid COSEM date-time: {err}") from err


def _decode_data(r: _Reader, depth: int = 0) -> Data:
    if depth > 8:
        raise GbcsPayloadError("DLMS data nested too deeply")
    tag = r.byte()
    if tag == TAG_OCTETS:
        return r.counted()
    if tag == TAG_ENUM or tag == 0x11:
        return r.byte()
    if tag == TAG_LONG_UNSIGNED:
        return int.from_bytes(r.take(2), "big")
    if tag == 0x06:
        return int.from_bytes(r.take(4), "big")
    if tag in (TAG_STRUCTURE, 0x01):
        return tuple(_decode_data(r, depth + 1) for _ in range(r.length()))
    if tag == 0x00:
        return None
    raise GbcsPayloadError(f"unsupported DLMS data tag 0x{tag:02X} at byte {r.pos - 1}")


def _encode_data(value: Data) -> bytes:
    if isinstance(value, bytes):
        return bytes([TAG_OCTETS]) + _length(len(value)) + value
    if isinstance(value, tuple):
        return bytes([TAG_STRUCTURE]) + _length(len(value)) + b"".join(map(_encode_data, value))
    if value is None:
        return b"\x00"
    if 0 <= value <= 0xFF:
        return bytes([TAG_ENUM, value])
    return bytes([TAG_LONG_UNSIGNED]) + value.to_bytes(2, "big")


def _decode_apdu(content: bytes) -> tuple[int, tuple[Data, ...], datetime | None]:
    r = _Reader(content)
    tag = r.byte()
    r.take(4)  # long-invoke-id-and-priority
    stamp = r.counted()
    timestamp = decode_cosem_datetime(stamp) if stamp else None
    if tag == 0xDA:
        if r.byte() != 0:
            raise GbcsPayloadError("ACCESS-Response with a request specification is unsupported")
        items = tuple(_decode_data(r) for _ in range(r.length()))
        results = tuple(r.take(2)[1] for _ in range(r.length()))
        return tag, items + results, timestamp
    if tag == 0x0F:
        return tag, (_decode_data(r),), timestamp
    if tag == 0xD9:
        return tag, (r.take(len(content) - r.pos),), timestamp
    raise GbcsPayloadError(f"unsupported GBCS APDU tag 0x{tag:02X}")


def _unwrap_ciphering(raw: bytes) -> bytes:
    """Strip the general-ciphering envelope (authenticated only) if present."""
    if not raw or raw[0] != 0xDD:
        return raw
    r = _Reader(raw)
    r.byte()
    for _ in range(5):
        r.counted()
    if r.byte() != 0:
        raise GbcsPayloadError("general-ciphering with key-info is unsupported")
    ciphered = r.counted()
    if len(ciphered) < 5 + 12 or ciphered[0] & 0x20:
        raise GbcsPayloadError("general-ciphering content is encrypted or too short")
    return ciphered[5:-12]


def decode_message(raw: bytes) -> GbcsMessage:
    """Decode a GBCS payload (optionally inside general-ciphering) into a GbcsMessage."""
    r = _Reader(_unwrap_ciphering(raw))
    if r.byte() != 0xDF:
        raise GbcsPayloadError("GBCS payload is not a general-signing (0xDF) message")
    tid = r.counted()
    if len(tid) != 9:
        raise GbcsPayloadError(f"transaction-id must be 9 bytes, got {len(tid)}")
    originator, recipient = eui_from_bytes(r.counted()), eui_from_bytes(r.counted())
    r.counted()  # date-time
    other = r.counted()
    tag, data, stamp = _decode_apdu(r.counted())
    sig = r.counted()
    return GbcsMessage(
        tid[0], int.from_bytes(tid[1:], "big"), originator, recipient, other, tag, data, stamp, sig
    )


def _signing_body(
    cra: int, counter: int, originator: str, recipient: str, other: bytes, content: bytes
) -> bytes:
    return (
        b"\xdf\x09"
        + bytes([cra])
        + counter.to_bytes(8, "big")
        + b"\x08"
        + eui_bytes(originator)
        + b"\x08"
        + eui_bytes(recipient)
        + b"\x00"
        + _length(len(other))
        + other
        + _length(len(content))
        + content
    )


def _wrap_ciphering(inner: bytes) -> bytes:
    ciphered = b"\x11\x00\x00\x00\x00" + inner + bytes(12)
    return b"\xdd" + bytes(6) + _length(len(ciphered)) + ciphered


def encode_response(
    counter: int,
    device: str,
    recipient: str,
    message_code: int,
    request_originator: str,
    request_counter: int,
    items: tuple[Data, ...],
    invoke_id: int = 0,
) -> bytes:
    """Encode a device response (ACCESS-Response, all results success) as the DCC relays it."""
    other = message_code.to_bytes(2, "big") + eui_bytes(request_originator)
    other += request_counter.to_bytes(8, "big")
    body = b"".join(_encode_data(i) for i in items)
    content = (
        b"\xda"
        + invoke_id.to_bytes(4, "big")
        + b"\x00\x00"
        + _length(len(items))
        + body
        + _length(len(items))
        + b"\x01\x00" * len(items)
    )
    return _wrap_ciphering(
        _signing_body(CRA_RESPONSE, counter, device, recipient, other, content) + b"\x00"
    )


def encode_alert(
    counter: int,
    device: str,
    recipient: str,
    alert_code: int,
    moment: datetime,
    firmware_hash: bytes | None,
) -> bytes:
    """Encode a device alert (DATA-NOTIFICATION with code, time and optional hash)."""
    fields: tuple[Data, ...] = (alert_code.to_bytes(2, "big"),)
    if firmware_hash is not None:
        fields += (firmware_hash,)
    content = b"\x0f" + bytes(4) + b"\x0c" + encode_cosem_datetime(moment) + _encode_data(fields)
    other = alert_code.to_bytes(2, "big")
    return _signing_body(CRA_ALERT, counter, device, recipient, other, content) + b"\x00"


def encode_pre_command(
    counter: int,
    originator: str,
    device: str,
    message_code: int,
    firmware_hash: bytes,
    execute_at: datetime | None,
) -> bytes:
    """Encode an unsigned 11.3 Activate Firmware pre-command (ACCESS-Request, image_activate)."""
    stamp = b"\x0c" + encode_cosem_datetime(execute_at) if execute_at else b"\x00"
    spec = b"\x01\x03\x00\x12\x00\x00\x2c\x00\x00\xff\x04"
    content = b"\xd9" + bytes(4) + stamp + spec + b"\x01" + _encode_data(firmware_hash)
    other = message_code.to_bytes(2, "big")
    return _signing_body(CRA_COMMAND, counter, originator, device, other, content) + b"\x00"


def sign_pre_command(payload: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign a DCC pre-command with the Supplier's digital-signing key (CommandVariant 5 input)."""
    if not payload.startswith(b"\xdf") or not payload.endswith(b"\x00"):
        raise GbcsPayloadError("pre-command must be an unsigned general-signing message")
    decode_message(payload)
    body = payload[:-1]
    return body + bytes([SIGNATURE_LENGTH]) + raw_ecdsa_sign(key, body)


def verify_signed_pre_command(payload: bytes, key: ec.EllipticCurvePublicKey) -> GbcsMessage:
    """Check the Supplier signature on a signed pre-command and return the decoded message."""
    message = decode_message(payload)
    body = payload[: -(SIGNATURE_LENGTH + 1)]
    if not raw_ecdsa_verify(key, message.signature, body):
        raise GbcsPayloadError("pre-command signature does not verify")
    return message


def firmware_version_of(message: GbcsMessage) -> str:
    """The running firmware version in an 11.2 response, as upper-case hex."""
    if (
        message.cra_flag != CRA_RESPONSE
        or not message.data
        or not isinstance(message.data[0], bytes)
    ):
        raise GbcsPayloadError("11.2 payload carries no firmware version octet-string")
    return message.data[0].hex().upper()


def first_int_of(message: GbcsMessage) -> int:
    """The first integer data item of a response (e.g. the 11.3 activation result)."""
    if not message.data or not isinstance(message.data[0], int):
        raise GbcsPayloadError("GBCS payload carries no integer result")
    return message.data[0]
