"""Declarative tables: namespaces, service request types, response and alert codes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

SR_NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
RA_NS = "http://www.dccinterface.co.uk/ResponseAndAlert"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_VERSION = "5.4"
DCC_EUI = "90-B3-D5-1F-30-00-00-02"
CANCEL_DATETIME = "3000-12-31T00:00:00Z"
MAX_FIRMWARE_IMAGE_OCTETS = 10_240_000
MAX_DEVICE_ID_LIST_CHARS = 1_199_999


class CommandVariant(enum.IntEnum):
    """DUIS CommandVariant values used by the firmware service requests."""

    SEND_TO_DEVICE = 1
    CRITICAL_PRE_COMMAND = 4
    SIGNED_PRE_COMMAND = 5
    DCC_ONLY = 8


@dataclass(frozen=True, slots=True)
class SrType:
    """One DUIS service request: its reference, variant, command variant and body element."""

    key: str
    service_reference: str
    variant: str
    command_variant: CommandVariant
    body_element: str
    targets_dcc: bool


SR_TYPES: dict[str, SrType] = {
    sr.key: sr
    for sr in (
        SrType("update_firmware", "11.1", "11.1", CommandVariant.DCC_ONLY, "UpdateFirmware", True),
        SrType(
            "update_ppmid_firmware",
            "11.4",
            "11.4",
            CommandVariant.DCC_ONLY,
            "UpdatePPMIDFirmware",
            True,
        ),
        SrType(
            "activate_firmware",
            "11.3",
            "11.3",
            CommandVariant.CRITICAL_PRE_COMMAND,
            "ActivateFirmware",
            False,
        ),
        SrType(
            "activate_firmware_signed",
            "11.3",
            "11.3",
            CommandVariant.SIGNED_PRE_COMMAND,
            "SignedPreCommand",
            False,
        ),
        SrType(
            "read_firmware_version",
            "11.2",
            "11.2",
            CommandVariant.SEND_TO_DEVICE,
            "ReadFirmwareVersion",
            False,
        ),
        SrType("read_inventory", "8.2", "8.2", CommandVariant.DCC_ONLY, "ReadInventory", True),
    )
}
SR_BY_BODY: dict[str, SrType] = {sr.body_element: sr for sr in SR_TYPES.values()}


@dataclass(frozen=True, slots=True)
class SrSpec:
    """One service request as a whole, for whoever sends it or answers it: the requests it
    is sent as (in order), whether one request names a DeviceIDList, and the device types it
    reaches (empty: it is the DCC's own, reaching no device)."""

    variant: str
    requests: tuple[SrType, ...]
    batched: bool
    device_types: frozenset[str]

    @property
    def command_variants(self) -> tuple[int, ...]:
        """The CommandVariants sent, in order (11.3: CV4, then the signed pre-command CV5)."""
        return tuple(int(r.command_variant) for r in self.requests)

    @property
    def targets_dcc(self) -> bool:
        """The first request's RequestID names the DCC as target, not a device."""
        return self.requests[0].targets_dcc

    @property
    def counters(self) -> int:
        """Originator counters one send takes: one (an 11.3's CV5 repeats its CV4's
        RequestID, so the device sees one counter per activation)."""
        return 1

    @property
    def counted(self) -> SrType:
        """The request the DCC's anomaly detection counts: the last one sent (for 11.3 the
        signed pre-command, the one command the device gets; the CV4 is not counted)."""
        return self.requests[-1]

    @property
    def signs_pre_command(self) -> bool:
        """The DCC answers the first request with a pre-command the User signs and sends."""
        return CommandVariant.SIGNED_PRE_COMMAND in (r.command_variant for r in self.requests)


_METERS = frozenset({"ESME", "GSME", "HCALCS", "SAPC"})  # supplier-upgraded with 11.1
SR_SPECS: dict[str, SrSpec] = {spec.variant: spec for spec in (
    SrSpec("11.1", (SR_TYPES["update_firmware"],), True, _METERS),
    SrSpec("11.4", (SR_TYPES["update_ppmid_firmware"],), True, frozenset({"PPMID"})),
    SrSpec("11.3", (SR_TYPES["activate_firmware"], SR_TYPES["activate_firmware_signed"]), False,
           _METERS | {"PPMID"}),
    SrSpec("11.2", (SR_TYPES["read_firmware_version"],), False, _METERS | {"PPMID", "GPF"}),
    SrSpec("8.2", (SR_TYPES["read_inventory"],), False, frozenset()),
)}
DISTRIBUTION_SRS: tuple[str, ...] = tuple(v for v, s in SR_SPECS.items() if s.batched)

WARNING_LISTS: tuple[str, ...] = (
    "InvalidDeviceIDList",
    "NotCommissionedDeviceIDList",
    "NotApplicableFirmwareDeviceIDList",
    "OtherRequestInProgressList",
    "InvalidGBCSVersionList",
)
WARNING_ELEMENTS: dict[str, str] = {
    "11.1": "DSPUpdateFirmwareWarning",
    "11.4": "DSPUpdatePPMIDFirmwareWarning",
}


class ResponseKind(enum.Enum):
    """What a DUIS response code says about the request."""

    SUCCESS = "success"
    ACKNOWLEDGED = "acknowledged"
    WARNING = "warning"
    ERROR = "error"


def classify_response_code(code: str) -> ResponseKind:
    """Tell success (I0), acknowledgement (I99), warnings (W...) and errors (E...) apart."""
    if code == "I0":
        return ResponseKind.SUCCESS
    if code == "I99":
        return ResponseKind.ACKNOWLEDGED
    if code.startswith("W"):
        return ResponseKind.WARNING
    return ResponseKind.ERROR


@dataclass(frozen=True, slots=True)
class DeviceAlertType:
    """A GBCS device alert relevant to firmware, and whether it carries the device's hash."""

    code: int
    name: str
    carries_hash: bool


DEVICE_ALERTS: dict[int, DeviceAlertType] = {
    a.code: a
    for a in (
        DeviceAlertType(0x8F72, "FirmwareVerificationSuccessful", True),
        DeviceAlertType(0x8F1C, "FirmwareVerificationFailed", True),
        DeviceAlertType(0x8F66, "FutureDatedFirmwareActivationSuccessful", False),
        DeviceAlertType(0x8F67, "FutureDatedFirmwareActivationFailed", False),
        DeviceAlertType(0x8F8A, "CHFirmwareTransferSuccess", False),
        DeviceAlertType(0x8F89, "CHFirmwareTransferFailure", False),
        DeviceAlertType(0x8F8B, "PPMIDFirmwareActivation", False),
    )
}

DCC_ALERT_NAMES: dict[str, str] = {
    "N60": "FirmwareDeliveredToDevice",
    "N61": "FirmwareDeliveryToDeviceFailed",
    "AD1": "QuarantinedRequest",
}


class ActivationResult(enum.IntEnum):
    """Device answer to Activate Firmware (SR 11.3)."""

    SUCCESS = 0
    NO_IMAGE_HELD = 1
    HASH_MISMATCH = 2
    ACTIVATION_FAILURE = 3
