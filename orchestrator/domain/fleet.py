"""The fleet inventory: each device as last observed, and the rules that normalise its fields.

Pure Python. A `Device` is what the Supplier last knew about one meter (from an inventory
CSV, an 8.2 Read Inventory response or an 11.2 firmware read). Missing values are "".
`parse_row` turns one CSV record into a `Device` or the problems that reject it.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

DEVICE_TYPES: frozenset[str] = frozenset(
    {"ESME", "GSME", "CHF", "GPF", "HCALCS", "PPMID", "IHD", "CAD", "SAPC"})
SMI_STATUSES: tuple[str, ...] = (
    "Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned", "Decommissioned",
    "Withdrawn", "Suspended", "Recovery", "Recovered")
COMMISSIONED = "Commissioned"
CANONICAL_COLUMNS: tuple[str, ...] = (
    "device_id", "device_type", "manufacturer", "model", "hardware_version", "firmware_hash",
    "firmware_version", "status", "comms_hub_id", "comms_hub_gbcs_version", "han_variant")
REQUIRED_COLUMNS: tuple[str, ...] = ("device_id", "device_type", "manufacturer", "model",
                                     "status")
# HAN variants as written in the CPL, inventories and 8.2 responses, keyed without
# spaces, dashes or case.
HAN_VARIANTS: dict[str, str] = {"2.4ghz": "2.4GHz", "subghz": "Sub-GHz",
                                "dualband": "Dual Band"}

_EUI = re.compile(r"[0-9A-F]{2}(?:-[0-9A-F]{2}){7}")
_EUI_LOOSE = re.compile(r"[\s:\-]")
_HEX16 = re.compile(r"[0-9A-F]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_GBCS = re.compile(r"\d+(?:\.\d+)*")
_STATUSES = {s.lower(): s for s in SMI_STATUSES}


class Device(NamedTuple):
    """One device as last observed; `tags` are free (key, value) pairs, sorted by key.

    An immutable NamedTuple rather than a frozen dataclass: imports and plans build a million
    of these, and a frozen dataclass's __init__ costs five times as much.
    """

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    status: str
    hardware_version: str = ""
    firmware_hash: str = ""
    firmware_version: str = ""
    comms_hub_id: str = ""
    comms_hub_gbcs_version: str = ""
    han_variant: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    source: str = ""
    observed_at: dt.datetime | None = None
    firmware_entry: str = ""  # the CPL entry a verified read-back confirmed, if any
    read_at: dt.datetime | None = None  # when the running firmware was last read (11.2/8.2)

    def tag(self, key: str) -> str | None:
        """The value of one free tag, if the device has it."""
        for name, value in self.tags:
            if name == key:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of a device (as `fwo fleet show --json` prints it)."""
        data = {name: getattr(self, name) or None for name in CANONICAL_COLUMNS}
        data["tags"] = dict(self.tags)
        data["source"] = self.source
        data["observed_at"] = None if self.observed_at is None else self.observed_at.isoformat()
        data["firmware_entry"] = self.firmware_entry or None
        data["read_at"] = None if self.read_at is None else self.read_at.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class FleetProblem:
    """Why one value of one input row was rejected (line 1 is the CSV header)."""

    line: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"line": self.line, "column": self.column, "value": self.value,
                "reason": self.reason}


def device_id(text: str) -> str:
    """An EUI-64 as `XX-XX-XX-XX-XX-XX-XX-XX` upper-case (separators optional on input)."""
    if _EUI.fullmatch(text):
        return text
    value = text.strip().upper()
    if _EUI.fullmatch(value):
        return value
    bare = _EUI_LOOSE.sub("", value)
    if not _HEX16.fullmatch(bare):
        raise ValueError("not an EUI-64 (16 hexadecimal digits)")
    return "-".join(bare[i:i + 2] for i in range(0, 16, 2))


def firmware_hash(text: str) -> str:
    """A Manufacturer Image hash as 64 lower-case hex characters ("" when empty)."""
    value = _EUI_LOOSE.sub("", text).lower()
    value = value.removeprefix("0x")
    if value and not _HEX64.fullmatch(value):
        raise ValueError(f"not a SHA-256 hash (64 hexadecimal digits), got {len(value)} characters")
    return value


def device_type(text: str) -> str:
    """A DUIS device type code, any case."""
    value = text.strip().upper()
    if value not in DEVICE_TYPES:
        raise ValueError(f"unknown device type; expected one of {', '.join(sorted(DEVICE_TYPES))}")
    return value


def smi_status(text: str) -> str:
    """An SMI device status, any case."""
    found = _STATUSES.get(text.strip().lower())
    if found is None:
        raise ValueError(f"unknown SMI status; expected one of {', '.join(SMI_STATUSES)}")
    return found


def code(text: str) -> str:
    """A manufacturer, model or hardware code: upper-case when hexadecimal (as the CPL)."""
    value = text.strip()
    return value.upper() if _HEX.fullmatch(value) else value


def required_code(text: str) -> str:
    """A code that must be present."""
    value = code(text)
    if not value:
        raise ValueError("empty")
    return value


