"""The sent-request log: what was sent, when, and the DSP's synchronous answer to it."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from orchestrator.adapters.campaign_tables import sent_requests

_SENT = select(sent_requests.c.request_id).where(
    sent_requests.c.request_id.in_(bindparam("ids", expanding=True)))
_CODE = update(sent_requests).where(sent_requests.c.request_id == bindparam("r_id")).values(
    response_code=bindparam("r_code"))


class SqlAlchemySentLog:
    """Every request sent to the DSP, logged before it is sent."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def record_sent(self, rows: list[dict[str, Any]]) -> None:
        """Log sent requests (id, campaign, SR type, variant, entry, devices, time)."""
        if rows:
            self.connection.execute(insert(sent_requests), rows)

    def record_response_codes(self, codes: dict[str, str]) -> None:
        """Attach the synchronous response code to each sent request (one executemany)."""
        if codes:
            self.connection.execute(_CODE, [{"r_id": r, "r_code": c} for r, c in codes.items()])

    def unacknowledged(self, before: dt.datetime, limit: int) -> list[str]:
        """Requests recorded as sent before `before` with no synchronous answer on record:
        the worker died between recording and sending (or before the answer was saved)."""
        rows = self.connection.execute(select(sent_requests.c.request_id).where(
            sent_requests.c.response_code.is_(None), sent_requests.c.sent_at < before)
            .limit(limit))
        return [r for (r,) in rows]

    def sent_counts(self, campaign_id: int | None = None) -> dict[str, int]:
        """Requests sent per SR type (all campaigns, or one)."""
        query = select(sent_requests.c.sr_type, func.count()).group_by(sent_requests.c.sr_type)
        if campaign_id is not None:
            query = query.where(sent_requests.c.campaign_id == campaign_id)
        return {sr: int(n) for sr, n in self.connection.execute(query)}

    def sent_request_ids(self, request_ids: list[str]) -> set[str]:
        """Which of these RequestIDs this deployment sent."""
        found: set[str] = set()
        for start in range(0, len(request_ids), 500):
            found.update(r for (r,) in self.connection.execute(
                _SENT, {"ids": request_ids[start:start + 500]}))
        return found
