"""Reads of a device's running firmware, and the facts they add to the device's history.

Pure Python. A `FirmwareRead` is one answer from the device (11.2) or the DCC (8.2); applying
it to the fleet's record gives the device as now known and the facts to record: the read
itself, and a drift finding when the read disagrees with what the fleet held and the
disagreement is not the step a campaign just made (the fleet's record is a belief).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from orchestrator.domain.fleet import Device, observe_firmware

FIRMWARE_READ, DRIFT = "firmware_read", "drift"


@dataclass(frozen=True, slots=True)
class FirmwareRead:
    """One read of a device's running firmware version.

    `entry`/`entry_hash` name the CPL entry when the read confirmed a campaign step;
    `expected` is a version a campaign step in flight explains (not drift).
    """

    device_id: str
    version: str
    observed_at: dt.datetime
    source: str = "11.2"
    entry: str = ""
    entry_hash: str = ""
    expected: str = ""
    campaign_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class FleetFact:
    """One entry of a device's history: a read applied, or a drift finding."""

    device_id: str
    name: str
    at: dt.datetime
    source: str
    data: dict[str, Any] = field(default_factory=dict)
    campaign_id: int | None = None
    message_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"device_id": self.device_id, "name": self.name, "at": self.at.isoformat(),
                "source": self.source, "campaign_id": self.campaign_id,
                "message_id": self.message_id, "data": self.data}


def observe_read(existing: Device, read: FirmwareRead, held_version: str
                 ) -> tuple[Device, list[FleetFact]]:
    """The device after the read, and the facts it adds (`held_version`: what the fleet
    believed it ran, "" when unknown).

    Raises ValueError (the reason) when the version is malformed.
    """
    updated = observe_firmware(existing, read.version, read.source, read.observed_at)
    if read.entry:
        updated = updated._replace(firmware_entry=read.entry,
                                   firmware_hash=read.entry_hash or updated.firmware_hash)
    updated = updated._replace(read_at=read.observed_at)
    return updated, read_facts(existing, updated, read, held_version)


def read_facts(before: Device | None, after: Device, read: FirmwareRead,
               held_version: str) -> list[FleetFact]:
    """The read as a history entry, and a drift finding when it contradicts the record."""
    data = {"version": after.firmware_version, "previous_version": held_version or None,
            "entry": after.firmware_entry or None, "hash": after.firmware_hash or None}
    facts = [_fact(read, FIRMWARE_READ, data)]
    if drifted(held_version, read.version, read.expected):
        facts.append(_fact(read, DRIFT, {
            "finding": "read_disagrees", "held_version": held_version, "read_version": after.firmware_version,
            "held_entry": (before.firmware_entry if before else "") or None,
            "held_source": before.source if before else None}))
    return facts


def drifted(held_version: str, read_version: str, expected: str = "") -> bool:
    """True when a read contradicts a known held version and no step in flight explains it."""
    read = read_version.strip().upper()
    return bool(held_version) and read not in {held_version.strip().upper(),
                                               expected.strip().upper()}


def mismatch_fact(device_id: str, version_smi: str, version_device: str, at: dt.datetime,
                  source: str, message_id: int | None = None) -> FleetFact:
    """The DCC's FirmwareVersionMismatch alert, a drift finding: device and SMI disagree."""
    return FleetFact(device_id, DRIFT, at, source,
                     {"finding": "FirmwareVersionMismatch", "version_smi": version_smi,
                      "version_device": version_device}, message_id=message_id)


def _fact(read: FirmwareRead, name: str, data: dict[str, Any]) -> FleetFact:
    return FleetFact(read.device_id, name, read.observed_at, read.source, data,
                     read.campaign_id, read.message_id)
