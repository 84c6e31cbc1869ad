"""The GBCS envelopes: general-signing (0xDF) and the DCC's MAC wrapper (general-ciphering 0xDD).

General-signing, as the RTDS has it:
`DF | 09 CRA-flag counter(8) | 08 originator | 08 recipient | date-time (0 or 12 bytes) |
other-information (message code(2) [+ original originator(8) + its counter(8) when the DCC
relays a User's request]) | content | signature`. The signature field is absent in a
pre-command, `00` when unsigned and `40` + r||s when signed; the signature covers everything
after the leading 0xDF up to the signature field. Messages sent by or to the DCC's access
control broker over the WAN are wrapped as `DD 00 00 00 00 00 00 <len> 11 <invocation
counter(4)> <general-signing> <MAC(12)>` (authenticated, not encrypted).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import GbcsPayloadError
from duis.gbcs.wire import Reader, counted, decode_cosem_datetime, encode_cosem_datetime
from duis.keys import raw_ecdsa_sign, raw_ecdsa_verify
from duis.requestid import eui_bytes, eui_from_bytes

CRA_COMMAND, CRA_RESPONSE, CRA_ALERT = 1, 2, 3
GENERAL_SIGNING, GENERAL_CIPHERING = 0xDF, 0xDD
SIGNATURE_LENGTH, MAC_LENGTH = 64, 12
AUTHENTICATED_ONLY = 0x11


@dataclass(frozen=True, slots=True)
class Frame:
    """One general-signing message, with its MAC wrapper facts when it had one."""

    cra_flag: int
    originator_counter: int
    originator: str
    recipient: str
    message_code: int
    content: bytes
    date_time: datetime | None = None
    relayed_for: tuple[str, int] | None = None  # the User and counter the DCC relays for
    signature: bytes | None = None  # None: no signature field (a pre-command)
    signed_part: bytes = b""  # the bytes the signature covers (the message without 0xDF)
    mac: bytes | None = None  # the 12-byte MAC when the message came MAC-wrapped
    invocation_counter: int = 0

    @property
    def signed(self) -> bool:
        """True when the message carries a 64-byte signature."""
        return bool(self.signature)


def _other_information(raw: bytes) -> tuple[int, tuple[str, int] | None]:
    if len(raw) == 2:
        return int.from_bytes(raw, "big"), None
    if len(raw) == 18:
        return int.from_bytes(raw[:2], "big"), (eui_from_bytes(raw[2:10]), int.from_bytes(raw[10:], "big"))
    raise GbcsPayloadError(f"other-information must be 2 or 18 bytes, got {len(raw)}")


def _signature(r: Reader) -> bytes | None:
    if r.at_end:
        return None
    signature = r.counted()
    if len(signature) not in (0, SIGNATURE_LENGTH):
        raise GbcsPayloadError(f"signature must be 0 or 64 bytes, got {len(signature)}")
    r.end("the signature")
    return signature


def decode_signing(raw: bytes) -> Frame:
    """Decode a general-signing (0xDF) message."""
    r = Reader(raw)
    if r.byte() != GENERAL_SIGNING:
        raise GbcsPayloadError("GBCS payload is not a general-signing (0xDF) message")
    tid = r.counted()
    if len(tid) != 9:
        raise GbcsPayloadError(f"transaction-id must be 9 bytes, got {len(tid)}")
    originator, recipient = eui_from_bytes(r.counted()), eui_from_bytes(r.counted())
    stamp = r.counted()
    code, relayed = _other_information(r.counted())
    content = r.counted()
    part_end = r.pos
    signature = _signature(r)
    return Frame(
        tid[0], int.from_bytes(tid[1:], "big"), originator, recipient, code, content,
        decode_cosem_datetime(stamp) if stamp else None, relayed, signature, raw[1:part_end],
    )


def unwrap_mac(raw: bytes) -> tuple[bytes, bytes, int]:
    """The general-signing message inside a MAC wrapper, its MAC and invocation counter."""
    r = Reader(raw)
    if r.byte() != GENERAL_CIPHERING:
        raise GbcsPayloadError("not a general-ciphering (0xDD) message")
    for _ in range(4):
        r.counted()  # transaction-id, originator, recipient, date-time: empty as the DCC sends
    r.counted()  # other-information
    if r.byte() != 0:
        raise GbcsPayloadError("general-ciphering with key-info is unsupported")
    ciphered = Reader(r.counted())
    r.end("the general-ciphering content")
    if ciphered.byte() != AUTHENTICATED_ONLY:
        raise GbcsPayloadError("general-ciphering content is encrypted or of unknown security")
    invocation = ciphered.uint(4)
    body = ciphered.rest()
    if len(body) <= MAC_LENGTH:
        raise GbcsPayloadError("general-ciphering content is too short for its MAC")
    return body[:-MAC_LENGTH], body[-MAC_LENGTH:], invocation


def decode_frame(raw: bytes) -> Frame:
    """Decode a GBCS payload: general-signing, optionally inside the DCC's MAC wrapper."""
    if raw[:1] != bytes([GENERAL_CIPHERING]):
        return decode_signing(raw)
    inner, mac, invocation = unwrap_mac(raw)
    return replace(decode_signing(inner), mac=mac, invocation_counter=invocation)


def encode_unsigned(frame: Frame) -> bytes:
    """The general-signing message up to (not including) its signature field."""
    other = frame.message_code.to_bytes(2, "big")
    if frame.relayed_for is not None:
        other += eui_bytes(frame.relayed_for[0]) + frame.relayed_for[1].to_bytes(8, "big")
    stamp = encode_cosem_datetime(frame.date_time) if frame.date_time else b""
    return (
        bytes([GENERAL_SIGNING])
        + counted(bytes([frame.cra_flag]) + frame.originator_counter.to_bytes(8, "big"))
        + counted(eui_bytes(frame.originator))
        + counted(eui_bytes(frame.recipient))
        + counted(stamp)
        + counted(other)
        + counted(frame.content)
    )


def seal(unsigned: bytes, key: ec.EllipticCurvePrivateKey | None) -> bytes:
    """Append the signature field: 0x40 + r||s over unsigned[1:] with key, or 0x00 without."""
    if key is None:
        return unsigned + b"\x00"
    return unsigned + bytes([SIGNATURE_LENGTH]) + raw_ecdsa_sign(key, unsigned[1:])


def wrap_mac(message: bytes, mac: bytes = bytes(MAC_LENGTH), invocation_counter: int = 0) -> bytes:
    """Wrap a general-signing message as the DCC does before sending it over the WAN."""
    if len(mac) != MAC_LENGTH:
        raise GbcsPayloadError(f"a GBCS MAC has 12 bytes, got {len(mac)}")
    ciphered = bytes([AUTHENTICATED_ONLY]) + invocation_counter.to_bytes(4, "big") + message + mac
    return bytes([GENERAL_CIPHERING]) + bytes(6) + counted(ciphered)


def verify_frame(frame: Frame, key: ec.EllipticCurvePublicKey) -> None:
    """Raise GbcsPayloadError unless the frame carries a signature that key verifies."""
    if not frame.signed or frame.signature is None:
        raise GbcsPayloadError("GBCS message carries no signature")
    if not raw_ecdsa_verify(key, frame.signature, frame.signed_part):
        raise GbcsPayloadError("GBCS signature does not verify")
