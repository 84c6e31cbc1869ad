"""Simulators: a DCC DSP and a device fleet that speak DUIS, plus synthetic data generators.

    sim = build_simulation(Path("out"), faults="default", seed=1, receiver=messages.append)
    sim.dsp.submit(signed_xml)          # the synchronous DCC response (signed bytes)
    sim.dsp.advance_to(sim.clock.now() + timedelta(days=2))   # delivers due responses/alerts

Production code never imports this package. Importing it is cheap: the factory and the
simulator classes load on first use (module `__getattr__`), so `simulators.generate` does not
pull in the DSP.

Every error the simulators raise on purpose is a `SimulatorError` (the generator keeps its own
`simulators.generate.GeneratorError`, which predates this hierarchy):

```
SimulatorError
├── ConfigurationError      a catalogue directory, user, threshold or fault profile is unusable
├── UnknownDeviceError      a fleet query or edit names a device the fleet does not hold
├── FleetStateError         the persisted fleet state file is unreadable or inconsistent
├── ClockError              simulated time was asked to run backwards
├── ReceiverError           the configured receiver could not take a message
└── RequestRejectedError    a DUIS request failed a DSP check (carries the response code)
```
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.clock import SimulatedClock
    from simulators.dsp.client import SimulatedSupplier
    from simulators.dsp.engine import Dsp
    from simulators.dsp.simulation import GeneratedData, Simulation, build_simulation
    from simulators.dsp.users import UserIdentity
    from simulators.faults import FaultProfile
    from simulators.fleet.devices import Fleet


class SimulatorError(Exception):
    """Base of every error the DSP, fleet, clock and fault simulators raise on purpose."""


class ConfigurationError(SimulatorError, ValueError):
    """A catalogue directory, user, threshold or fault profile is unusable."""


class UnknownDeviceError(SimulatorError, KeyError):
    """A fleet query or edit names a device the fleet does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown device"


class FleetStateError(SimulatorError):
    """The persisted fleet state file is unreadable or names unknown devices or entries."""


class ClockError(SimulatorError, ValueError):
    """Simulated time was asked to run backwards."""


class ReceiverError(SimulatorError):
    """The configured receiver (HTTP URL or callback) could not take a message."""


class RequestRejectedError(SimulatorError):
    """A DUIS request failed a DSP check; `code` is the DUIS response code to answer with."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


_LAZY = {
    "build_simulation": "simulators.dsp.simulation",
    "GeneratedData": "simulators.dsp.simulation",
    "Simulation": "simulators.dsp.simulation",
    "Dsp": "simulators.dsp.engine",
    "SimulatedSupplier": "simulators.dsp.client",
    "UserIdentity": "simulators.dsp.users",
    "SimulatedClock": "simulators.clock",
    "FaultProfile": "simulators.faults",
    "Fleet": "simulators.fleet.devices",
}


def __getattr__(name: str) -> Any:
    """Load the factory and simulator classes on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simulators' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ClockError",
    "ConfigurationError",
    "Dsp",
    "FaultProfile",
    "Fleet",
    "FleetStateError",
    "GeneratedData",
    "ReceiverError",
    "RequestRejectedError",
    "SimulatedClock",
    "SimulatedSupplier",
    "Simulation",
    "SimulatorError",
    "UnknownDeviceError",
    "UserIdentity",
    "build_simulation",
]
