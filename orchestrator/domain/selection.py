"""Device selection: `key=value` filters (comma-separated or repeated values mean OR, keys AND).

Pure Python. Keys are device columns (`device_type`, `manufacturer`, `model`, `status`,
`device_id`, ...), `current_entry` (the CPL entry the planner identifies), `firmware_version`
(the device's or its current entry's version) or a free tag written `tag:NAME`
(`tag:region=north`); any other key is refused, naming the known ones, so a mistyped key is
never taken for a tag. Values are normalised like the inventory, so
`device_id=00db1234567890a0` matches; tag values match ignoring case.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from orchestrator.domain import fleet
from orchestrator.domain.fleet import Device

ALIASES = {"type": "device_type", "id": "device_id", "devices": "device_id",
           "entry": "current_entry", "version": "firmware_version", "hash": "firmware_hash",
           "hub": "comms_hub_id", "smi_status": "status"}
COLUMN_KEYS: dict[str, Callable[[str], str]] = {
    "device_id": fleet.device_id, "device_type": fleet.device_type,
    "manufacturer": fleet.required_code, "model": fleet.required_code,
    "hardware_version": fleet.code, "firmware_hash": fleet.firmware_hash,
    "status": fleet.smi_status, "comms_hub_id": fleet.device_id,
    "comms_hub_gbcs_version": fleet.gbcs_version, "han_variant": fleet.han_variant,
}
CURRENT_ENTRY, FIRMWARE_VERSION = "current_entry", "firmware_version"
TAG = "tag:"
KNOWN_KEYS = (*COLUMN_KEYS, CURRENT_ENTRY, FIRMWARE_VERSION)


@dataclass(frozen=True)
class Selection:
    """AND of per-key filters; each filter is an OR of normalised values."""

    filters: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Selection:
        """Parse `key=value[,value...]` specs; raise ValueError naming the bad one."""
        merged: dict[str, set[str]] = {}
        for spec in specs:
            key, sep, raw = spec.partition("=")
            values = [v.strip() for v in raw.split(",") if v.strip()]
            if not sep or not key.strip() or not values:
                raise ValueError(f"--select {spec!r}: expected key=value[,value...]")
            key = _key(key, spec)
            found = {_normalise(key, v, spec) for v in values}
            merged.setdefault(key, set()).update(found)
        return cls(tuple(sorted((k, frozenset(v)) for k, v in merged.items())))

    @property
    def empty(self) -> bool:
        """True when every device is selected."""
        return not self.filters

    @property
    def needs_catalogue(self) -> bool:
        """True when a filter asks about the identified current entry or its version."""
        return any(k in (CURRENT_ENTRY, FIRMWARE_VERSION) for k, _ in self.filters)

    def column_filters(self) -> dict[str, frozenset[str]]:
        """Filters on stored device columns, which a repository can push into its query."""
        return {k: v for k, v in self.filters if k in COLUMN_KEYS}

    def matches(self, device: Device, current_entry: str | None = None,
                current_version: str | None = None) -> bool:
        """True when the device passes every filter (`current_*` from the planner)."""
        for key, wanted in self.filters:
            if key in COLUMN_KEYS:
                ok = getattr(device, key) in wanted
            elif key == CURRENT_ENTRY:
                ok = current_entry in wanted
            elif key == FIRMWARE_VERSION:
                ok = (device.firmware_version.upper() in wanted
                      or (current_version or "").upper() in wanted)
            else:
                value = device.tag(key.removeprefix(TAG))
                ok = value is not None and value.casefold() in wanted
            if not ok:
                return False
        return True

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-ready: `{key: [values]}`."""
        return {k: sorted(v) for k, v in self.filters}


def _key(text: str, spec: str) -> str:
    """A known key (aliases resolved) or `tag:NAME`; ValueError naming the known keys."""
    text = text.strip()
    if text[:len(TAG)].lower() == TAG:
        name = fleet.column_name(text[len(TAG):])
        if not name:
            raise ValueError(f"--select {spec!r}: a tag filter is tag:NAME=value")
        return TAG + name
    key = fleet.column_name(text)
    key = ALIASES.get(key, key)
    if key not in KNOWN_KEYS:
        raise ValueError(f"--select {spec!r}: unknown key {text!r}; known: "
                         f"{', '.join(KNOWN_KEYS)}, or tag:NAME for a tag")
    return key


def _normalise(key: str, value: str, spec: str) -> str:
    if key in COLUMN_KEYS:
        try:
            return COLUMN_KEYS[key](value)
        except ValueError as err:
            raise ValueError(f"--select {spec!r}: {value!r}: {err}") from err
    if key == FIRMWARE_VERSION:
        return value.upper()
    if key == CURRENT_ENTRY:
        return value
    return value.casefold()


def selection_of(data: Mapping[str, Iterable[str]]) -> Selection:
    """A selection from its `to_dict()` form."""
    return Selection.parse(f"{k}={','.join(v)}" for k, v in data.items())
