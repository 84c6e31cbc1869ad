"""Byte-level pieces every GBCS codec shares: a bounds-checked reader, BER lengths, times, DER.

Nothing here knows a use case; `Reader` raises `GbcsPayloadError` whenever data runs out, so
no decoder ever reads past the end of untrusted input.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from duis.errors import GbcsPayloadError

ZIGBEE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CANCEL_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # GBCS "cancel" execution time
Asn1 = bytes | int | datetime | tuple["Asn1", ...] | None


class Reader:
    """Cursor over bytes that raises GbcsPayloadError when data runs out."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.pos = raw, 0

    def take(self, n: int) -> bytes:
        """The next n bytes."""
        if n < 0 or self.pos + n > len(self.raw):
            raise GbcsPayloadError(f"GBCS payload truncated at byte {self.pos} (wanted {n})")
        out = self.raw[self.pos : self.pos + n]
        self.pos += n
        return out

    def byte(self) -> int:
        """The next byte."""
        return self.take(1)[0]

    def uint(self, n: int) -> int:
        """The next n bytes as a big-endian unsigned integer."""
        return int.from_bytes(self.take(n), "big")

    def length(self) -> int:
        """A BER length (short or long form)."""
        first = self.byte()
        if first < 0x80:
            return first
        if first == 0x80 or first & 0x7F > 4:
            raise GbcsPayloadError(f"unsupported length form 0x{first:02X} at byte {self.pos - 1}")
        return self.uint(first & 0x7F)

    def counted(self) -> bytes:
        """A length-prefixed field."""
        return self.take(self.length())

    def rest(self) -> bytes:
        """Everything not yet read."""
        return self.take(len(self.raw) - self.pos)

    @property
    def at_end(self) -> bool:
        """True when every byte was read."""
        return self.pos == len(self.raw)

    def end(self, what: str) -> None:
        """Raise unless every byte was read."""
        if not self.at_end:
            raise GbcsPayloadError(f"{len(self.raw) - self.pos} unexpected bytes after {what}")


def length(n: int) -> bytes:
    """A BER length."""
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def counted(raw: bytes) -> bytes:
    """A length-prefixed field."""
    return length(len(raw)) + raw


def encode_cosem_datetime(moment: datetime) -> bytes:
    """A UTC COSEM date-time as the RTDS writes it (weekday 0xFF, deviation 0x8000, 0xFF)."""
    t = moment.astimezone(UTC)
    return struct.pack(
        ">HBBBBBBBHB", t.year, t.month, t.day, 0xFF, t.hour, t.minute, t.second,
        t.microsecond // 10000, 0x8000, 0xFF,
    )


def decode_cosem_datetime(raw: bytes) -> datetime:
    """A 12-byte COSEM date-time, read as UTC."""
    if len(raw) != 12:
        raise GbcsPayloadError(f"COSEM date-time needs 12 bytes, got {len(raw)}")
    year, month, day, _dow, hour, minute, second, hundredths, _dev, _st = struct.unpack(
        ">HBBBBBBBHB", raw
    )
    try:
        return datetime(year, month, day, hour, minute, second, hundredths * 10000, UTC)
    except ValueError as err:
        raise GbcsPayloadError(f"invalid COSEM date-time: {err}") from err


def encode_zigbee_time(moment: datetime) -> bytes:
    """A ZigBee UTCTime: whole seconds since 2000-01-01T00:00:00Z, 4 bytes big-endian."""
    seconds = int((moment.astimezone(UTC) - ZIGBEE_EPOCH).total_seconds())
    if not 0 <= seconds < 2**32:
        raise GbcsPayloadError(f"{moment.isoformat()} is outside the ZigBee UTCTime range")
    return seconds.to_bytes(4, "big")


def decode_zigbee_time(raw: bytes) -> datetime:
    """A 4-byte ZigBee UTCTime."""
    if len(raw) != 4:
        raise GbcsPayloadError(f"ZigBee UTCTime needs 4 bytes, got {len(raw)}")
    return ZIGBEE_EPOCH + timedelta(seconds=int.from_bytes(raw, "big"))


# --- ASN.1 DER, the subset GBCS uses (SEQUENCE, INTEGER, OCTET STRING, NULL, GeneralizedTime)
DER_INTEGER, DER_OCTETS, DER_NULL, DER_TIME, DER_SEQUENCE = 0x02, 0x04, 0x05, 0x18, 0x30


def der_integer(value: int) -> bytes:
    """A DER INTEGER (minimal two's complement)."""
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return bytes([DER_INTEGER]) + counted(value.to_bytes(size, "big", signed=True))


def der_octets(value: bytes) -> bytes:
    """A DER OCTET STRING."""
    return bytes([DER_OCTETS]) + counted(value)


def der_null() -> bytes:
    """A DER NULL."""
    return bytes([DER_NULL, 0])


def der_time(moment: datetime) -> bytes:
    """A DER GeneralizedTime `YYYYMMDDHHMMSSZ` (UTC, whole seconds)."""
    text = moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode()
    return bytes([DER_TIME]) + counted(text.rjust(15, b"0"))


def der_sequence(*items: bytes) -> bytes:
    """A DER SEQUENCE of already-encoded items."""
    return bytes([DER_SEQUENCE]) + counted(b"".join(items))


def _der_value(tag: int, raw: bytes, depth: int) -> Asn1:
    if tag == DER_SEQUENCE:
        return decode_der_items(raw, depth + 1)
    if tag == DER_INTEGER:
        if not raw:
            raise GbcsPayloadError("empty DER INTEGER")
        return int.from_bytes(raw, "big", signed=True)
    if tag == DER_OCTETS:
        return raw
    if tag == DER_NULL:
        if raw:
            raise GbcsPayloadError("DER NULL with content")
        return None
    if tag == DER_TIME:
        try:
            return datetime.strptime(raw.decode("ascii"), "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
        except (UnicodeDecodeError, ValueError) as err:
            raise GbcsPayloadError(f"invalid GeneralizedTime {raw[:20]!r}") from err
    raise GbcsPayloadError(f"unsupported ASN.1 tag 0x{tag:02X}")


def decode_der_items(raw: bytes, depth: int = 0) -> tuple[Asn1, ...]:
    """Every DER value in raw, in order (SEQUENCE as tuple, NULL as None)."""
    if depth > 6:
        raise GbcsPayloadError("ASN.1 nested too deeply")
    r, items = Reader(raw), []
    while not r.at_end:
        tag = r.byte()
        items.append(_der_value(tag, r.counted(), depth))
    return tuple(items)


def decode_der(raw: bytes) -> Asn1:
    """Exactly one DER value."""
    items = decode_der_items(raw)
    if len(items) != 1:
        raise GbcsPayloadError(f"expected one ASN.1 value, found {len(items)}")
    return items[0]