def firmware_version(text: str) -> str:
    """A firmware version (1-8 characters in DUIS; kept up to 64), upper-case when hex."""
    value = code(text)
    if len(value) > 64 or any(c.isspace() for c in value):
        raise ValueError("firmware version has spaces or is longer than 64 characters")
    return value


def optional_device_id(text: str) -> str:
    """An EUI-64, or "" when empty."""
    if _EUI.fullmatch(text):
        return text
    return device_id(text) if text.strip() else ""


def gbcs_version(text: str) -> str:
    """A GBCS version such as `4.2`, or "" when empty."""
    value = text.strip()
    if value and not _GBCS.fullmatch(value):
        raise ValueError("not a GBCS version such as 4.2")
    return value


def han_variant(text: str) -> str:
    """A HAN variant, canonical when known (2.4GHz, Sub-GHz, Dual Band), else as written."""
    value = text.strip()
    return HAN_VARIANTS.get(re.sub(r"[\s\-_–]", "", value).lower(), value)


NORMALISERS: dict[str, Callable[[str], str]] = {
    "device_id": device_id, "device_type": device_type, "manufacturer": required_code,
    "model": required_code, "hardware_version": code, "firmware_hash": firmware_hash,
    "firmware_version": firmware_version, "status": smi_status,
    "comms_hub_id": optional_device_id, "comms_hub_gbcs_version": gbcs_version,
    "han_variant": han_variant,
}
# Columns whose values repeat across a fleet: normalised once per distinct raw value.
_MEMOISED = frozenset(NORMALISERS) - {"device_id", "comms_hub_id"}


def column_name(header: str) -> str:
    """A header cell as a column key: trimmed, lower-case, spaces and dashes as `_`."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


# Device's positional field order for the canonical columns.
_SLOTS = ("device_id", "device_type", "manufacturer", "model", "status", "hardware_version",
          "firmware_hash", "firmware_version", "comms_hub_id", "comms_hub_gbcs_version",
          "han_variant")


_EUI_SLOTS = {"device_id": 0, "comms_hub_id": 8}
_Problem = tuple[str, str, str]  # column, raw value, reason


class RowParser:
    """Turns CSV records into Devices.

    The repeating columns (type, model, hash, status, hub facts...) of a row form a profile
    that is normalised once per distinct raw profile, so a row mostly costs look-ups.
    """

    def __init__(self, header: Sequence[str], source: str, observed_at: dt.datetime):
        self.columns = [column_name(h) for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in self.columns]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
        self.source, self.observed_at = source, observed_at
        self._profile_columns = [(i, c) for i, c in enumerate(self.columns)
                                 if c in _MEMOISED]
        self._eui_columns = [(i, c) for i, c in enumerate(self.columns) if c in _EUI_SLOTS]
        self._tags = [(i, c) for i, c in enumerate(self.columns)
                      if c not in NORMALISERS and c]
        self._profiles: dict[tuple[str, ...], tuple[str, ...] | list[_Problem]] = {}
        self._tag_memo: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        self._profile_key = _picker([i for i, _ in self._profile_columns])
        self._tag_key = _picker([i for i, _ in self._tags])

    def parse(self, line: int, row: Sequence[str]) -> Device | list[FleetProblem]:
        """One record as a Device, or every problem found in it."""
        if len(row) != len(self.columns):
            return [FleetProblem(line, "", "", f"{len(row)} fields, the header has "
                                 f"{len(self.columns)}")]
        key = self._profile_key(row)
        p = self._profiles.get(key)
        if p is None:
            p = self._profiles[key] = self._profile(key)
        problems = [] if isinstance(p, tuple) else list(p)
        euis = ["", ""]
        for index, column in self._eui_columns:
            try:
                euis[_EUI_SLOTS[column] // 8] = NORMALISERS[column](row[index])
            except ValueError as err:
                problems.insert(0 if column == "device_id" else len(problems),
                                (column, row[index], str(err)))
        if problems or not isinstance(p, tuple):
            return [FleetProblem(line, *problem) for problem in problems]
        return Device(euis[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], euis[1], p[9], p[10],
                      self._tag_values(row), self.source, self.observed_at)

    def _profile(self, raw: tuple[str, ...]) -> tuple[str, ...] | list[_Problem]:
        out = [""] * len(_SLOTS)
        problems: list[_Problem] = []
        for (_, column), value in zip(self._profile_columns, raw):
            try:
                out[_SLOTS.index(column)] = NORMALISERS[column](value)
            except ValueError as err:
                problems.append((column, value, str(err)))
        return problems or tuple(out)

    def _tag_values(self, row: Sequence[str]) -> tuple[tuple[str, str], ...]:
        raw = self._tag_key(row)
        found = self._tag_memo.get(raw)
        if found is None:
            found = tuple(sorted((c, row[i].strip()) for i, c in self._tags if row[i].strip()))
            self._tag_memo[raw] = found
        return found


def _picker(indexes: list[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """A fast `row -> tuple of these cells` (operator.itemgetter returns a bare cell for one)."""
    if len(indexes) >= 2:
        return operator.itemgetter(*indexes)
    return lambda row: tuple(row[i] for i in indexes)


@dataclass(frozen=True, slots=True)
class InventoryObservation:
    """One device of an 8.2 Read Inventory response, fields as the DSP reported them."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    status: str = ""
    firmware_version: str = ""
    gbcs_version: str = ""
    han_variant: str = ""


