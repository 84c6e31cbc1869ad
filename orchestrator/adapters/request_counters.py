"""Durable RequestID originator counters: never handed out twice, across workers and restarts."""
from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from orchestrator.adapters.campaign_tables import request_counters


class SqlAlchemyRequestCounters:
    """The originator counters of DUIS RequestIDs, one row per originator."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def reserve_counters(self, originator: str, count: int, floor: int) -> list[int]:
        """`count` fresh originator counters, strictly above every one handed out before.

        The row is updated in the caller's transaction (row lock on PostgreSQL, the writer
        lock on SQLite), so two workers never receive the same value; `floor` (epoch
        milliseconds) keeps counters increasing even if the table is ever lost.
        """
        table = request_counters
        current = self.connection.execute(select(table.c.value).where(
            table.c.originator == originator).with_for_update()).scalar()
        start = max(int(current or 0), floor) + 1
        if current is None:
            self.connection.execute(insert(table).values(originator=originator,
                                                         value=start + count - 1))
        else:
            self.connection.execute(update(table).where(table.c.originator == originator)
                                    .values(value=start + count - 1))
        return list(range(start, start + count))
