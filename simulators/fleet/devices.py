"""The simulated fleet: every device's SMI facts and its firmware state, in column arrays.

100,000 devices fit in a few tens of MB: one Python string per device ID, small-int columns
(`array`) for type, model, status, running CPL entry, comms hub and owner, and dictionaries
only for the few devices with something unusual (unknown firmware, a held image, a pending
activation, offline). Positions (`int`) are the handles the DSP and device logic use.
"""
from __future__ import annotations

import csv
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from duis.requestid import normalize_eui
from simulators import ConfigurationError, UnknownDeviceError
from simulators.fleet.catalogue import FirmwareCatalogue

COMMISSIONED, SUSPENDED = "Commissioned", "Suspended"
DEFAULT_PARTY = "supplier"
BRICKED, HELD_OFFLINE = 1, 2
FLEET_COLUMNS = ("device_id", "device_type", "manufacturer", "model", "hardware_version",
                 "firmware_hash", "firmware_version", "status", "comms_hub_id",
                 "comms_hub_gbcs_version")
T = TypeVar("T")


class Interner(Generic[T]):
    """Small integer codes for repeated values (device types, models, statuses, hubs)."""

    def __init__(self) -> None:
        self.values: list[T] = []
        self._codes: dict[T, int] = {}

    def code(self, value: T) -> int:
        """The code of `value`, assigning the next one if new."""
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass(frozen=True, slots=True)
class HeldImage:
    """An image a device verified and holds, awaiting activation."""

    image_hash: str
    firmware_version: str


@dataclass(frozen=True, slots=True)
class PendingActivation:
    """A future-dated activation the device will run at `at`."""

    image_hash: str
    at: datetime
    request_id: str


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A snapshot of one device, for people and tests."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    hardware_version: str
    status: str
    running_entry: str | None
    running_hash: str
    running_version: str
    comms_hub_id: str
    comms_hub_gbcs_version: str
    party: str
    bricked: bool
    offline: bool
    held_hash: str | None
    pending_activation: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = {name: getattr(self, name) for name in self.__slots__}
        at = self.pending_activation
        data["pending_activation"] = at.isoformat() if at else None
        return data


