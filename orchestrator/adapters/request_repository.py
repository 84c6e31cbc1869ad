"""Everything about requests that must survive restarts and be shared by workers, in one
repository for the unit of work: each part lives in the module named after what it holds."""
from __future__ import annotations

from orchestrator.adapters.database_pacer import SqlAlchemyPacer
from orchestrator.adapters.inbound_store import SqlAlchemyInboundStore
from orchestrator.adapters.request_counters import SqlAlchemyRequestCounters
from orchestrator.adapters.sent_log import SqlAlchemySentLog


class SqlAlchemyRequestRepository(SqlAlchemyRequestCounters, SqlAlchemySentLog,
                                  SqlAlchemyPacer, SqlAlchemyInboundStore):
    """RequestID counters, the sent log, database pacing and raw inbound storage, sharing the
    unit of work's connection."""
