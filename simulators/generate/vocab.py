"""Fixed vocabularies the generator draws from: device types, versions, contacts, phrases.

Everything here is data, not logic. Names, addresses and telephone numbers are fictional;
the telephone numbers sit in Ofcom's ranges reserved for drama, so none can ring anyone.
"""
from __future__ import annotations

from dataclasses import dataclass

GENERATOR_VERSION = "1.0.0"
FIRST_ENTRY_ID = 10001


@dataclass(frozen=True, slots=True)
class DeviceTypeProfile:
    """How common a device type is on the CPL and in a fleet, and which HAN variants it has."""

    cpl_weight: int
    fleet_weight: int
    han_variants: tuple[tuple[str, int], ...]


_METER_HAN = (("2.4GHz", 70), ("Sub-GHz", 10), ("Dual Band", 20))

DEVICE_TYPES: dict[str, DeviceTypeProfile] = {
    "ESME": DeviceTypeProfile(34, 40, _METER_HAN),
    "GSME": DeviceTypeProfile(28, 30, _METER_HAN),
    "CHF": DeviceTypeProfile(10, 6, (("2.4GHz", 65), ("Dual Band", 35))),
    "GPF": DeviceTypeProfile(6, 5, (("2.4GHz", 75), ("Dual Band", 25))),
    "HCALCS": DeviceTypeProfile(5, 2, _METER_HAN),
    "PPMID": DeviceTypeProfile(7, 6, _METER_HAN),
    "IHD": DeviceTypeProfile(8, 10, _METER_HAN),
    "CAD": DeviceTypeProfile(2, 1, _METER_HAN),
}

# ZigBee band join option by (is comms hub, HAN variant); a list means "pick one".
BAND_JOIN_OPTIONS: dict[tuple[bool, str], tuple[str, ...]] = {
    (False, "2.4GHz"): ("2.4 GHz Only",),
    (False, "Sub-GHz"): ("Sub-GHz Only",),
    (False, "Dual Band"): (
        "Multi MAC Selection – Auto",
        "Multi MAC Selection – Manual",
        "Multi MAC Selection – Either",
    ),
    (True, "2.4GHz"): ("2.4 GHz Only",),
    (True, "Dual Band"): ("Dual Band",),
}

GBCS_VERSIONS = ("2.0", "3.0", "3.1", "3.2", "4.0", "4.1", "4.2")
GBCS_START_WEIGHTS = (10, 8, 6, 12, 6, 4, 3)
HARDWARE_VERSIONS = ("0100", "0101", "0102", "0200", "0201", "0300")

CPL_STATUSES = ("Active", "Withdrawn", "Cancelled", "Expired")
DEVICE_STATUSES = ("Commissioned", "InstalledNotCommissioned", "Suspended", "Decommissioned")
DEVICE_STATUS_WEIGHTS = (92, 3, 3, 2)

# (vendor, stack versions oldest first)
ZIGBEE_STACKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Silicon Labs", ("EmberZNet 5.7.4", "EmberZNet 6.0.2", "EmberZNet 6.7.8",
                      "EmberZNet 6.10.3", "EmberZNet 7.2.1", "EmberZNet 7.4.0")),
    ("NXP", ("JN516x ZigBee PRO 1.3", "JN516x ZigBee PRO 1.4", "JN5189 SDK 2.6.3",
             "JN5189 SDK 2.6.11")),
    ("Texas Instruments", ("Z-Stack 1.2.2a", "Z-Stack 3.0.2", "SimpleLink Z-Stack 6.10",
                           "SimpleLink Z-Stack 7.10")),
)

# Real-looking ZigBee manufacturer codes come first (both appear in public DCC samples).
KNOWN_MANUFACTURER_CODES = ("106C", "121D")

NAME_STEMS = (
    "Aldmere", "Brackenford", "Caldervale", "Dunmore", "Elstree", "Fernhollow", "Glenarrow",
    "Harrowgate", "Ivybridge", "Kestrel", "Larchwood", "Marston", "Northwold", "Oakhampton",
    "Pennine", "Quayside", "Redmarsh", "Severnside", "Thornbury", "Ulverdale", "Wexcombe",
    "Yarrowby", "Ashcombe", "Blackwater", "Corrieburn", "Dovedale", "Eskmouth", "Foxley",
    "Greystoke", "Hollins", "Kinloss", "Lyndale",
)
NAME_SUFFIXES = ("Metering", "Smart Energy", "Meter Systems", "Instruments", "Energy Devices")

# (city, postcode area, telephone number stem in +44 form from Ofcom's drama ranges)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("London", "EC1V", "+44 20 7946 0"),
    ("Manchester", "M17", "+44 161 496 0"),
    ("Birmingham", "B7", "+44 121 496 0"),
    ("Leeds", "LS11", "+44 113 496 0"),
    ("Bristol", "BS1", "+44 117 496 0"),
    ("Edinburgh", "EH6", "+44 131 496 0"),
    ("Glasgow", "G51", "+44 141 496 0"),
    ("Cardiff", "CF10", "+44 29 2018 0"),
    ("Nottingham", "NG2", "+44 115 496 0"),
    ("Reading", "RG2", "+44 118 496 0"),
    ("Sheffield", "S9", "+44 114 496 0"),
    ("Newcastle upon Tyne", "NE4", "+44 191 498 0"),
)
STREETS = (
    "Riverside Business Park", "Enterprise Way", "Innovation Court", "Station Road",
    "Canal Wharf", "Meridian Park", "Harbour Exchange", "Kingsway Trading Estate",
)
EMAIL_LOCAL_PARTS = ("firmware", "smartmetering.support", "fw-releases", "sec.firmware")

RELEASE_FIXES = (
    "Fixes tariff switching at midnight on the last day of the month",
    "Corrects rounding of the cumulative import register",
    "Resolves HAN rejoin failure after a comms hub power cycle",
    "Fixes display of debt recovery rate on the PPMID",
    "Corrects the valve state reported after an emergency credit top-up",
    "Resolves intermittent loss of time synchronisation",
    "Fixes an alert storm when the supply is interrupted repeatedly",
    "Corrects half-hourly profile data around the BST clock change",
    "Resolves a memory leak in the GBCS command handler",
    "Fixes the load limit counter not resetting",
)
RELEASE_FEATURES = (
    "Adds support for GBCS {gbcs} use cases",
    "Improves ZigBee join reliability on congested HANs",
    "Reduces battery consumption in gas meter sleep mode",
    "Updates the ZigBee stack to {stack}",
    "Adds secure logging of failed authentication attempts",
    "Improves OTA image transfer resumption",
    "Hardens certificate validation during key updates",
)
LEGACY_NOTES = (
    "Initial release.",
    "Production release. Details held by the manufacturer.",
    "Maintenance release.",
)

GB_REGIONS = (
    "Eastern", "East Midlands", "London", "Merseyside and North Wales", "Midlands",
    "Northern", "North Western", "Southern", "South Eastern", "South Wales", "South Western",
    "Yorkshire", "South Scotland", "North Scotland",
)
GB_REGION_WEIGHTS = (10, 8, 12, 5, 9, 5, 8, 9, 7, 4, 6, 8, 5, 4)
TARIFFS = ("Standard Credit", "Prepayment", "Economy 7", "Smart Time of Use", "Fixed")
TARIFF_WEIGHTS = (50, 18, 12, 8, 12)
