"""Database pacing: SR budgets counted per aligned window in a table all workers share."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orchestrator.adapters.campaign_tables import pacing_windows
from orchestrator.domain.pacing import Grant, window_end, window_of
from orchestrator.domain.policy import Budget


class SqlAlchemyPacer:
    """The pacer used when no Redis pacer is configured, in the caller's transaction."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """Database pacing: take up to `wanted` from the aligned window's budget.

        The window's row is created first if missing (INSERT ... ON CONFLICT DO NOTHING), then
        locked: two transactions taking a window's first grant at once queue on the row
        instead of both inserting it (one would fail with a unique violation)."""
        window = window_of(budget, at)
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        self.connection.execute(dialect.insert(pacing_windows).values(
            sr_type=budget.sr_type, window=window, used=0).on_conflict_do_nothing())
        key = (pacing_windows.c.sr_type == budget.sr_type) & (pacing_windows.c.window == window)
        used = int(self.connection.execute(select(pacing_windows.c.used).where(key)
                                           .with_for_update()).scalar_one())
        granted = max(0, min(wanted, budget.limit - used))
        if granted:
            self.connection.execute(update(pacing_windows).where(key).values(
                used=pacing_windows.c.used + granted))
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     budget.limit - used - granted)
