"""In-memory RequestID counters, sent log, database pacing and inbound store."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from orchestrator.domain.pacing import Grant, window_end, window_of
from orchestrator.domain.policy import Budget
from tests.fakes.state import State, next_id


# requests, database pacing and inbound storage ----------------------------------------------
class InMemoryRequestRepository:
    """RequestID counters, the sent-request log, pacing windows and raw inbound messages."""

    def __init__(self, state: State):
        self.s = state

    def reserve_counters(self, originator: str, count: int, floor: int) -> list[int]:
        start = max(self.s.request_counters.get(originator, 0), floor) + 1
        self.s.request_counters[originator] = start + count - 1
        return list(range(start, start + count))

    def record_sent(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["request_id"] in self.s.sent:
                raise ValueError(f"request {row['request_id']} recorded twice")
            self.s.sent[row["request_id"]] = {"response_code": None, **row}

    def record_response_codes(self, codes: dict[str, str]) -> None:
        for request_id, code in codes.items():
            if request_id in self.s.sent:
                self.s.sent[request_id]["response_code"] = code

    def unacknowledged(self, before: dt.datetime, limit: int) -> list[str]:
        return [r for r, row in self.s.sent.items()
                if row["response_code"] is None and row["sent_at"] < before][:limit]

    def sent_counts(self, campaign_id: int | None = None) -> dict[str, int]:
        return dict(Counter(row["sr_type"] for row in self.s.sent.values()
                            if campaign_id in (None, row.get("campaign_id"))))

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        key = (budget.sr_type, window_of(budget, at))
        used = self.s.pacing.get(key, 0)
        granted = max(0, min(wanted, budget.limit - used))
        self.s.pacing[key] = used + granted
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     budget.limit - used - granted)

    def store_raw(self, sha256: str, raw: bytes, at: dt.datetime) -> tuple[int, bool]:
        [stored] = self.store_many([(sha256, raw)], at)
        return stored

    def store_many(self, messages: list[tuple[str, bytes]], at: dt.datetime
                   ) -> list[tuple[int, bool]]:
        by_sha = {m["sha256"]: i for i, m in self.s.inbound.items()}
        result = []
        for sha, raw in messages:
            if sha in by_sha:
                result.append((by_sha[sha], False))
                continue
            message_id = by_sha[sha] = next_id(self.s.inbound)
            self.s.inbound[message_id] = {
                "id": message_id, "sha256": sha, "received_at": at, "raw": bytes(raw),
                "status": "received", "reason": "", "kind": None, "request_id": None,
                "device_id": None, "processed_at": None, "content_sha256": None,
                "response_id": None}
            result.append((message_id, True))
        return result

    def mark_many(self, marks: list[tuple[int, str, str, dict[str, Any]]],
                  at: dt.datetime) -> None:
        for message_id, status, reason, extra in marks:
            self.mark(message_id, status, at, reason, **{
                k: extra.get(k) for k in ("kind", "request_id", "content_sha256",
                                          "response_id")})

    def mark(self, message_id: int, status: str, at: dt.datetime, reason: str = "",
             **fields: Any) -> None:
        self.s.inbound[message_id].update(status=status, reason=reason, processed_at=at,
                                          **fields)

    def applied_contents(self, digests: list[str]) -> dict[str, int]:
        wanted = set(digests)
        return {m["content_sha256"]: i for i, m in sorted(self.s.inbound.items())
                if m["content_sha256"] in wanted and m["status"] == "applied"}

    def sent_request_ids(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.s.sent}

    def claim(self, message_ids: list[int]) -> set[int]:
        return {i for i in message_ids if self.s.inbound.get(i, {}).get("status") == "received"}

    def pending_messages(self, limit: int, received_before: dt.datetime | None = None
                         ) -> list[tuple[int, bytes]]:
        return [(i, m["raw"]) for i, m in sorted(self.s.inbound.items())
                if m["status"] == "received" and (received_before is None
                                                  or m["received_at"] < received_before)][:limit]

    def raw_messages(self, message_ids: list[int]) -> list[tuple[int, bytes]]:
        wanted = set(message_ids)
        return [(i, m["raw"]) for i, m in sorted(self.s.inbound.items())
                if i in wanted and m["status"] == "received"]

    def inbound_counts(self) -> dict[str, int]:
        return dict(Counter(m["status"] for m in self.s.inbound.values()))
