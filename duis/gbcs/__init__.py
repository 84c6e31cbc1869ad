"""GBCS payloads of the firmware flows, decoded and encoded as the DCC's RTDS 4.5.0 has them.

Decoding: `decode_message(raw)` takes any payload below (with or without the DCC's MAC
wrapper) and returns a `GbcsMessage`: `frame` (the general-signing envelope: CRA flag,
transaction counter, originator, recipient, message code, optional date-time, the User and
counter the DCC relays for, signature and the bytes it covers, MAC) and `body`, one of:

| message code | use case | CRA | body |
|---|---|---|---|
| 0x0059 | ECS52 (ESME/CH, DLMS) | command / response | `ReadFirmwareVersionCommand` / `FirmwareVersionResponse` |
| 0x0084 | GCS38 (GSME, GBZ) | command / response | same |
| 0x0129 | CS08 (PPMID/HCALCS, ASN.1, relayed by the DCC) | command / response | same |
| 0x0012 | CS06 activate firmware | pre-command, command / response | `ActivationCommand` / `ActivationResponse` |
| 0x00CA | CS06 future-dated alert 0x8F66/0x8F67 | alert | `FutureDatedActivationAlert` |
| 0x00CE | FDRA DLMS 0x8F72 (ESME) | alert | `FirmwareDistributionReceipt` |
| 0x00CF | FDRA GBZ 0x8F72 (GSME) | alert | `FirmwareDistributionReceipt` |
| 0x0128 | CCS08 0x8F8A/0x8F89 (hub to PPMID/HCALCS) | alert | `FirmwareTransferAlert` |
| 0x012B | CS09 0x8F8B (PPMID activation) | alert | `PpmidActivationAlert` |

Anything else raises `GbcsPayloadError` with the reason. `verify_frame(frame, public_key)`
checks a device's or the Supplier's signature (over the message without its 0xDF tag).

Signing (CommandVariant 5): `check_pre_command(payload, ExpectedActivation(...))` refuses
with `PreCommandMismatchError` unless message code, target device, image hash, originator
counter and execution time are those of the 11.3 sent; `sign_pre_command(payload, key)` then
returns `payload | 0x40 | r||s` over `payload[1:]`.

Encoding (simulators): `encode_pre_command`, `encode_activation_command`,
`encode_activation_response`, `encode_read_firmware_command`,
`encode_firmware_version_response`, `encode_future_dated_alert`, `encode_fdra`,
`encode_transfer_alert`, `encode_ppmid_activation_alert` (module `encode`), and the pieces
`wrap_mac`, `seal`, `encode_unsigned`. Modules: `wire` (reader, lengths, times, DER),
`frame` (envelopes), `content` (dataclasses), `dlms`, `gbz`, `asn1` (use cases), `catalog`
(message-code table), `precommand`, `encode`.
"""

from __future__ import annotations

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
    MESSAGE_KINDS,
    GbcsMessage,
    MessageKind,
    decode_message,
)
from duis.gbcs.content import (
    ActivationCommand,
    ActivationResponse,
    Alert,
    Content,
    FirmwareDistributionReceipt,
    FirmwareTransferAlert,
    FirmwareVersionResponse,
    FutureDatedActivationAlert,
    PpmidActivationAlert,
    ReadFirmwareVersionCommand,
)
from duis.gbcs.encode import (
    encode_activation_command,
    encode_activation_response,
    encode_fdra,
    encode_firmware_version_response,
    encode_future_dated_alert,
    encode_ppmid_activation_alert,
    encode_read_firmware_command,
    encode_transfer_alert,
)
from duis.gbcs.frame import (
    CRA_ALERT,
    CRA_COMMAND,
    CRA_RESPONSE,
    MAC_LENGTH,
    SIGNATURE_LENGTH,
    Frame,
    decode_frame,
    encode_unsigned,
    seal,
    verify_frame,
    wrap_mac,
)
from duis.gbcs.precommand import (
    ExpectedActivation,
    check_pre_command,
    encode_pre_command,
    gbcs_execution_time,
    sign_pre_command,
    verify_signed_pre_command,
)
from duis.gbcs.wire import CANCEL_TIME

__all__ = [
    "CANCEL_TIME",
    "CCS08",
    "CRA_ALERT",
    "CRA_COMMAND",
    "CRA_RESPONSE",
    "CS06",
    "CS08",
    "CS09",
    "ECS52",
    "FDRA_DLMS",
    "FDRA_GBZ",
    "FUTURE_DATED_ALERT",
    "GCS38",
    "MAC_LENGTH",
    "MESSAGE_KINDS",
    "SIGNATURE_LENGTH",
    "ActivationCommand",
    "ActivationResponse",
    "Alert",
    "Content",
    "ExpectedActivation",
    "FirmwareDistributionReceipt",
    "FirmwareTransferAlert",
    "FirmwareVersionResponse",
    "Frame",
    "FutureDatedActivationAlert",
    "GbcsMessage",
    "MessageKind",
    "PpmidActivationAlert",
    "ReadFirmwareVersionCommand",
    "check_pre_command",
    "decode_frame",
    "decode_message",
    "encode_activation_command",
    "encode_activation_response",
    "encode_fdra",
    "encode_firmware_version_response",
    "encode_future_dated_alert",
    "encode_ppmid_activation_alert",
    "encode_pre_command",
    "encode_read_firmware_command",
    "encode_transfer_alert",
    "encode_unsigned",
    "gbcs_execution_time",
    "seal",
    "sign_pre_command",
    "verify_frame",
    "verify_signed_pre_command",
    "wrap_mac",
]
