"""A generated directory's fleet opened for inspection and edits (`fwo sim fleet ...`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from simulators import ConfigurationError
from simulators.fleet.catalogue import FirmwareCatalogue
from simulators.fleet.devices import DeviceView, Fleet
from simulators.fleet.state import STATE_FILE, FleetState, apply_state, load_state, save_state


@dataclass
class FleetWorkspace:
    """The fleet of a generated directory with its persisted edits applied."""

    directory: Path
    fleet: Fleet
    state: FleetState

    @classmethod
    def open(cls, directory: Path) -> FleetWorkspace:
        """Load cpl.xlsx, fir.xlsx, fleet.csv and fleet_state.json from `directory`."""
        if not directory.is_dir():
            raise ConfigurationError(f"catalogue directory {directory} does not exist")
        catalogue = FirmwareCatalogue.from_workbooks(directory / "cpl.xlsx",
                                                     directory / "fir.xlsx")
        fleet = Fleet.load_csv(directory / "fleet.csv", catalogue)
        state = load_state(directory / STATE_FILE)
        apply_state(fleet, state)
        return cls(directory, fleet, state)

    @property
    def state_path(self) -> Path:
        """Where the edits are kept."""
        return self.directory / STATE_FILE

    def show(self, device_id: str, now: datetime) -> DeviceView:
        """A snapshot of one device."""
        return self.fleet.view(device_id, now)

    def edit_device(self, device_id: str, **values: object) -> None:
        """Apply and persist edits of one device (checked against the fleet first)."""
        self.fleet.index(device_id)
        trial = FleetState({device_id: dict(values)}, {})
        apply_state(self.fleet, trial)
        self.state.set_device(device_id, **values)
        save_state(self.state, self.state_path)

    def set_order_sensitive(self, manufacturer: str, model: str, sensitive: bool) -> None:
        """Persist whether a model bricks on out-of-order activations."""
        key = (manufacturer.strip().upper(), model.strip().upper())
        if not any(e.model_key == key for e in self.fleet.catalogue.entries):
            raise ConfigurationError(f"model {key[0]}/{key[1]} is not on the CPL")
        self.state.set_order_sensitive(*key, sensitive)
        apply_state(self.fleet, self.state)
        save_state(self.state, self.state_path)

    def reset(self) -> None:
        """Forget every edit."""
        self.state = FleetState()
        self.state_path.unlink(missing_ok=True)
