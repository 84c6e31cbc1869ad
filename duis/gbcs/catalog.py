"""Which message code is which use case, and `decode_message` that dispatches on it.

A table, not an if-chain: each `MessageKind` names its GBCS use case and how its command,
response or alert content is decoded. Message codes are those the RTDS vectors carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from duis.errors import GbcsPayloadError
from duis.gbcs import asn1, dlms, gbz
from duis.gbcs.content import Content
from duis.gbcs.frame import CRA_ALERT, CRA_COMMAND, CRA_RESPONSE, Frame, decode_frame

Decoder = Callable[[bytes], Content]


@dataclass(frozen=True, slots=True)
class MessageKind:
    """One GBCS message code: its use case and the decoder for each CRA flag it carries."""

    code: int
    use_case: str
    name: str
    decoders: dict[int, Decoder]


ECS52, GCS38, CS08, CS06 = 0x0059, 0x0084, 0x0129, 0x0012
FUTURE_DATED_ALERT, FDRA_DLMS, FDRA_GBZ, CCS08, CS09 = 0x00CA, 0x00CE, 0x00CF, 0x0128, 0x012B

MESSAGE_KINDS: dict[int, MessageKind] = {
    k.code: k
    for k in (
        MessageKind(ECS52, "ECS52", "Read ESME/CH firmware version (DLMS)",
                    {CRA_COMMAND: dlms.decode_ecs52_command,
                     CRA_RESPONSE: dlms.decode_ecs52_response}),
        MessageKind(GCS38, "GCS38", "Read GSME firmware version (GBZ)",
                    {CRA_COMMAND: gbz.decode_gcs38_command,
                     CRA_RESPONSE: gbz.decode_gcs38_response}),
        MessageKind(CS08, "CS08", "Read PPMID/HCALCS firmware version (ASN.1)",
                    {CRA_COMMAND: asn1.decode_cs08_command,
                     CRA_RESPONSE: asn1.decode_cs08_response}),
        MessageKind(CS06, "CS06", "Activate firmware (ASN.1)",
                    {CRA_COMMAND: asn1.decode_activation_command,
                     CRA_RESPONSE: asn1.decode_activation_response}),
        MessageKind(FUTURE_DATED_ALERT, "CS06", "Future-dated activation alert 0x8F66/0x8F67",
                    {CRA_ALERT: asn1.decode_future_dated_alert}),
        MessageKind(FDRA_DLMS, "FDRA-DLMS", "Firmware distribution receipt alert (DLMS)",
                    {CRA_ALERT: dlms.decode_fdra_dlms}),
        MessageKind(FDRA_GBZ, "FDRA-GBZ", "Firmware distribution receipt alert (GBZ)",
                    {CRA_ALERT: gbz.decode_fdra_gbz}),
        MessageKind(CCS08, "CCS08", "CH firmware transfer alert 0x8F8A/0x8F89",
                    {CRA_ALERT: asn1.decode_transfer_alert}),
        MessageKind(CS09, "CS09", "PPMID firmware activation alert 0x8F8B",
                    {CRA_ALERT: asn1.decode_ppmid_activation_alert}),
    )
}


@dataclass(frozen=True, slots=True)
class GbcsMessage:
    """A decoded GBCS message: its envelope (`frame`) and what it says (`body`)."""

    frame: Frame
    kind: MessageKind
    body: Content

    @property
    def cra_flag(self) -> int:
        """1 command, 2 response, 3 alert."""
        return self.frame.cra_flag

    @property
    def originator_counter(self) -> int:
        """The transaction-id counter."""
        return self.frame.originator_counter

    @property
    def originator(self) -> str:
        """The sender's EUI-64."""
        return self.frame.originator

    @property
    def recipient(self) -> str:
        """The recipient's EUI-64."""
        return self.frame.recipient

    @property
    def message_code(self) -> int:
        """The GBCS message code from other-information."""
        return self.frame.message_code

    @property
    def date_time(self) -> datetime | None:
        """The general-signing date-time (CS06 responses carry one)."""
        return self.frame.date_time


def decode_message(raw: bytes) -> GbcsMessage:
    """Decode any supported GBCS payload (see MESSAGE_KINDS); GbcsPayloadError otherwise."""
    frame = decode_frame(raw)
    kind = MESSAGE_KINDS.get(frame.message_code)
    if kind is None:
        raise GbcsPayloadError(f"unsupported GBCS message code 0x{frame.message_code:04X}")
    decoder = kind.decoders.get(frame.cra_flag)
    if decoder is None:
        raise GbcsPayloadError(
            f"message code 0x{frame.message_code:04X} ({kind.use_case}) carries no CRA flag "
            f"{frame.cra_flag}"
        )
    return GbcsMessage(frame, kind, decoder(frame.content))
