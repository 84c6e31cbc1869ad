"""CS06 pre-commands: check that one is the activation we asked for, sign it, verify it.

GBCS signs a pre-command without its first byte (the 0xDF general-signing tag): the signed
pre-command (CommandVariant 5 GBCSPayload) is `pre-command | 0x40 | r||s` with r||s an ECDSA
P-256 signature over `pre-command[1:]` by the Supplier's digital-signing key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import GbcsPayloadError, PreCommandMismatchError
from duis.gbcs.asn1 import decode_activation_command, encode_activation_command
from duis.gbcs.catalog import CS06, GbcsMessage, decode_message
from duis.gbcs.content import ActivationCommand
from duis.gbcs.frame import (
    CRA_COMMAND,
    SIGNATURE_LENGTH,
    Frame,
    decode_signing,
    encode_unsigned,
    verify_frame,
)
from duis.gbcs.wire import CANCEL_TIME
from duis.keys import raw_ecdsa_sign
from duis.requestid import normalize_eui

DUIS_CANCEL = datetime(3000, 12, 31, tzinfo=UTC)  # DUIS ExecutionDateTime that cancels


def gbcs_execution_time(duis_time: datetime | None) -> datetime | None:
    """The GBCS execution time for a DUIS ExecutionDateTime (3000-12-31 or later cancels)."""
    if duis_time is None:
        return None
    return CANCEL_TIME if duis_time >= DUIS_CANCEL else duis_time.astimezone(UTC)


def encode_pre_command(counter: int, originator: str, device: str, message_code: int,
                       image_hash: bytes, execute_at: datetime | None) -> bytes:
    """An unsigned CS06 pre-command as the DCC returns it (no signature field)."""
    command = ActivationCommand(image_hash, counter, gbcs_execution_time(execute_at))
    frame = Frame(CRA_COMMAND, counter, originator, device, message_code,
                  encode_activation_command(command))
    return encode_unsigned(frame)


def _pre_command(payload: bytes) -> tuple[Frame, ActivationCommand]:
    frame = decode_signing(payload)
    if frame.signature is not None:
        raise GbcsPayloadError("a pre-command must not carry a signature field")
    if frame.cra_flag != CRA_COMMAND or frame.message_code != CS06:
        raise GbcsPayloadError(
            f"not a CS06 pre-command (CRA flag {frame.cra_flag}, message code "
            f"0x{frame.message_code:04X})"
        )
    return frame, decode_activation_command(frame.content)


def sign_pre_command(payload: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign a DCC pre-command: payload, 0x40, then r||s over payload[1:]."""
    _pre_command(payload)
    return payload + bytes([SIGNATURE_LENGTH]) + raw_ecdsa_sign(key, payload[1:])


def verify_signed_pre_command(payload: bytes, key: ec.EllipticCurvePublicKey) -> GbcsMessage:
    """Check the Supplier signature on a signed CS06 command and return it decoded."""
    message = decode_message(payload)
    if message.message_code != CS06 or message.cra_flag != CRA_COMMAND:
        raise GbcsPayloadError("not a CS06 activation command")
    verify_frame(message.frame, key)
    return message


@dataclass(frozen=True, slots=True)
class ExpectedActivation:
    """The 11.3 we sent: what its pre-command must say before we sign it."""

    originator: str
    device: str
    image_hash: bytes
    originator_counter: int
    execution_time: datetime | None  # the DUIS ExecutionDateTime (None: now)


def _mismatches(frame: Frame, command: ActivationCommand, want: ExpectedActivation) -> list[str]:
    at, wanted_at = command.execution_time, gbcs_execution_time(want.execution_time)
    checks = [
        ("originator", frame.originator, normalize_eui(want.originator)),
        ("target device", frame.recipient, normalize_eui(want.device)),
        ("image hash", command.image_hash.hex(), want.image_hash.hex()),
        ("transaction counter", frame.originator_counter, want.originator_counter),
        ("originator counter", command.originator_counter, want.originator_counter),
        ("execution time",
         at.replace(microsecond=0).isoformat() if at else None,
         wanted_at.replace(microsecond=0).isoformat() if wanted_at else None),
    ]
    return [f"{name} is {got!r}, expected {wanted!r}" for name, got, wanted in checks if got != wanted]


def check_pre_command(payload: bytes, want: ExpectedActivation) -> ActivationCommand:
    """The decoded pre-command if it is exactly the activation requested, else the reason."""
    try:
        frame, command = _pre_command(payload)
    except GbcsPayloadError as err:
        raise PreCommandMismatchError(f"undecodable pre-command: {err}") from err
    problems = _mismatches(frame, command, want)
    if problems:
        raise PreCommandMismatchError("pre-command does not match the 11.3 sent: " + "; ".join(problems))
    return command
