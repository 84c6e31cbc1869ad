"""Fixtures for API integration tests: the real app on SQLite and PostgreSQL, a generated
catalogue and fleet, and one user per role."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.entrypoints.api import create_app
from orchestrator.service import access, catalogue, fleet
from simulators.generate import generate

USERS = {"vera": "viewer", "olga": "operator", "otto": "operator", "abe": "approver",
         "ada": "admin"}


@pytest.fixture(scope="session")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated directory: 16 entries, 60 devices, keys and images (seed 3)."""
    out = tmp_path_factory.mktemp("api-data")
    generate(out, entries=16, devices=60, seed=3, image_size=512)
    return out


def ops_app(database_url: str, data: Path, work: Path, **settings: object) -> App:
    """The app on `database_url` with the generated catalogue synced and fleet imported."""
    app = bootstrap(Settings(data_dir=work, database_url=database_url, keys_dir=data / "keys",
                             image_dir=data / "images", **settings))  # type: ignore[arg-type]
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")),
                             app.uow(), app.fetch_options())
    fleet.import_fleet(app.uow(), data / "fleet.csv")
    return app


@dataclass
class Ops:
    """The app, a client on its API, and a token per user."""

    app: App
    client: TestClient
    tokens: dict[str, str]
    data: Path
    database_url: str

    def auth(self, user: str) -> dict[str, str]:
        """Bearer header of a user (vera, olga, otto, abe, ada)."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def add_users(app: App) -> dict[str, str]:
    """Create USERS; return their tokens."""
    setup = access.Principal("setup", "admin")
    now = dt.datetime.now(dt.UTC)
    return {name: access.create_user(app.uow(), name, role, setup, now)["token"]
            for name, role in USERS.items()}


FOUR_EYES_ABOVE = 5  # the deployment's four-eyes size in these tests (60 devices are above it)


@pytest.fixture
def ops(database_url: str, api_data: Path, tmp_path: Path) -> Iterator[Ops]:
    """The API on a fresh database (SQLite and PostgreSQL) with users and data; campaigns of
    more than FOUR_EYES_ABOVE devices need a second approver (FWO_APPROVAL_REQUIRED_ABOVE)."""
    app = ops_app(database_url, api_data, tmp_path, approval_required_above=FOUR_EYES_ABOVE)
    tokens = add_users(app)
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        yield Ops(app, client, tokens, api_data, database_url)
    app.close()
