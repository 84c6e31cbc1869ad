"""A tiny generated world (catalogue, fleet, simulated DSP) on the in-memory fakes.

The catalogue sync and the fleet import run once per session into an in-memory database;
each test starts from a copy of that state, with its own simulated DSP and clock.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.adapters.images import UpgradeImageStore
from orchestrator.adapters.keystore import KeyStore
from orchestrator.adapters.simulated_gateway import DryRunWorld, SimulatedDspGateway
from orchestrator.bootstrap import App
from orchestrator.config import Settings
from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.policy import Policy
from orchestrator.service import campaigns, catalogue, fleet
from orchestrator.service.access import Approvals, Principal
from orchestrator.service.wiring import Execution
from simulators import build_simulation
from simulators.dsp.config import AnomalyThresholds
from simulators.generate import generate
from tests.fakes import InMemoryDatabase, InMemoryPacer, InMemorySendLock, State

GENEROUS = {"11.1": 100_000, "11.4": 100_000, "11.3": 1_000_000, "11.2": 1_000_000}
ALICE, BOB = Principal("alice", "admin"), Principal("bob", "admin")


@dataclass
class Seed:
    """What every test starts from: generated files and the synced, imported state."""

    data: Path
    state: State
    settings: Settings


def seed(out: Path, devices: int = 12) -> Seed:
    """Generate a world and load its catalogue and fleet into an in-memory database."""
    data = out / "data"
    generate(data, entries=12, devices=devices, seed=11)
    settings = Settings(data_dir=out / "fwo")
    database = InMemoryDatabase()
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")),
                             database.uow(), App(settings, None).fetch_options())  # type: ignore[arg-type]
    return Seed(data, database.state, settings)


@dataclass
class World:
    """A test's database, execution wiring and simulated DSP."""

    database: InMemoryDatabase
    ex: Execution
    sim: DryRunWorld
    lock: InMemorySendLock

    def campaign(self, policy: Policy | None = None, start: bool = True) -> int:
        """Create (and by default submit and start) a campaign over the whole fleet."""
        created = campaigns.create_campaign(campaigns.CreateCampaign(
            "test", policy=policy or Policy(), created_by=ALICE), self.database.uow(),
            self.ex.clock.now())
        if start:
            for action in ("submit", "start"):
                campaigns.act(self.ex, created["campaign_id"], action, ALICE)
        return int(created["campaign_id"])

    def uow(self) -> Any:
        """A unit of work on this world's database."""
        return self.database.uow()


def world(seeded: Seed, *, faults: str = "none", thresholds: dict[str, int] | None = None,
          approvals: Approvals | None = None) -> World:
    """A fresh world from the seed: the fleet as the simulated DSP sees it at its start."""
    buffer: list[bytes] = []
    simulation = build_simulation(seeded.data, faults=faults, seed=5, receiver=buffer.append,
                                  thresholds=AnomalyThresholds(thresholds or GENEROUS,
                                                               dt.timedelta(days=1)))
    database = InMemoryDatabase()
    database.state = copy.deepcopy(seeded.state)
    s = seeded.settings
    keys = KeyStore(seeded.data / "keys", s.import_supplier_eui, s.gas_supplier_eui)
    images = UpgradeImageStore(seeded.data / "images", lambda: keys.digital_signing_key,
                               s.data_dir / "upgrade-images")
    catalogues: dict[int, Catalogue] = {}

    def load(snapshot_id: int | None, uow: Any = None) -> Catalogue:
        if snapshot_id not in catalogues:
            with database.uow() as own:
                catalogues[snapshot_id or 0] = own.catalogue.load(
                    snapshot_id or own.catalogue.current_id())
        return catalogues[snapshot_id or 0]

    lock, pacer = InMemorySendLock(), InMemoryPacer()
    ex = Execution(uow=database.uow, gateway=SimulatedDspGateway(simulation.dsp), keys=keys,
                   upgrade_image=images, catalogue=load, clock=simulation.clock,
                   pacer=lambda uow: pacer, send_lock=lock,
                   approvals=approvals or Approvals(s.approval_required_above, s.approve_role))
    fleet.import_fleet(database.uow(), seeded.data / "fleet.csv", ex.clock.now())
    return World(database, ex, DryRunWorld(simulation, ex, buffer), lock)