class Fleet:
    """Devices by position; look positions up with `index(device_id)`."""

    def __init__(self, catalogue: FirmwareCatalogue) -> None:
        self.catalogue = catalogue
        self.ids: list[str] = []
        self._index: dict[str, int] = {}
        self.types, self.models = Interner[str](), Interner[tuple[str, str, str]]()
        self.statuses, self.hubs = Interner[str](), Interner[tuple[str, str]]()
        self.parties = Interner[str]()
        self.parties.code(DEFAULT_PARTY)
        self._type, self._model, self._status = array("B"), array("I"), array("B")
        self._running, self._hub, self._party = array("i"), array("i"), array("B")
        self._flags = bytearray()
        self.unknown_firmware: dict[int, tuple[str, str]] = {}
        self.held: dict[int, HeldImage] = {}
        self.pending: dict[int, PendingActivation] = {}
        self.offline_until: dict[int, datetime] = {}
        self.order_insensitive: set[tuple[str, str]] = set()
        self._premises: dict[int, list[int]] | None = None  # hub code -> devices, built lazily

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[str]], catalogue: FirmwareCatalogue) -> Fleet:
        """Build from rows in fleet.csv column order (extra trailing columns are ignored)."""
        fleet = cls(catalogue)
        for row in rows:
            fleet.add(*row[: len(FLEET_COLUMNS)])
        return fleet

    @classmethod
    def load_csv(cls, path: Path, catalogue: FirmwareCatalogue) -> Fleet:
        """Read a generated fleet.csv."""
        try:
            with Path(path).open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader, [])
                columns = [header.index(name) for name in FLEET_COLUMNS]
                return cls.from_rows(([r[c] for c in columns] for r in reader), catalogue)
        except (OSError, ValueError, IndexError) as err:
            raise ConfigurationError(f"cannot read fleet file {path}: {err}") from err

    def add(self, device_id: str, device_type: str, manufacturer: str, model: str,
            hardware_version: str, firmware_hash: str, firmware_version: str, status: str,
            comms_hub_id: str, comms_hub_gbcs_version: str) -> int:
        """Add one device; return its position."""
        key = normalize_eui(device_id)
        if key in self._index:
            raise ConfigurationError(f"device {key} appears twice in the fleet")
        i = self._index[key] = len(self.ids)
        self.ids.append(key)
        model_key = (manufacturer.upper(), model.upper(), hardware_version.upper())
        self._type.append(self.types.code(device_type.upper()))
        self._model.append(self.models.code(model_key))
        self._status.append(self.statuses.code(status))
        self._hub.append(self.hubs.code((normalize_eui(comms_hub_id), comms_hub_gbcs_version)))
        self._premises = None
        self._party.append(0)
        self._flags.append(0)
        entry = self.catalogue.find(firmware_hash, model_key[0], model_key[1])
        self._running.append(-1 if entry is None else entry)
        if entry is None:
            self.unknown_firmware[i] = (firmware_hash.lower(), firmware_version.upper())
        return i

    # ---- lookup --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, device_id: object) -> bool:
        return isinstance(device_id, str) and self.position(device_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def position(self, device_id: str) -> int | None:
        """The position of a device, or None when the fleet does not hold it."""
        found = self._index.get(device_id)
        if found is None:
            try:
                found = self._index.get(normalize_eui(device_id))
            except ValueError:
                return None
        return found

    def index(self, device_id: str) -> int:
        """The position of a device, or UnknownDeviceError."""
        found = self.position(device_id)
        if found is None:
            raise UnknownDeviceError(f"device {device_id} is not in the simulated fleet")
        return found

    # ---- per-device facts (by position) --------------------------------------------------
    def device_type(self, i: int) -> str:
        """DUIS device type (ESME, GSME, ...)."""
        return self.types.values[self._type[i]]

    def codes(self, i: int) -> tuple[int, int, int, int, int]:
        """Small-int codes of (type, model, status, hub, party), for per-batch memos."""
        return (self._type[i], self._model[i], self._status[i], self._hub[i], self._party[i])

    def model_code(self, i: int) -> int:
        """Small-int code of the device's (manufacturer, model, hardware) in `models`."""
        return self._model[i]

    def model_of(self, i: int) -> tuple[str, str, str]:
        """(manufacturer, model, hardware version)."""
        return self.models.values[self._model[i]]

    def status(self, i: int) -> str:
        """SMI status."""
        return self.statuses.values[self._status[i]]

    def hub(self, i: int) -> tuple[str, str]:
        """(comms hub ID, comms hub GBCS version)."""
        return self.hubs.values[self._hub[i]]

    def premises(self, i: int) -> list[int]:
        """Every device on device `i`'s comms hub (itself first), as the DCC inventory has it."""
        if self._premises is None:
            index: dict[int, list[int]] = {}
            for j, hub in enumerate(self._hub):
                index.setdefault(hub, []).append(j)
            self._premises = index
        hub_id, _ = self.hub(i)
        others = self._premises.get(self._hub[i], []) if hub_id else []
        return [i, *(j for j in others if j != i)]

    def party(self, i: int) -> str:
        """The supplier party responsible for the device."""
        return self.parties.values[self._party[i]]

    def running(self, i: int) -> int:
        """Position of the running CPL entry in the catalogue, or -1 (unknown firmware)."""
        return self._running[i]

    def running_hash(self, i: int) -> str:
        """Hash of the running Manufacturer Image."""
        entry = self._running[i]
        if entry < 0:
            return self.unknown_firmware[i][0]
        return self.catalogue.entries[entry].image_hash

    def running_version(self, i: int) -> str:
        """Running firmware version (as 11.2 reports it)."""
        entry = self._running[i]
        if entry < 0:
            return self.unknown_firmware[i][1]
        return self.catalogue.entries[entry].firmware_version

    def is_bricked(self, i: int) -> bool:
        """Whether an out-of-order activation killed the device."""
        return bool(self._flags[i] & BRICKED)

    def is_offline(self, i: int, now: datetime) -> bool:
        """Whether the device is unreachable now (held offline, or offline for a while)."""
        if self._flags[i] & HELD_OFFLINE:
            return True
        until = self.offline_until.get(i)
        return until is not None and now < until

    def order_sensitive(self, i: int) -> bool:
        """Whether out-of-order activations brick this device's model."""
        manufacturer, model, _ = self.model_of(i)
        return (manufacturer, model) not in self.order_insensitive

    # ---- changes -------------------------------------------------------------------------
    def set_running(self, i: int, entry: int) -> None:
        """Put the device on catalogue entry `entry`."""
        self._running[i] = entry
        self.unknown_firmware.pop(i, None)

    def set_status(self, i: int, status: str) -> None:
        """Change the SMI status."""
        self._status[i] = self.statuses.code(status)

    def set_hub(self, i: int, hub_id: str, gbcs_version: str) -> None:
        """Attach the device to a comms hub with this GBCS version."""
        self._hub[i] = self.hubs.code((normalize_eui(hub_id), gbcs_version))
        self._premises = None

    def set_party(self, i: int, party: str) -> None:
        """Make another supplier party responsible for the device."""
        self._party[i] = self.parties.code(party)

    def set_flag(self, i: int, flag: int, on: bool) -> None:
        """Set or clear BRICKED / HELD_OFFLINE."""
        self._flags[i] = self._flags[i] | flag if on else self._flags[i] & ~flag

    def brick(self, i: int) -> None:
        """The device stops answering for good; it forgets any held image."""
        self.set_flag(i, BRICKED, True)
        self.held.pop(i, None)
        self.pending.pop(i, None)

    # ---- truth queries -------------------------------------------------------------------
    def bricked(self) -> list[str]:
        """IDs of every bricked device (tests assert this is empty)."""
        return [self.ids[i] for i, flags in enumerate(self._flags) if flags & BRICKED]

    def running_entry(self, device_id: str) -> str | None:
        """The CPL Entry ID the device runs, or None when its image is on no entry."""
        entry = self._running[self.index(device_id)]
        return None if entry < 0 else self.catalogue.entries[entry].cpl_entry_id

    def view(self, device_id: str, now: datetime) -> DeviceView:
        """A snapshot of one device."""
        i = self.index(device_id)
        manufacturer, model, hardware = self.model_of(i)
        hub_id, hub_gbcs = self.hub(i)
        held, pending = self.held.get(i), self.pending.get(i)
        return DeviceView(
            self.ids[i], self.device_type(i), manufacturer, model, hardware, self.status(i),
            self.running_entry(self.ids[i]), self.running_hash(i), self.running_version(i),
            hub_id, hub_gbcs, self.party(i), self.is_bricked(i), self.is_offline(i, now),
            held.image_hash if held else None, pending.at if pending else None,
        )