def observe_inventory(existing: Device | None, seen: InventoryObservation,
                      hub: InventoryObservation | None, source: str,
                      observed_at: dt.datetime) -> Device:
    """The device after an 8.2 observation; `hub` is the premises' CHF in the same response.

    Raises ValueError (the reason) when a value is malformed or a new device has no status.
    """
    fields: dict[str, Any] = {
        "device_type": device_type(seen.device_type),
        "manufacturer": required_code(seen.manufacturer), "model": required_code(seen.model),
        "source": source, "observed_at": observed_at}
    if seen.status:
        fields["status"] = smi_status(seen.status)
    elif existing is None:
        raise ValueError("no SMI status for a device not yet in the fleet")
    if hub is not None:  # what the answer does not say about the hub is kept
        fields["comms_hub_id"] = device_id(hub.device_id)
        if hub.gbcs_version:
            fields["comms_hub_gbcs_version"] = gbcs_version(hub.gbcs_version)
        if hub.han_variant:
            fields["han_variant"] = han_variant(hub.han_variant)
    base = existing or Device(device_id(seen.device_id), "", "", "", "")
    updated = base._replace(**fields)
    if seen.firmware_version:
        updated = _with_version(updated, firmware_version(seen.firmware_version))
    return updated


def observe_firmware(existing: Device, version_or_hash: str, source: str,
                     observed_at: dt.datetime) -> Device:
    """The device after an 11.2 read (a version) or an image verification (a 64-hex hash).

    A new version clears a hash that no longer matches, and a new hash clears the version:
    the planner never identifies a device by a stale value.
    """
    text = version_or_hash.strip()
    if _HEX64.fullmatch(_EUI_LOOSE.sub("", text).lower()):
        new_hash = firmware_hash(text)
        same = new_hash == existing.firmware_hash
        return existing._replace(firmware_hash=new_hash, source=source, observed_at=observed_at,
                                 firmware_version=existing.firmware_version if same else "",
                                 firmware_entry=existing.firmware_entry if same else "")
    if not text:
        raise ValueError("empty firmware version")
    updated = existing._replace(source=source, observed_at=observed_at)
    return _with_version(updated, firmware_version(text))


def _with_version(device: Device, version: str) -> Device:
    same = device.firmware_version.upper() == version.upper()
    return device._replace(firmware_version=version,
                           firmware_hash=device.firmware_hash if same else "",
                           firmware_entry=device.firmware_entry if same else "")


def newer(existing: Device | None, observed_at: dt.datetime) -> bool:
    """True when an observation at `observed_at` is not older than what is stored."""
    return (existing is None or existing.observed_at is None
            or existing.observed_at <= observed_at)


# Comms hub compatibility. Bands an image can join, by the FIR ZigBee band join option
# (keyed without spaces, dashes, dots or case); without one, by the entry's CPL HAN variant.
# "Multi MAC Selection" devices can join either band (Manual needs the band set at install,
# which the hub's band decides). A hub offers the bands of its HAN variant.
BAND_24, BAND_SUB = "2.4GHz", "Sub-GHz"
JOIN_OPTION_BANDS: dict[str, frozenset[str]] = {
    "24ghzonly": frozenset({BAND_24}), "subghzonly": frozenset({BAND_SUB}),
    "multimacselectionauto": frozenset({BAND_24, BAND_SUB}),
    "multimacselectionmanual": frozenset({BAND_24, BAND_SUB}),
    "multimacselectioneither": frozenset({BAND_24, BAND_SUB}),
    "dualband": frozenset({BAND_24, BAND_SUB}),
}
HAN_VARIANT_BANDS: dict[str, frozenset[str]] = {
    "2.4GHz": frozenset({BAND_24}), "Sub-GHz": frozenset({BAND_SUB}),
    "Dual Band": frozenset({BAND_24, BAND_SUB}),
}


@functools.cache
def image_bands(join_option: str, cpl_han_variant: str) -> frozenset[str] | None:
    """The bands an image can join, or None when neither the FIR nor the CPL says."""
    found = JOIN_OPTION_BANDS.get(re.sub(r"[\s\-_–.]", "", join_option).lower())
    return found if found is not None else HAN_VARIANT_BANDS.get(han_variant(cpl_han_variant))


@functools.cache
def hub_bands(hub_han_variant: str) -> frozenset[str] | None:
    """The bands a comms hub offers, or None when its HAN variant is unknown."""
    return HAN_VARIANT_BANDS.get(han_variant(hub_han_variant))


@functools.cache
def gbcs_key(version: str) -> tuple[int, ...] | None:
    """A GBCS version as comparable numbers (`4.2` -> (4, 2)), None when not one."""
    return tuple(int(p) for p in version.split(".")) if _GBCS.fullmatch(version) else None
