"""Typed, frozen models of DUIS requests, responses and alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from duis.codes import SR_TYPES, ActivationResult, ResponseKind, SrType, classify_response_code
from duis.requestid import RequestId, normalize_eui


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """SR 11.1 (or 11.4 when `ppmid`): distribute a GBCS Upgrade Image to devices."""

    request_id: RequestId
    image: bytes
    firmware_version: str
    device_ids: tuple[str, ...]
    ppmid: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_ids", tuple(normalize_eui(d) for d in self.device_ids))

    @property
    def sr(self) -> SrType:
        return SR_TYPES["update_ppmid_firmware" if self.ppmid else "update_firmware"]


@dataclass(frozen=True, slots=True)
class ActivateFirmware:
    """SR 11.3 CommandVariant 4: ask the DCC for the activation pre-command."""

    request_id: RequestId
    firmware_hash: bytes
    execution_datetime: datetime | None = None

    @property
    def sr(self) -> SrType:
        return SR_TYPES["activate_firmware"]


@dataclass(frozen=True, slots=True)
class SignedPreCommand:
    """SR 11.3 CommandVariant 5: the signed pre-command sent on to the device."""

    request_id: RequestId
    gbcs_payload: bytes
    execution_datetime: datetime | None = None

    @property
    def sr(self) -> SrType:
        return SR_TYPES["activate_firmware_signed"]


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersion:
    """SR 11.2: read the running firmware version of a device."""

    request_id: RequestId

    @property
    def sr(self) -> SrType:
        return SR_TYPES["read_firmware_version"]


@dataclass(frozen=True, slots=True)
class ReadInventory:
    """SR 8.2: read the DCC inventory entry of one device."""

    request_id: RequestId
    device_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_id", normalize_eui(self.device_id))

    @property
    def sr(self) -> SrType:
        return SR_TYPES["read_inventory"]


Request = UpdateFirmware | ActivateFirmware | SignedPreCommand | ReadFirmwareVersion | ReadInventory


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    """Header of an sr:Response."""

    request_id: RequestId | None
    response_id: RequestId | None
    response_code: str
    response_datetime: datetime

    @property
    def kind(self) -> ResponseKind:
        return classify_response_code(self.response_code)


@dataclass(frozen=True, slots=True)
class FirmwareWarnings:
    """Per-device warning lists of an 11.1/11.4 response; devices in no list were accepted."""

    invalid: tuple[str, ...] = ()
    not_commissioned: tuple[str, ...] = ()
    not_applicable_firmware: tuple[str, ...] = ()
    other_request_in_progress: tuple[str, ...] = ()
    invalid_gbcs_version: tuple[str, ...] = ()

    @property
    def rejected(self) -> frozenset[str]:
        """Every device named in any warning list."""
        return frozenset(
            self.invalid
            + self.not_commissioned
            + self.not_applicable_firmware
            + self.other_request_in_progress
            + self.invalid_gbcs_version
        )


@dataclass(frozen=True, slots=True)
class InventoryDevice:
    """One Device of an 8.2 DSPInventory."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    status: str | None = None
    firmware_version: str | None = None
    firmware_version_status: str | None = None
    cpl_status: str | None = None
    gbcs_version: str | None = None
    han_variant: str | None = None
    smets_chts_version: str | None = None


@dataclass(frozen=True, slots=True)
class PreCommand:
    """The DCC's pre-command (11.3 CV4 response) that the User must sign."""

    gbcs_version: str
    gbcs_payload: bytes


@dataclass(frozen=True, slots=True)
class DeviceAlert:
    """A device alert with its decoded GBCS facts (see `duis.gbcs` for the message codes).

    `device_id` raised it; `target_device_id` is the device it concerns when another raised
    it (CCS08: the hub reports a transfer to a PPMID/HCALCS). `timestamp` is the alert time
    (for 0x8F66/0x8F67 the execution time), `firmware_hash` the hash an FDRA computed,
    `firmware_version`/`result` what 0x8F66/0x8F67/CCS08/CS09 report, `command_counter` the
    activation command a future-dated alert answers. `decode_error` says why the payload
    could not be read (the other facts are then None).
    """

    alert_code: int
    name: str
    gbcs_payload: bytes
    device_id: str | None = None
    timestamp: datetime | None = None
    firmware_hash: bytes | None = None
    decode_error: str | None = None
    message_code: int | None = None
    firmware_version: str | None = None
    result: int | None = None
    target_device_id: str | None = None
    command_counter: int | None = None

    @property
    def subject_device_id(self) -> str | None:
        """The device the alert is about (the target for CCS08, else the sender)."""
        return self.target_device_id or self.device_id


@dataclass(frozen=True, slots=True)
class ResponseMessage:
    """A service response with the decoded GBCS facts of its payload.

    11.2: `firmware_version` (ECS52, GCS38 or CS08) or the device's error `read_result`.
    11.3: `activation_result` (immediate; `firmware_version` is then the running version)
    or `activation_accepted` (future-dated or cancellation accepted, ASN.1 NULL).
    `future_dated_alert`: 0x8F66/0x8F67 sent as `FutureDatedDeviceAlertMessage`.
    """

    service_reference: str
    variant: str
    gbcs_payload: bytes | None = None
    warnings: FirmwareWarnings | None = None
    inventory: tuple[InventoryDevice, ...] | None = None
    pre_command: PreCommand | None = None
    firmware_version: str | None = None
    activation_result: ActivationResult | None = None
    read_result: int | None = None
    activation_accepted: bool = False
    future_dated_alert: DeviceAlert | None = None


@dataclass(frozen=True, slots=True)
class FirmwareDeliveryStatus:
    """N60/N61 CSPFirmwareDeliveryStatus."""

    update_firmware_request_id: RequestId
    comms_hub_id: str
    target_device_id: str
    firmware_version: str
    timestamp: datetime
    success: bool


@dataclass(frozen=True, slots=True)
class FirmwareDistributionFailure:
    """The DCC could not distribute an 11.1/11.4 image to these meters."""

    update_firmware_request_id: RequestId
    device_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuarantinedRequest:
    """AD1: anomaly detection quarantined a request."""

    breach: str
    request_id: RequestId
    quarantine_event_ref: int


@dataclass(frozen=True, slots=True)
class FirmwareVersionMismatch:
    """The version the device reports disagrees with the SMI."""

    device_id: str
    device_type: str
    version_smi: str
    version_device: str


@dataclass(frozen=True, slots=True)
class OtherDccAlert:
    """A DCC alert this library does not model in detail."""

    element: str


DccAlertDetail = (
    FirmwareDeliveryStatus
    | FirmwareDistributionFailure
    | QuarantinedRequest
    | FirmwareVersionMismatch
    | OtherDccAlert
)


@dataclass(frozen=True, slots=True)
class DccAlert:
    """A DCC alert (N60, N61, AD1, ...) with its typed detail."""

    code: str
    name: str
    detail: DccAlertDetail


@dataclass(frozen=True, slots=True)
class Response:
    """A parsed sr:Response: header plus exactly one kind of body."""

    schema_version: str
    header: ResponseHeader
    body: ResponseMessage | DeviceAlert | DccAlert
    signed: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A parsed sr:Request with its header facts."""

    schema_version: str
    command_variant: int
    request: Request
    signed: bool = False
