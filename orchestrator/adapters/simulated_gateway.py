"""The simulated DSP behind the `DspGateway` port, for dry runs (imports simulators lazily)."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.adapters.keystore import KeyStore
from orchestrator.domain.pacing import InProcessPacer
from orchestrator.errors import ConfigurationError
from orchestrator.service import inbound
from orchestrator.service.wiring import Execution

BATCH = 1000


class SimulatedDspGateway:
    """Sends requests to an in-process simulated DSP."""

    def __init__(self, dsp: Any):
        self.dsp = dsp

    def send(self, xml: bytes) -> bytes:
        """The simulator's signed synchronous answer."""
        return bytes(self.dsp.submit(xml))


@dataclass
class DryRunWorld:
    """The simulation seen through the `SimulatedWorld` port.

    The simulated DSP delivers each message to a buffer; once simulated time has moved, the
    buffer goes through the inbound handler in order, as one batch (stored raw first).
    """

    simulation: Any
    execution: Execution | None = None
    buffer: list[bytes] = field(default_factory=list)

    def next_event_time(self) -> dt.datetime | None:
        """When the simulated DSP next has something to deliver."""
        moment: dt.datetime | None = self.simulation.dsp.next_event_time()
        return moment

    def advance_to(self, moment: dt.datetime) -> int:
        """Deliver everything due by `moment`, then hand it to the inbound handler."""
        delivered = int(self.simulation.dsp.advance_to(moment))
        self.flush()
        return delivered

    def flush(self) -> None:
        """Process buffered messages in batches."""
        assert self.execution is not None
        while self.buffer:
            batch = self.buffer[:BATCH]
            del self.buffer[:BATCH]  # the DSP keeps appending to this very list
            inbound.receive_many(self.execution, batch)


def simulated_execution(app: Any, directory: Path, *, faults: str, seed: int,
                        thresholds: dict[str, int] | None = None,
                        period: dt.timedelta = dt.timedelta(days=1), send_concurrency: int = 1
                        ) -> tuple[Execution, DryRunWorld]:
    """An Execution whose DSP, devices and clock are the simulators over `directory`."""
    from simulators import SimulatorError, build_simulation
    from simulators.dsp.config import AnomalyThresholds

    buffer: list[bytes] = []
    settings = app.settings
    try:
        simulation = build_simulation(
            directory, faults=faults, seed=seed, receiver=buffer.append,
            thresholds=AnomalyThresholds(thresholds or {}, period),
            schema_path=Path(settings.duis_xsd) if settings.duis_xsd else None)
    except SimulatorError as err:
        raise ConfigurationError(str(err)) from err
    keys = KeyStore(directory / "keys", settings.import_supplier_eui, settings.gas_supplier_eui)
    execution = app.execution(gateway=SimulatedDspGateway(simulation.dsp),
                              clock=simulation.clock, keystore=keys,
                              image_dir=directory / "images", pacer=InProcessPacer(),
                              send_concurrency=send_concurrency)
    execution.rng = random.Random(seed)  # retry jitter too: a dry run repeats with its seed
    return execution, DryRunWorld(simulation, execution, buffer)
