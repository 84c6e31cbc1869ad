"""Fakes for API unit tests: in-memory users, tokens and audit rows behind a fake App."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.config import Settings
from orchestrator.entrypoints.api import create_app
from orchestrator.errors import UserExistsError
from orchestrator.service import access

ROLES = ("viewer", "operator", "approver", "admin")
NOW = dt.datetime(2025, 3, 1, 3, 0, tzinfo=dt.UTC)


@dataclass
class Store:
    """Rows shared by every fake unit of work of one fake app."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)


class FakeAccess:
    """In-memory AccessRepository."""

    def __init__(self, store: Store):
        self.store = store

    def add_user(self, name: str, role: str, created_by: str, at: dt.datetime) -> int:
        if name.lower() in self.store.users:
            raise UserExistsError(f"user {name!r} already exists")
        self.store.users[name.lower()] = {
            "id": len(self.store.users) + 1, "name": name, "role": role,
            "created_by": created_by, "created_at": at, "disabled": False}
        return int(self.store.users[name.lower()]["id"])

    def user(self, name: str) -> dict[str, Any] | None:
        return self.store.users.get(name.lower())

    def has_admin(self) -> bool:
        return any(u["role"] == "admin" and not u["disabled"] for u in self.store.users.values())

    def users(self) -> list[dict[str, Any]]:
        return [u | {"tokens": 1} for u in self.store.users.values()]

    def update_user(self, user_id: int, **values: Any) -> None:
        next(u for u in self.store.users.values() if u["id"] == user_id).update(values)

    def add_token(self, user_id: int, token_hash: str, prefix: str, at: dt.datetime) -> int:
        self.store.tokens[token_hash] = {"user_id": user_id, "revoked": False}
        return len(self.store.tokens)

    def principal(self, token_hash: str) -> dict[str, Any] | None:
        token = self.store.tokens.get(token_hash)
        if token is None or token["revoked"]:
            return None
        user = next(u for u in self.store.users.values() if u["id"] == token["user_id"])
        return None if user["disabled"] else {"name": user["name"], "role": user["role"]}

    def revoke_tokens(self, user_id: int, at: dt.datetime) -> int:
        hit = [t for t in self.store.tokens.values() if t["user_id"] == user_id]
        for t in hit:
            t["revoked"] = True
        return len(hit)


class FakeAudit:
    """In-memory AuditRepository."""

    def __init__(self, store: Store):
        self.store = store

    def lock(self) -> None:
        return None

    def head(self) -> tuple[int, str] | None:
        rows = self.store.audit
        return (rows[-1]["id"], rows[-1]["hash"]) if rows else None

    def append(self, row: dict[str, Any]) -> None:
        self.store.audit.append(dict(row))

    def rows(self) -> Iterator[dict[str, Any]]:
        return iter([dict(r) for r in self.store.audit])

    def page(self, limit: int, offset: int = 0, target: str | None = None
             ) -> list[dict[str, Any]]:
        rows = [r for r in reversed(self.store.audit) if target in (None, r["target"])]
        return rows[offset:offset + limit]


class FakeUnitOfWork:
    """A unit of work over the shared store (commit is a no-op: writes are immediate)."""

    def __init__(self, store: Store):
        self.access = FakeAccess(store)
        self.audit = FakeAudit(store)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def commit(self) -> None:
        return None


class FixedClock:
    """The Clock port at a fixed moment."""

    def now(self) -> dt.datetime:
        return NOW


@dataclass
class FakeApp:
    """What the API needs of `App`, with fakes behind it; no service work is possible."""

    settings: Settings
    store: Store = field(default_factory=Store)
    engine: Any = field(default_factory=lambda: sa.create_engine("sqlite://"))

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

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
