"""Canonical CPL and FIR columns and the header spellings each one accepts."""
from __future__ import annotations

import re
from dataclasses import dataclass


def normalise_header(text: str) -> str:
    """Lower-case a header and drop everything but letters and digits."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Column:
    """One canonical column: its field name, published header and accepted aliases."""

    field: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def spellings(self) -> set[str]:
        """Every normalised header text that means this column."""
        return {normalise_header(t) for t in (self.header, self.field, *self.aliases)}


@dataclass(frozen=True)
class TableSpec:
    """The columns of one table (CPL or FIR) and how to recognise its header row."""

    name: str
    columns: tuple[Column, ...]

    def lookup(self) -> dict[str, Column]:
        """Map each normalised header text to its column."""
        return {key: col for col in self.columns for key in col.spellings()}

    @property
    def required(self) -> tuple[Column, ...]:
        """Columns that must be present for a row to be recognised as the header."""
        return tuple(c for c in self.columns if c.required)


CPL = TableSpec("CPL", (
    Column("cpl_entry_id", "CPL Entry ID", ("CPL ID", "Entry ID", "CPL Entry", "CPL Ref",
                                            "CPL Reference", "CPL Entry Number"), True),
    Column("device_type", "Device Type", ("Type", "Device Class", "DUIS Device Type"), True),
    Column("manufacturer", "Manufacturer", ("Manufacturer ID", "Manufacturer Code",
                                            "Manufacturer Identifier"), True),
    Column("model", "Model", ("Model ID", "Model Identifier", "Device Model"), True),
    Column("hardware_version", "Hardware Version", ("HW Version", "Hardware Ver",
                                                    "Hardware Revision")),
    Column("firmware_version", "Firmware Version", ("FW Version", "Firmware Ver",
                                                    "Firmware Revision"), True),
    Column("image_hash", "Manufacturer Image Hash", ("Image Hash", "Firmware Hash",
                                                     "Hash", "SHA-256", "SHA256 Hash"), True),
    Column("gbcs_version", "GBCS Version", ("GBCS", "GBCS Ver")),
    Column("han_variant", "HAN Variant", ("HAN", "HAN Type")),
    Column("status", "Status", ("CPL Status", "Entry Status"), True),
))

FIR = TableSpec("FIR", (
    Column("cpl_entry_id", "CPL Entry ID", ("CPL ID", "Entry ID", "CPL Entry", "CPL Ref",
                                            "CPL Reference", "CPL Entry Number"), True),
    Column("contact_email", "Contact Email", ("Email", "E-mail", "Manufacturer Contact Email",
                                              "Contact E-mail", "Manufacturer Email")),
    Column("contact_telephone", "Contact Telephone", (
        "Telephone", "Phone", "Contact Phone", "Manufacturer Contact Telephone",
        "Telephone Number", "Contact Telephone Number")),
    Column("contact_address", "Contact Address", (
        "Address", "Business Address", "Manufacturer Contact Address",
        "Manufacturer Business Address", "Contact Business Address")),
    Column("release_notes", "Release Notes", ("Notes", "Release Note")),
    Column("predecessors", "Previous CPL Entry IDs", (
        "Previous CPL Entry ID", "Previous CPL Entry ID(s)", "Previous Entry IDs",
        "Previous Versions", "Previous Firmware Versions", "Permitted Previous Versions",
        "Predecessors", "Predecessor CPL Entry IDs", "Upgrade From",
        "CPL Entry IDs of previous firmware versions",
        "CPL Entry ID(s) of the previous firmware version(s)")),
    Column("zigbee_chipset_vendor", "ZigBee Chipset Vendor", ("Chipset Vendor",
                                                              "ZigBee Chipset")),
    Column("zigbee_stack_version", "ZigBee Stack Version", ("Stack Version",
                                                            "ZigBee Stack")),
    Column("zigbee_band_join_option", "ZigBee Band Join Option", ("Band Join Option",
                                                                  "ZigBee Band Join")),
))
