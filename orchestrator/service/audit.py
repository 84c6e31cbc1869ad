"""The tamper-evident audit trail: a hash chain over every mutating call.

Row n stores `prev_hash` (row n-1's hash; 64 zeros for the first) and
`hash = SHA-256(prev_hash + canonical JSON of the row)`, where the canonical JSON holds every
other column (id, at, actor, action, target, reason, outcome, data) with sorted keys and no
spaces. Ids run 1, 2, 3, ... without gaps (the appender assigns them under a lock), so an
edited, inserted, reordered or deleted row breaks the chain at the first row concerned.
A rewrite that recomputes every later hash with this public formula, or a truncation of the
newest rows, is only visible against a copy of the head hash kept outside the database:
`head` gives it (`fwo audit head`, exported on a schedule as a log line and a metric), and
`verify(uow, saved_head)` checks that the chain still leads through that saved head.

A mutating call writes its row with `append` inside its own transaction, so the action and
its row commit together or not at all; a refused call (its transaction rolled back) is
recorded on its own by `refusal`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import structlog

from orchestrator.domain.moments import utc
from orchestrator.domain.ports import Clock
from orchestrator.errors import AuditHeadError, OrchestratorError, PermissionDeniedError
from orchestrator.service.unit_of_work import UnitOfWork

T = TypeVar("T")

GENESIS = "0" * 64
log = structlog.get_logger("fwo.audit")
HASH_TEXT = re.compile(r"^[0-9a-fA-F]{64}$")
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
        at = utc(at).isoformat()
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


@dataclass(frozen=True)
class Entry:
    """The audit row of a call, which its handler writes inside its own transaction (so the
    work and its row commit together or not at all)."""

    actor: Actor
    action: str
    target: str
    reason: str
    at: dt.datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def write(self, uow: UnitOfWork, **more: Any) -> int:
        """Append the `ok` row in the caller's unit of work, with what the work found."""
        return append(uow, self.actor, self.action, self.target, self.reason, "ok", self.at,
                      {**self.data, **more})

    def write_alone(self, uow: UnitOfWork, **more: Any) -> int:
        """Append the row in its own transaction (a call that found nothing to change)."""
        with uow:
            row_id = self.write(uow, **more)
            uow.commit()
        return row_id


def record(uow: UnitOfWork, actor: Actor, action: str, target: str, reason: str,
           outcome: str, at: dt.datetime, data: Mapping[str, Any] | None = None) -> int:
    """Append one row in its own transaction (a refusal or denial: no work committed)."""
    with uow:
        row_id = append(uow, actor, action, target, reason, outcome, at, data)
        uow.commit()
    return row_id


def refusal(uow: UnitOfWork, actor: Actor, action: str, target: str, reason: str,
            err: OrchestratorError, at: dt.datetime,
            data: Mapping[str, Any] | None = None) -> int:
    """Record a refused (or denied) call, whose own transaction rolled back."""
    outcome = "denied" if isinstance(err, PermissionDeniedError) else "refused"
    return record(uow, actor, action, target, reason, f"{outcome}: {type(err).__name__}", at,
                  {**(data or {}), "error": str(err)[:500]})


def attempt(uow: Callable[[], UnitOfWork], clock: Clock, actor: Actor,
            action: str, target: str, reason: str, call: Callable[[], T],
            data: Mapping[str, Any] | None = None) -> T:
    """Run a call that writes its own `ok` row; record it as refused if it raises ours."""
    try:
        return call()
    except OrchestratorError as err:
        refusal_or_log(uow, actor, action, target, reason, err, clock.now(), data)
        raise


def refusal_or_log(uow: Callable[[], UnitOfWork], actor: Actor, action: str, target: str,
                   reason: str, err: OrchestratorError, at: dt.datetime,
                   data: Mapping[str, Any] | None = None) -> int | None:
    """`refusal`, or a log line when the audit store itself fails (the call's own error
    is what the caller reports)."""
    try:
        return refusal(uow(), actor, action, target, reason, err, at, data)
    except OrchestratorError as failure:
        log.error("audit_refusal_not_recorded", action=action, target=target,
                  user=actor.name, error=str(failure)[:300])
        return None


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


def verify_rows(rows: Iterable[Mapping[str, Any]], saved_head: str | None = None
                ) -> Verification:
    """Check ids, links and hashes in order; stop at the first broken row.

    With `saved_head` (a head hash kept outside the database), the chain must also pass
    through a row with that hash: a row rewritten before it, even with every later hash
    recomputed, or rows deleted back past it, change or lose that hash.
    """
    prev_hash, expected_id, count, seen = GENESIS, 1, 0, saved_head is None
    for row in rows:
        problem = _problem(row, prev_hash, expected_id)
        if problem:
            return Verification(False, count, prev_hash, int(row["id"]), problem)
        prev_hash, expected_id, count = row["hash"], int(row["id"]) + 1, count + 1
        seen = seen or row["hash"] == saved_head
    if not seen:
        return Verification(False, count, prev_hash, None,
                            f"the saved head {saved_head} is not in the chain: rows up to it "
                            "were rewritten (with later hashes recomputed) or deleted")
    return Verification(True, count, prev_hash)


def _problem(row: Mapping[str, Any], prev_hash: str, expected_id: int) -> str:
    if int(row["id"]) != expected_id:
        return f"row {expected_id} is missing (found row {row['id']} next)"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous row's hash"
    if chain_hash(row["prev_hash"], row) != row["hash"]:
        return "hash does not match the row's content (the row was altered)"
    return ""


def verify(uow: UnitOfWork, saved_head: str | None = None) -> Verification:
    """Walk the whole stored chain (and check it leads through `saved_head`, if given)."""
    if saved_head is not None and not HASH_TEXT.match(saved_head):
        raise AuditHeadError(f"--head {saved_head[:80]!r}: a head is 64 hex digits, as "
                             "`fwo audit head` prints it")
    with uow:
        return verify_rows(uow.audit.rows(), saved_head and saved_head.lower())


def head(uow: UnitOfWork) -> dict[str, Any]:
    """The chain's newest row: `{id, hash}` (id 0 and the genesis hash when empty)."""
    with uow:
        found = uow.audit.head()
    row_id, row_hash = found if found else (0, GENESIS)
    return {"id": row_id, "hash": row_hash}


def export_head(uow: UnitOfWork) -> dict[str, Any]:
    """Log the head (`audit_head` with id and hash) so log storage keeps a copy of it."""
    found = head(uow)
    log.info("audit_head", audit_id=found["id"], hash=found["hash"])
    return found


def entries(uow: UnitOfWork, limit: int, offset: int = 0, target: str | None = None
            ) -> list[dict[str, Any]]:
    """A page of the trail, newest first, JSON-ready."""
    with uow:
        rows = uow.audit.page(limit, offset, target)
    return [{**r, "at": r["at"].isoformat()} for r in rows]
