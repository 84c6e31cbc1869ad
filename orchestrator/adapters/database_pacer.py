"""Database pacing: SR budgets counted per aligned window in a table all workers share."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from orchestrator.adapters.campaign_tables import pacing_windows
from orchestrator.domain.pacing import Grant, window_end, window_of
from orchestrator.domain.policy import Budget


class SqlAlchemyPacer:
    """The pacer used when no Redis pacer is configured, in the caller's transaction."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """Database pacing: take up to `wanted` from the aligned window's budget."""
        window = window_of(budget, at)
        key = (pacing_windows.c.sr_type == budget.sr_type) & (pacing_windows.c.window == window)
        used = self.connection.execute(select(pacing_windows.c.used).where(key)
                                       .with_for_update()).scalar()
        granted = max(0, min(wanted, budget.limit - int(used or 0)))
        if used is None:
            self.connection.execute(insert(pacing_windows).values(
                sr_type=budget.sr_type, window=window, used=granted))
        elif granted:
            self.connection.execute(update(pacing_windows).where(key).values(
                used=pacing_windows.c.used + granted))
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     budget.limit - int(used or 0) - granted)
