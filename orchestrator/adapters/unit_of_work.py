"""The SQLAlchemy unit of work: one transaction, the repositories that share it."""
from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from orchestrator.adapters.auth_repository import (
    SqlAlchemyAccessRepository,
    SqlAlchemyAuditRepository,
)
from orchestrator.adapters.campaign_repository import SqlAlchemyCampaignRepository
from orchestrator.adapters.catalogue_repository import SqlAlchemyCatalogueRepository
from orchestrator.adapters.fleet_repository import SqlAlchemyFleetRepository
from orchestrator.adapters.plan_repository import SqlAlchemyPlanRepository
from orchestrator.adapters.request_repository import SqlAlchemyRequestRepository


class SqlAlchemyUnitOfWork:
    """`with uow:` opens a transaction; `commit()` keeps it; leaving without it rolls back."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self.catalogue = SqlAlchemyCatalogueRepository(self._connection)
        self.fleet = SqlAlchemyFleetRepository(self._connection)
        self.plans = SqlAlchemyPlanRepository(self._connection)
        self.campaigns = SqlAlchemyCampaignRepository(self._connection)
        # one object holds counters, the sent log, database pacing and raw inbound messages
        self.requests = self.inbound = SqlAlchemyRequestRepository(self._connection)
        self.access = SqlAlchemyAccessRepository(self._connection)
        self.audit = SqlAlchemyAuditRepository(self._connection)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        """Make everything done in this unit of work durable."""
        assert self._connection is not None
        self._connection.commit()
