"""A small generated world (catalogue, fleet, simulated DSP) on a real database."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.simulated_gateway import DryRunWorld, simulated_execution
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Policy
from orchestrator.service import campaigns, catalogue, fleet
from orchestrator.service.access import Principal
from orchestrator.service.wiring import Execution
from simulators.generate import generate

GENEROUS = {"11.1": 100_000, "11.4": 100_000, "11.3": 1_000_000, "11.2": 1_000_000}


@dataclass
class World:
    """Everything a campaign test needs."""

    app: App
    ex: Execution
    sim: DryRunWorld
    data: Path

    def campaign(self, policy: Policy | None = None, by: str = "alice",
                 start: bool = True) -> int:
        """Create (and by default approve and start) a campaign over the whole fleet."""
        created = campaigns.create_campaign(campaigns.CreateCampaign(
            "test", policy=policy or Policy(), created_by=Principal(by, "admin")),
            self.app.uow(), self.ex.clock.now())
        if start:
            for action in ("submit", "start"):
                campaigns.act(self.ex, created["campaign_id"], action, Principal(by, "admin"))
        return int(created["campaign_id"])

    def rows(self, sql: str) -> list[Any]:
        """Raw SQL rows (for checking what was recorded)."""
        from sqlalchemy import text

        with self.app.engine.connect() as connection:
            return list(connection.execute(text(sql)))


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated data set for the session (read-only)."""
    out = tmp_path_factory.mktemp("world") / "data"
    generate(out, entries=60, devices=400, seed=11)
    return out


@pytest.fixture
def make_world(generated: Path, database_url: str, tmp_path: Path
               ) -> Iterator[Callable[..., World]]:
    """Build a world with a given fault profile and DSP thresholds (per `period`)."""
    apps: list[App] = []

    def build(faults: str = "none", seed: int = 5, thresholds: dict[str, int] | None = None,
              period: dt.timedelta = dt.timedelta(days=1)) -> World:
        app = bootstrap(Settings(data_dir=tmp_path / "fwo", database_url=database_url))
        apps.append(app)
        catalogue.sync_catalogue(catalogue.SyncCatalogue(
            str(generated / "cpl.xlsx"), str(generated / "fir.xlsx")), app.uow(),
            app.fetch_options())
        ex, world = simulated_execution(app, generated, faults=faults, seed=seed,
                                        thresholds=thresholds or GENEROUS, period=period)
        # the inventory describes the simulated fleet at the start of simulated time
        fleet.import_fleet(app.uow(), generated / "fleet.csv", ex.clock.now())
        return World(app, ex, world, generated)

    yield build
    for app in apps:
        app.close()
