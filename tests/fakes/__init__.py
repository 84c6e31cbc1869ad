"""In-memory stand-ins for every repository, the unit of work, the pacer and the send lock.

Each passes the contract suite its SQLAlchemy (or Redis) twin passes (`tests/contract/`), so
service tests on these fakes exercise the behaviour production relies on, in microseconds.

Transactions: a unit of work copies the committed state when it is entered and works on the
copy (`State.copy`); `commit()` publishes a copy of it; leaving without committing drops it.
Repositories never change a stored value in place except the rows `State.copy` copies, and
hand out copies of mutable values, so no change leaks between units of work: a change is seen
by another unit of work only after commit, and a rolled-back one leaves nothing behind. The
fakes are single-threaded: two units of work open at once do not lock each other out (the
last to commit wins), which is all a service test needs.
"""
from __future__ import annotations

from typing import Self

from tests.fakes.access import InMemoryAccessRepository, InMemoryAuditRepository
from tests.fakes.campaigns import InMemoryCampaignRepository
from tests.fakes.inventory import (
    InMemoryCatalogueRepository,
    InMemoryFleetRepository,
    InMemoryPlanRepository,
)
from tests.fakes.requests import InMemoryRequestRepository
from tests.fakes.sending import InMemoryPacer, InMemorySendLock
from tests.fakes.state import State

__all__ = ["InMemoryAccessRepository", "InMemoryAuditRepository", "InMemoryCampaignRepository",
           "InMemoryCatalogueRepository", "InMemoryDatabase", "InMemoryFleetRepository",
           "InMemoryPacer", "InMemoryPlanRepository", "InMemoryRequestRepository",
           "InMemorySendLock", "InMemoryUnitOfWork", "State"]


class InMemoryDatabase:
    """The committed state that every in-memory unit of work of one test shares."""

    def __init__(self) -> None:
        self.state = State()

    def uow(self) -> InMemoryUnitOfWork:
        """A new unit of work over this database (the `Execution.uow` factory)."""
        return InMemoryUnitOfWork(self)


class InMemoryUnitOfWork:
    """`with uow:` copies the committed state; `commit()` publishes the copy."""

    def __init__(self, database: InMemoryDatabase | None = None):
        self.database = database or InMemoryDatabase()
        self._work: State | None = None

    def __enter__(self) -> Self:
        self._work = self.database.state.copy()
        self.catalogue = InMemoryCatalogueRepository(self._work)
        self.fleet = InMemoryFleetRepository(self._work)
        self.plans = InMemoryPlanRepository(self._work)
        self.campaigns = InMemoryCampaignRepository(self._work)
        self.requests = self.inbound = InMemoryRequestRepository(self._work)
        self.access = InMemoryAccessRepository(self._work)
        self.audit = InMemoryAuditRepository(self._work)
        return self

    def __exit__(self, *args: object) -> None:
        self._work = None

    def commit(self) -> None:
        """Publish everything done in this unit of work."""
        assert self._work is not None, "commit outside `with uow:`"
        self.database.state = self._work.copy()

