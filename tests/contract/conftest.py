"""Every implementation of a port, as a fixture parameter: the contract suites run on each.

Repositories: in-memory (`tests/fakes.py`), SQLite and PostgreSQL (a fresh migrated database
or schema per test). Under CI=true a missing PostgreSQL or Redis fails instead of skipping.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orchestrator.adapters.db import create_db_engine, migrate
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from tests.fakes import InMemoryDatabase

NOW = dt.datetime(2025, 3, 1, 3, 0, tzinfo=dt.UTC)
UowFactory = Callable[[], Any]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def new_uow(request: pytest.FixtureRequest) -> Iterator[UowFactory]:
    """A unit-of-work factory over one fresh, empty store of each kind."""
    if request.param == "memory":
        yield InMemoryDatabase().uow
        return
    engine = create_db_engine(str(request.getfixturevalue(f"{request.param}_url")))
    migrate(engine)
    try:
        yield lambda: SqlAlchemyUnitOfWork(engine)
    finally:
        engine.dispose()


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time read back as UTC (SQLite hands some back naive)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
