"""Fakes for API unit tests: the in-memory repositories of `tests/fakes.py` behind a fake App.

They are the fakes the contract suite (`tests/contract/`) holds to the real adapters.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.config import Settings
from orchestrator.entrypoints.api import create_app
from orchestrator.service import access
from tests.fakes import InMemoryDatabase, InMemoryUnitOfWork, State

ROLES = ("viewer", "operator", "approver", "admin")
NOW = dt.datetime(2025, 3, 1, 3, 0, tzinfo=dt.UTC)


class FixedClock:
    """The Clock port at a fixed moment."""

    def now(self) -> dt.datetime:
        return NOW


@dataclass
class FakeApp:
    """What the API needs of `App`, with fakes behind it; no service work is possible."""

    settings: Settings
    database: InMemoryDatabase = field(default_factory=InMemoryDatabase)
    engine: Any = field(default_factory=lambda: sa.create_engine("sqlite://"))

    @property
    def store(self) -> State:
        """The committed rows (users, tokens, audit) as the next unit of work sees them."""
        return self.database.state

    def uow(self) -> InMemoryUnitOfWork:
        return self.database.uow()

    def clock(self) -> FixedClock:
        return FixedClock()

    def execution(self) -> Any:
        raise AssertionError("a unit test reached campaign execution")


@dataclass
class Api:
    """A fake-backed API, a client, and one token per role."""

    app: FakeApp
    api: FastAPI
    client: TestClient
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        """The bearer header of the user holding `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def fake_api(tmp_path: Path) -> Api:
    """The API over fakes, with users vera (viewer), olga (operator), abe (approver) and
    ada (admin)."""
    app = FakeApp(Settings(data_dir=tmp_path, receiver_max_body_bytes=4096,
                           api_max_body_bytes=8192))
    admin = access.Principal("setup", "admin")
    tokens = {role: access.create_user(app.uow(), name, role, admin, NOW)["token"]
              for role, name in zip(ROLES, ("vera", "olga", "abe", "ada"))}
    api = create_app(app)  # type: ignore[arg-type]
    return Api(app, api, TestClient(api, raise_server_exceptions=False), tokens)
