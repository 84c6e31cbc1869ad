"""Whole GBCS messages in the RTDS shapes, for the DSP and device simulators.

Every encoder returns the payload as it reaches the User: 11.2 commands and responses inside
the DCC's MAC wrapper (general-signing, signature length 0), CS06 responses and alerts as
general-signing signed by the device (`key`; None leaves them unsigned, signature length 0).
A simulator has no GBCS key-agreement keys, so MACs are whatever `mac` says (zeros by default).
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import GbcsPayloadError
from duis.gbcs import asn1, dlms, gbz
from duis.gbcs.catalog import (
    CCS08,
    CS06,
    CS08,
    CS09,
    ECS52,
    FDRA_DLMS,
    FDRA_GBZ,
    FUTURE_DATED_ALERT,
    GCS38,
)
from duis.gbcs.content import (
    ActivationResponse,
    FirmwareDistributionReceipt,
    FirmwareTransferAlert,
    FirmwareVersionResponse,
    FutureDatedActivationAlert,
    PpmidActivationAlert,
)
from duis.gbcs.frame import (
    CRA_ALERT,
    CRA_COMMAND,
    CRA_RESPONSE,
    MAC_LENGTH,
    Frame,
    encode_unsigned,
    seal,
    wrap_mac,
)
from duis.gbcs.precommand import sign_pre_command
from duis.gbcs.wire import der_null

Key = ec.EllipticCurvePrivateKey | None
READ_CODES = {"ECS52": ECS52, "GCS38": GCS38, "CS08": CS08}
NO_MAC = bytes(MAC_LENGTH)


def _read_code(use_case: str) -> int:
    code = READ_CODES.get(use_case)
    if code is None:
        raise GbcsPayloadError(f"no 11.2 use case {use_case!r} (ECS52, GCS38 or CS08)")
    return code


def encode_read_firmware_command(use_case: str, counter: int, originator: str, device: str,
                                 relayed_for: tuple[str, int] | None = None,
                                 mac: bytes = NO_MAC) -> bytes:
    """An 11.2 command (ECS52, GCS38, or CS08 sent by the DCC on a User's behalf)."""
    code = _read_code(use_case)
    content = {"ECS52": lambda: dlms.encode_ecs52_command(counter),
               "GCS38": gbz.encode_gcs38_command, "CS08": der_null}[use_case]()
    frame = Frame(CRA_COMMAND, counter, originator, device, code, content,
                  relayed_for=relayed_for)
    return wrap_mac(seal(encode_unsigned(frame), None), mac)


def encode_firmware_version_response(use_case: str, counter: int, device: str, recipient: str,
                                     version: str | None, result: int = 0,
                                     relayed_for: tuple[str, int] | None = None,
                                     mac: bytes = NO_MAC) -> bytes:
    """An 11.2 response with the version (result 0) or an error result, MAC-wrapped.

    `counter` is the command's counter; CS08 answers go to the DCC with `relayed_for` set
    to the User's EUI and request counter.
    """
    code, response = _read_code(use_case), FirmwareVersionResponse(use_case, version, result)
    content = {"ECS52": lambda: dlms.encode_ecs52_response(response, counter),
               "GCS38": lambda: gbz.encode_gcs38_response(response),
               "CS08": lambda: asn1.encode_cs08_response(response)}[use_case]()
    frame = Frame(CRA_RESPONSE, counter, device, recipient, code, content,
                  relayed_for=relayed_for)
    return wrap_mac(seal(encode_unsigned(frame), None), mac)


def encode_activation_command(pre_command: bytes, key: ec.EllipticCurvePrivateKey,
                              mac: bytes = NO_MAC) -> bytes:
    """The CS06 command the device receives: the signed pre-command in the MAC wrapper."""
    return wrap_mac(sign_pre_command(pre_command, key), mac)


def encode_activation_response(counter: int, device: str, recipient: str, at: datetime | None,
                               result: int | None, version: str | None = None,
                               key: Key = None) -> bytes:
    """A CS06 response: result and running version, or None for accepted-for-later (NULL)."""
    content = asn1.encode_activation_response(ActivationResponse(result, version))
    frame = Frame(CRA_RESPONSE, counter, device, recipient, CS06, content, date_time=at)
    return seal(encode_unsigned(frame), key)


def _alert(counter: int, device: str, recipient: str, code: int, content: bytes,
           key: Key) -> bytes:
    return seal(encode_unsigned(Frame(CRA_ALERT, counter, device, recipient, code, content)), key)


def encode_future_dated_alert(counter: int, device: str, recipient: str,
                              alert: FutureDatedActivationAlert, key: Key = None) -> bytes:
    """0x8F66 / 0x8F67 in message code 0x00CA."""
    return _alert(counter, device, recipient, FUTURE_DATED_ALERT,
                  asn1.encode_future_dated_alert(alert), key)


def encode_fdra(counter: int, device: str, recipient: str, alert: FirmwareDistributionReceipt,
                gbz_format: bool = False, key: Key = None) -> bytes:
    """FDRA 0x8F72 / 0x8F1C: DLMS (0x00CE, ESME) or GBZ (0x00CF, GSME)."""
    if gbz_format:
        return _alert(counter, device, recipient, FDRA_GBZ, gbz.encode_fdra_gbz(alert), key)
    return _alert(counter, device, recipient, FDRA_DLMS, dlms.encode_fdra_dlms(alert, counter), key)


def encode_transfer_alert(counter: int, hub: str, recipient: str, alert: FirmwareTransferAlert,
                          key: Key = None) -> bytes:
    """CCS08 0x8F8A / 0x8F89 (message code 0x0128), raised by the hub."""
    return _alert(counter, hub, recipient, CCS08, asn1.encode_transfer_alert(alert), key)


def encode_ppmid_activation_alert(counter: int, ppmid: str, recipient: str,
                                  alert: PpmidActivationAlert, key: Key = None) -> bytes:
    """CS09 0x8F8B (message code 0x012B), raised by the PPMID."""
    return _alert(counter, ppmid, recipient, CS09, asn1.encode_ppmid_activation_alert(alert), key)
