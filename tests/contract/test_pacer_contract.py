"""Every pacer takes from an SR type's fixed-window budget the same way.

In-memory (the embedded runtime's and the fakes'), the database (in-memory, SQLite and
PostgreSQL request repositories) and Redis.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.adapters.db import create_db_engine, migrate
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.domain.pacing import Grant, Pacer
from orchestrator.domain.policy import Budget
from tests.fakes import InMemoryDatabase, InMemoryPacer

from .conftest import NOW

HOURLY = Budget("11.1", 10, 3600.0)
WINDOW_END = dt.datetime(2025, 3, 1, 4, 0, tzinfo=dt.UTC)  # NOW is 03:00 on the hour


class DatabasePacer:
    """The database pacer as the dispatcher uses it: inside a unit of work that commits."""

    def __init__(self, new_uow: Any):
        self.new_uow = new_uow

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        with self.new_uow() as uow:
            grant: Grant = uow.requests.acquire(budget, wanted, at)
            uow.commit()
        return grant


SHARED = ("sqlite", "postgres", "redis")


@pytest.fixture(params=["memory", "memory-database", *SHARED])
def pacer(request: pytest.FixtureRequest) -> Iterator[Pacer]:
    """Each pacer, over a fresh store."""
    yield from _pacer(request)


# (this suite found two PostgreSQL transactions taking a window's first grant both inserting
# its row, one failing with a unique violation: the row is now created ON CONFLICT DO NOTHING)
@pytest.fixture(params=SHARED)
def shared_pacer(request: pytest.FixtureRequest) -> Iterator[Pacer]:
    """Each pacer that workers share, over a fresh store."""
    yield from _pacer(request)


def _pacer(request: pytest.FixtureRequest) -> Iterator[Pacer]:
    kind = request.param
    if kind == "memory":
        yield InMemoryPacer()
    elif kind == "memory-database":
        yield DatabasePacer(InMemoryDatabase().uow)
    elif kind == "redis":
        from orchestrator.adapters.redis_pacer import RedisPacer

        pacer = RedisPacer.from_url(request.getfixturevalue("redis_server"),
                                    prefix=f"fwo:test:{uuid.uuid4().hex}")
        yield pacer
        keys = list(pacer.client.scan_iter(f"{pacer.prefix}:*"))
        if keys:
            pacer.client.delete(*keys)
        pacer.client.close()
    else:
        engine = create_db_engine(str(request.getfixturevalue(f"{kind}_url")))
        migrate(engine)
        yield DatabasePacer(lambda: SqlAlchemyUnitOfWork(engine))
        engine.dispose()


def test_a_budget_grants_up_to_its_limit_then_says_when_it_refills(pacer: Pacer) -> None:
    """Whole grants while the window lasts; a partial one, then none, until the window's end."""
    assert pacer.acquire(HOURLY, 4, NOW) == Grant(4, None, 6)
    assert pacer.acquire(HOURLY, 5, NOW + dt.timedelta(minutes=59)) == Grant(5, None, 1)
    assert pacer.acquire(HOURLY, 3, NOW) == Grant(1, WINDOW_END, 0)
    assert pacer.acquire(HOURLY, 2, NOW) == Grant(0, WINDOW_END, 0)


def test_the_next_window_starts_full(pacer: Pacer) -> None:
    """Windows are aligned to the period: at 04:00 the whole budget is back."""
    assert pacer.acquire(HOURLY, 10, NOW).granted == 10
    assert pacer.acquire(HOURLY, 1, WINDOW_END - dt.timedelta(seconds=1)).granted == 0
    assert pacer.acquire(HOURLY, 12, WINDOW_END) == Grant(
        10, WINDOW_END + dt.timedelta(hours=1), 0)


def test_each_sr_type_has_its_own_budget(pacer: Pacer) -> None:
    """Spending 11.1 leaves 11.3 untouched."""
    assert pacer.acquire(HOURLY, 10, NOW).granted == 10
    assert pacer.acquire(Budget("11.3", 3, 3600.0), 2, NOW) == Grant(2, None, 1)


def test_concurrent_takers_never_exceed_a_shared_budget(shared_pacer: Pacer) -> None:
    """Four threads taking one at a time from a budget of 10 get exactly 10 between them
    (in-process pacers serve one sending process, whose send lock serialises them)."""
    pacer = shared_pacer
    granted: list[int] = []
    errors: list[Exception] = []

    def take() -> None:
        try:
            for _ in range(6):
                granted.append(pacer.acquire(HOURLY, 1, NOW).granted)
        except Exception as err:  # noqa: BLE001 (re-raised below, in the test's own thread)
            errors.append(err)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) <= 10  # never over budget, whatever else happened
    if errors:
        raise errors[0]
    assert sum(granted) == 10 and len(granted) == 24
