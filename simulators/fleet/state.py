"""Engineer edits to the simulated fleet, persisted as JSON next to the generated data.

`fwo sim fleet ...` writes `fleet_state.json` in the catalogue directory; the DSP service and
`build_simulation` apply it on top of fleet.csv, so edits survive between commands:

```json
{"version": 1,
 "devices": {"00-DB-12-34-56-78-90-A0": {"running_entry": "10005", "offline": true,
                                        "status": "Suspended", "party": "rival",
                                        "bricked": false}},
 "models": {"106C/433100AC": {"order_sensitive": false}}}
```
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duis.requestid import normalize_eui
from simulators import ConfigurationError, FleetStateError, UnknownDeviceError
from simulators.fleet.devices import BRICKED, HELD_OFFLINE, Fleet

STATE_FILE = "fleet_state.json"
STATE_VERSION = 1


def _running(fleet: Fleet, i: int, value: Any) -> None:
    entry = fleet.catalogue.index_of(str(value))
    found = fleet.catalogue.entries[entry]
    manufacturer, model, _ = fleet.model_of(i)
    if found.model_key != (manufacturer, model):
        raise FleetStateError(f"CPL entry {value} is for {found.manufacturer}/{found.model}, "
                              f"not the device's model {manufacturer}/{model}")
    fleet.set_running(i, entry)


DEVICE_FIELDS: dict[str, Callable[[Fleet, int, Any], None]] = {
    "running_entry": _running,
    "offline": lambda fleet, i, v: fleet.set_flag(i, HELD_OFFLINE, bool(v)),
    "bricked": lambda fleet, i, v: fleet.set_flag(i, BRICKED, bool(v)),
    "status": lambda fleet, i, v: fleet.set_status(i, str(v)),
    "party": lambda fleet, i, v: fleet.set_party(i, str(v)),
}


def model_key(manufacturer: str, model: str) -> str:
    """`MANUFACTURER/MODEL` as the state file names a model."""
    return f"{manufacturer.strip().upper()}/{model.strip().upper()}"


@dataclass
class FleetState:
    """Per-device and per-model edits."""

    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set_device(self, device_id: str, **values: Any) -> None:
        """Record edits of one device (field names as DEVICE_FIELDS)."""
        unknown = set(values) - set(DEVICE_FIELDS)
        if unknown:
            raise ConfigurationError(f"cannot edit {', '.join(sorted(unknown))} of a device")
        self.devices.setdefault(normalize_eui(device_id), {}).update(values)

    def set_order_sensitive(self, manufacturer: str, model: str, sensitive: bool) -> None:
        """Record whether a model bricks on out-of-order activations."""
        self.models.setdefault(model_key(manufacturer, model), {})["order_sensitive"] = sensitive

    def to_json(self) -> str:
        """The file content."""
        data = {"version": STATE_VERSION, "devices": self.devices, "models": self.models}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load_state(path: Path) -> FleetState:
    """The edits in `path` (none when the file does not exist)."""
    if not path.exists():
        return FleetState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FleetStateError(f"cannot read fleet state {path}: {err}") from err
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise FleetStateError(f"{path} is not a version {STATE_VERSION} fleet state file")
    return FleetState(dict(data.get("devices", {})), dict(data.get("models", {})))


def save_state(state: FleetState, path: Path) -> None:
    """Write the edits (atomically: a temporary file renamed over the old one)."""
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    temporary.replace(path)


def apply_state(fleet: Fleet, state: FleetState) -> None:
    """Apply every edit to the fleet; unknown devices or entries raise FleetStateError."""
    for key, values in state.models.items():
        manufacturer, _, model = key.partition("/")
        sensitive = bool(values.get("order_sensitive", True))
        (fleet.order_insensitive.discard if sensitive else fleet.order_insensitive.add)(
            (manufacturer, model))
    for device_id, values in state.devices.items():
        try:
            i = fleet.index(device_id)
            for name, value in values.items():
                DEVICE_FIELDS[name](fleet, i, value)
        except (UnknownDeviceError, ConfigurationError, KeyError) as err:
            raise FleetStateError(f"fleet state for {device_id}: {err}") from err
