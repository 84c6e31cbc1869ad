"""What a GBCS message says, as frozen dataclasses (one per RTDS message kind).

Firmware versions are upper-case hex of the octets the device reports (`0123ABCD`); hashes
are raw bytes; times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from duis.gbcs.wire import CANCEL_TIME


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersionCommand:
    """An 11.2 command (ECS52 DLMS GET, GCS38 ZCL Read Attributes, CS08 ASN.1 NULL)."""

    use_case: str
    attribute: str = ""  # what is read, e.g. `1/0000000201FF/2` (DLMS) or `0702/0206` (ZCL)


@dataclass(frozen=True, slots=True)
class FirmwareVersionResponse:
    """An 11.2 response: the running firmware version, or the device's error result."""

    use_case: str
    firmware_version: str | None
    result: int  # 0 success; else the DLMS data-access-result, ZCL status or CS08 result

    @property
    def success(self) -> bool:
        """True when the device reported its version."""
        return self.result == 0 and self.firmware_version is not None


@dataclass(frozen=True, slots=True)
class ActivationCommand:
    """CS06 Activate Firmware (pre-command, or the signed command the device receives)."""

    image_hash: bytes
    originator_counter: int
    execution_time: datetime | None = None

    @property
    def cancels(self) -> bool:
        """True when the execution time is GBCS's cancel value (9999-12-31T23:59:59Z)."""
        return self.execution_time is not None and self.execution_time >= CANCEL_TIME


@dataclass(frozen=True, slots=True)
class ActivationResponse:
    """CS06 response: an immediate result and version, or acceptance (future-dated/cancel)."""

    result: int | None  # None: accepted for later (ASN.1 NULL); 0 success, 1 no image, ...
    firmware_version: str | None = None

    @property
    def accepted_for_later(self) -> bool:
        """True for the NULL answer to a future-dated activation or a cancellation."""
        return self.result is None


@dataclass(frozen=True, slots=True)
class FutureDatedActivationAlert:
    """0x8F66 / 0x8F67 (message code 0x00CA): a future-dated activation ran (or failed)."""

    alert_code: int
    execution_time: datetime
    originator_counter: int  # the counter of the activation command it answers
    result: int
    firmware_version: str


@dataclass(frozen=True, slots=True)
class FirmwareDistributionReceipt:
    """0x8F72 / 0x8F1C FDRA (0x00CE DLMS, 0x00CF GBZ): the hash the device computed."""

    alert_code: int
    time: datetime
    image_hash: bytes


@dataclass(frozen=True, slots=True)
class FirmwareTransferAlert:
    """CCS08 0x8F8A / 0x8F89 (0x0128): the hub passed an image to a PPMID or HCALCS."""

    alert_code: int
    time: datetime
    target_device: str
    firmware_version: str
    status: int


@dataclass(frozen=True, slots=True)
class PpmidActivationAlert:
    """CS09 0x8F8B (0x012B): a PPMID activated firmware (result 0 success)."""

    alert_code: int
    time: datetime
    firmware_version: str
    result: int


Alert = FutureDatedActivationAlert | FirmwareDistributionReceipt | FirmwareTransferAlert | PpmidActivationAlert
Content = (
    ReadFirmwareVersionCommand | FirmwareVersionResponse | ActivationCommand | ActivationResponse
    | Alert
)


def version_hex(raw: bytes) -> str:
    """A firmware version as upper-case hex."""
    return raw.hex().upper()
