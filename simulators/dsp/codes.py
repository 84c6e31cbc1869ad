"""Declarative tables of the simulated DSP: response codes, roles, device-type rules.

Codes E1-E21 follow the public DCC response code list; codes marked "(simulator)" are this
simulator's convention where the public material does not say which code the DCC uses.
"""
from __future__ import annotations

from dataclasses import dataclass

from duis.codes import DISTRIBUTION_SRS, SR_SPECS, SR_TYPES

IMPORT_SUPPLIER, GAS_SUPPLIER = "IS", "GS"
ROLE_NAMES = {IMPORT_SUPPLIER: "Import Supplier", GAS_SUPPLIER: "Gas Supplier",
              "ES": "Export Supplier", "ED": "Electricity Distributor", "GT": "Gas Transporter",
              "OU": "Other User"}

RESPONSE_CODES: dict[str, str] = {
    "I0": "success",
    "I99": "acknowledged: accepted for sending to the device(s)",
    "W110101": "11.1 accepted for some devices; the others are in the warning lists",
    "W110401": "11.4 accepted for some devices; the others are in the warning lists",
    "E1": "the originator is not a registered User",
    "E2": "the User's role may not send this service request",
    "E4": "the device is not the User's (another supplier, or a type the role does not serve)",
    "E5": "the device's SMI status does not allow this service request",
    "E11": "the service request does not apply to this device type",
    "E13": "wrong target: a DCC-only request not sent to the DCC, or the reverse",
    "E19": "no such device",
    "E20": "cannot communicate with the device",
    "E21": "no response from the device",
    "E41": "(simulator) XML signature missing, invalid or not the originator's certificate",
    "E42": "(simulator) RequestID counter not above the originator's last one to the target "
           "(replay)",
    "E43": "(simulator) not a well-formed, schema-valid firmware service request",
    "E44": "(simulator) signed pre-command does not verify or was not issued by the DCC",
    "E110101": "no device of the DeviceIDList passed validation (see the warning lists)",
    "E110102": "FirmwareImage is not a readable GBCS Upgrade Image",
    "E110103": "FirmwareVersion differs from the OTA header file version",
    "E110401": "no device of the DeviceIDList passed validation (see the warning lists)",
    "E110402": "FirmwareImage is not a readable GBCS Upgrade Image",
    "E110403": "FirmwareVersion differs from the OTA header file version",
}


@dataclass(frozen=True, slots=True)
class SrRule:
    """Who may send a service request and how anomaly detection counts it."""

    roles: frozenset[str]
    counted_as: str | None
    prefix: str


_SUPPLIERS = frozenset({IMPORT_SUPPLIER, GAS_SUPPLIER})
# anomaly detection counts each SR once, as `SrSpec.counted` says (an 11.3's CV5, not its CV4)
_COUNTED = {spec.counted.key: variant for variant, spec in SR_SPECS.items()}
_ROLES = {"read_inventory": frozenset(ROLE_NAMES)}
_PREFIX = {"update_firmware": "E1101", "update_ppmid_firmware": "E1104"}
SR_RULES: dict[str, SrRule] = {
    key: SrRule(_ROLES.get(key, _SUPPLIERS), _COUNTED.get(key), _PREFIX.get(key, ""))
    for key in SR_TYPES}


@dataclass(frozen=True, slots=True)
class DeviceTypeRule:
    """Which roles are responsible for a device type and which firmware SRs reach it."""

    roles: frozenset[str]
    firmware_sr: str | None
    device_srs: frozenset[str]


def _device_rule(device_type: str, roles: frozenset[str]) -> DeviceTypeRule:
    """Which firmware SRs reach a device type, as `duis.codes.SR_SPECS` says."""
    reach = {v for v, spec in SR_SPECS.items() if device_type in spec.device_types}
    distribution = next((v for v in DISTRIBUTION_SRS if v in reach), None)
    return DeviceTypeRule(roles, distribution, frozenset(reach - set(DISTRIBUTION_SRS)))


# SMETS2 comms hubs (CHF, and the GPF on the hub, which 11.2 reads) are upgraded by the DCC,
# not the User; Type 2 devices (IHD, CAD) have no DCC firmware service.
DEVICE_RULES: dict[str, DeviceTypeRule] = {
    device_type: _device_rule(device_type, roles) for device_type, roles in (
        ("ESME", frozenset({IMPORT_SUPPLIER})), ("GSME", frozenset({GAS_SUPPLIER})),
        ("HCALCS", frozenset({IMPORT_SUPPLIER})), ("SAPC", frozenset({IMPORT_SUPPLIER})),
        ("PPMID", _SUPPLIERS), ("CHF", frozenset()), ("GPF", frozenset({GAS_SUPPLIER})),
        ("IHD", _SUPPLIERS), ("CAD", _SUPPLIERS))}
NO_RULE = DeviceTypeRule(frozenset(), None, frozenset())

# Minimum comms hub GBCS version for the hub to distribute firmware to these device types
# (inference: PPMID/HCALCS updates need CH firmware that supports them).
HUB_MIN_GBCS: dict[str, str] = {"PPMID": "3.2", "HCALCS": "3.2"}

# Device statuses each device SR accepts (11.2 may read a Suspended device).
DEVICE_SR_STATUSES: dict[str, frozenset[str]] = {
    "11.2": frozenset({"Commissioned", "Suspended"}),
    "11.3": frozenset({"Commissioned"}),
}
ACTIVATE_MESSAGE_CODE = 0x0012  # CS06 Activate Firmware (GBCS message code)
