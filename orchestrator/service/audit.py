"""The tamper-evident audit trail: a hash chain over every mutating call.

Row n stores `prev_hash` (row n-1's hash; 64 zeros for the first) and
`hash = SHA-256(prev_hash + canonical JSON of the row)`, where the canonical JSON holds every
other column (id, at, actor, action, target, reason, outcome, data) with sorted keys and no
spaces. Ids run 1, 2, 3, ... without gaps (the appender assigns them under a lock), so an
edited, inserted, reordered or deleted row breaks the chain at the first row concerned.
Truncating the newest rows is only visible against an external copy of the head hash, which
`verify` reports for that purpose.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.service.unit_of_work import UnitOfWork

GENESIS = "0" * 64
FIELDS = ("id", "at", "actor", "action", "target", "reason", "outcome", "data")


class Actor(Protocol):
    """Anyone acting: a name and a role."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


def canonical(row: Mapping[str, Any]) -> str:
    """The canonical JSON of a row's hashed fields (UTC ISO time, sorted keys)."""
    at = row["at"]
    if isinstance(at, dt.datetime):
        at = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    body = {name: row[name] for name in FIELDS} | {"at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the row's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-native values only, so what is stored is exactly what was hashed."""
    result: dict[str, Any] = json.loads(json.dumps(dict(data), default=str))
    return result


def append(uow: UnitOfWork, actor: Actor, action: str, target: str, reason: str,
           outcome: str, at: dt.datetime, data: Mapping[str, Any] | None = None) -> int:
    """Add a row to the chain inside the caller's unit of work; return its id."""
    uow.audit.lock()
    head = uow.audit.head()
    row: dict[str, Any] = {
        "id": head[0] + 1 if head else 1, "at": at.astimezone(dt.UTC), "actor": actor.name,
        "action": action, "target": target[:200], "reason": reason,
        "outcome": outcome[:300], "data": _plain({"role": actor.role, **(data or {})})}
    row["prev_hash"] = head[1] if head else GENESIS
    row["hash"] = chain_hash(row["prev_hash"], row)
    uow.audit.append(row)
    return int(row["id"])


def record(uow: UnitOfWork, actor: Actor, action: str, target: str, reason: str,
           outcome: str, at: dt.datetime, data: Mapping[str, Any] | None = None) -> int:
    """Append one row in its own transaction (for calls whose work committed elsewhere)."""
    with uow:
        row_id = append(uow, actor, action, target, reason, outcome, at, data)
        uow.commit()
    return row_id


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain: intact, or where it first breaks and why."""

    ok: bool
    rows: int
    head_hash: str
    first_broken_id: int | None = None
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"ok": self.ok, "rows": self.rows, "head_hash": self.head_hash,
                "first_broken_id": self.first_broken_id, "problem": self.problem}


def verify_rows(rows: Iterable[Mapping[str, Any]]) -> Verification:
    """Check ids, links and hashes in order; stop at the first broken row."""
    prev_hash, expected_id, count = GENESIS, 1, 0
    for row in rows:
        problem = _problem(row, prev_hash, expected_id)
        if problem:
            return Verification(False, count, prev_hash, int(row["id"]), problem)
        prev_hash, expected_id, count = row["hash"], int(row["id"]) + 1, count + 1
    return Verification(True, count, prev_hash)


def _problem(row: Mapping[str, Any], prev_hash: str, expected_id: int) -> str:
    if int(row["id"]) != expected_id:
        return f"row {expected_id} is missing (found row {row['id']} next)"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous row's hash"
    if chain_hash(row["prev_hash"], row) != row["hash"]:
        return "hash does not match the row's content (the row was altered)"
    return ""


def verify(uow: UnitOfWork) -> Verification:
    """Walk the whole stored chain."""
    with uow:
        return verify_rows(uow.audit.rows())


def entries(uow: UnitOfWork, limit: int, offset: int = 0, target: str | None = None
            ) -> list[dict[str, Any]]:
    """A page of the trail, newest first, JSON-ready."""
    with uow:
        rows = uow.audit.page(limit, offset, target)
    return [{**r, "at": r["at"].isoformat()} for r in rows]
