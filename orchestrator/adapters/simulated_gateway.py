"""The simulated DSP behind the `DspGateway` port, for dry runs (imports simulators lazily)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.adapters.keystore import KeyStore
from orchestrator.domain.pacing import InProcessPacer
from orchestrator.service import inbound
from orchestrator.service.wiring import Execution


class SimulatedDspGateway:
    """Sends requests to an in-process simulated DSP."""

    def __init__(self, dsp: Any):
        self.dsp = dsp

    def send(self, xml: bytes) -> bytes:
        """The simulator's signed synchronous answer."""
        return bytes(self.dsp.submit(xml))


@dataclass
class DryRunWorld:
    """The simulation seen through the `SimulatedWorld` port."""

    simulation: Any

    def next_event_time(self) -> dt.datetime | None:
        """When the simulated DSP next has something to deliver."""
        moment: dt.datetime | None = self.simulation.dsp.next_event_time()
        return moment

    def advance_to(self, moment: dt.datetime) -> int:
        """Deliver everything due by `moment` (inbound handling runs in the receiver)."""
        return int(self.simulation.dsp.advance_to(moment))


def simulated_execution(app: Any, directory: Path, *, faults: str, seed: int,
                        thresholds: dict[str, int] | None = None,
                        period: dt.timedelta = dt.timedelta(days=1)
                        ) -> tuple[Execution, DryRunWorld]:
    """An Execution whose DSP, devices and clock are the simulators over `directory`."""
    from simulators import build_simulation
    from simulators.dsp.config import AnomalyThresholds

    holder: dict[str, Execution] = {}

    def receiver(raw: bytes) -> None:
        inbound.receive(holder["ex"], raw)

    simulation = build_simulation(directory, faults=faults, seed=seed, receiver=receiver,
                                  thresholds=AnomalyThresholds(thresholds or {}, period))
    settings = app.settings
    keys = KeyStore(directory / "keys", settings.import_supplier_eui, settings.gas_supplier_eui)
    holder["ex"] = app.execution(gateway=SimulatedDspGateway(simulation.dsp),
                                 clock=simulation.clock, keystore=keys,
                                 image_dir=directory / "images", pacer=InProcessPacer())
    return holder["ex"], DryRunWorld(simulation)
