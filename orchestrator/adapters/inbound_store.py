"""Raw inbound storage: every DSP message stored before anything else, then marked."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, literal_column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from orchestrator.adapters.campaign_tables import inbound_messages

_MARK = update(inbound_messages).where(inbound_messages.c.id == bindparam("m_id")).values(
    status=bindparam("m_status"), reason=bindparam("m_reason"),
    processed_at=bindparam("m_at"), kind=bindparam("m_kind"),
    request_id=bindparam("m_request_id"), content_sha256=bindparam("m_content"),
    response_id=bindparam("m_response_id"))


# by the content index alone (a status condition makes SQLite scan ix_inbound_status)
_APPLIED = select(inbound_messages.c.content_sha256, inbound_messages.c.id,
                  inbound_messages.c.status).where(
    inbound_messages.c.content_sha256.in_(bindparam("digests", expanding=True)))


# the same for every row, so written into the statement: three parameters a row keep a batch
# of up to 16 under the driver's limit (50) for caching the parsed statement
_RECEIVED: dict[str, Any] = {"status": literal_column("'received'"),
                             "reason": literal_column("''")}

INBOUND_APPLY_LOCK = 0x4657_4F49  # PostgreSQL advisory lock key of applying inbound ("FWOI")


class SqlAlchemyInboundStore:
    """Inbound messages as received, what became of each, and who may apply them."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def store_raw(self, sha256: str, raw: bytes, at: dt.datetime) -> tuple[int, bool]:
        """Store a message before anything else; (id, False) when it was seen before."""
        existing = self.connection.scalar(select(inbound_messages.c.id).where(
            inbound_messages.c.sha256 == sha256))
        if existing is not None:
            return int(existing), False
        try:
            with self.connection.begin_nested():
                new_id = self.connection.execute(insert(inbound_messages).values(
                    sha256=sha256, received_at=at, raw=raw, status="received", reason="")
                    .returning(inbound_messages.c.id)).scalar_one()
        except IntegrityError:  # stored by a concurrent receiver a moment ago
            return int(self.connection.execute(select(inbound_messages.c.id).where(
                inbound_messages.c.sha256 == sha256)).scalar_one()), False
        return int(new_id), True

    def store_many(self, messages: list[tuple[str, bytes]], at: dt.datetime
                   ) -> list[tuple[int, bool]]:
        """Store a batch before anything else; (id, new?) per message, in order.

        A message whose bytes were stored before (or earlier in the batch) is not new.
        """
        table = inbound_messages
        if self.connection.dialect.name in ("postgresql", "sqlite"):
            fresh, known = self._insert_new(dict(messages), at)
        else:
            known = {}
            shas = list(dict.fromkeys(sha for sha, _ in messages))
            for start in range(0, len(shas), 500):
                rows = self.connection.execute(select(table.c.sha256, table.c.id).where(
                    table.c.sha256.in_(shas[start:start + 500])))
                known.update({sha: int(i) for sha, i in rows})
            fresh = {sha: raw for sha, raw in messages if sha not in known}
            known.update(self._insert_fresh(fresh, at))
        seen: set[str] = set()
        result = []
        for sha, _ in messages:
            result.append((known[sha], sha in fresh and sha not in seen))
            seen.add(sha)
        return result

    def _insert_new(self, messages: dict[str, bytes], at: dt.datetime
                    ) -> tuple[dict[str, bytes], dict[str, int]]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING as one cached executemany (SQLAlchemy
        sends it as multi-row statements): one round trip for a batch of new messages (the ids of those stored before are then looked up);
        (the ones this call stored, id of every message)."""
        table = inbound_messages
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        items = list(messages.items())
        known: dict[str, int] = {}
        for start in range(0, len(items), 500):
            rows = [{"sha256": sha, "received_at": at, "raw": raw}
                    for sha, raw in items[start:start + 500]]
            statement = dialect.insert(table).values(_RECEIVED).on_conflict_do_nothing(
                index_elements=["sha256"]).returning(table.c.sha256, table.c.id)
            known.update({sha: int(i) for sha, i in self.connection.execute(statement, rows)})
        fresh = {sha: raw for sha, raw in items if sha in known}
        before = [sha for sha, _ in items if sha not in known]
        for start in range(0, len(before), 500):
            known.update({sha: int(i) for sha, i in self.connection.execute(
                select(table.c.sha256, table.c.id).where(
                    table.c.sha256.in_(before[start:start + 500])))})
        return fresh, known

    def _insert_fresh(self, fresh: dict[str, bytes], at: dt.datetime) -> dict[str, int]:
        if not fresh:
            return {}
        table = inbound_messages
        rows = [{"sha256": sha, "received_at": at, "raw": raw, "status": "received",
                 "reason": ""} for sha, raw in fresh.items()]
        try:
            with self.connection.begin_nested():
                result = self.connection.execute(
                    insert(table).returning(table.c.sha256, table.c.id,
                                            sort_by_parameter_order=True), rows)
                return {sha: int(i) for sha, i in result}
        except IntegrityError:  # a concurrent receiver stored one of them: go one by one
            return {sha: self.store_raw(sha, raw, at)[0] for sha, raw in fresh.items()}

    def mark_many(self, marks: list[tuple[int, str, str, dict[str, Any]]],
                  at: dt.datetime) -> None:
        """Record what became of each message of a batch (one executemany)."""
        if not marks:
            return
        rows = [{"m_id": mid, "m_status": status, "m_reason": reason, "m_at": at,
                 "m_kind": fields.get("kind"), "m_request_id": fields.get("request_id"),
                 "m_content": fields.get("content_sha256"),
                 "m_response_id": fields.get("response_id")}
                for mid, status, reason, fields in marks]
        self.connection.execute(_MARK, rows)

    def mark(self, message_id: int, status: str, at: dt.datetime, reason: str = "",
             **fields: Any) -> None:
        """Record what became of a stored message."""
        self.connection.execute(update(inbound_messages).where(
            inbound_messages.c.id == message_id).values(status=status, reason=reason,
                                                        processed_at=at, **fields))

    def applied_contents(self, digests: list[str]) -> dict[str, int]:
        """Which signed contents an applied message already carried: digest -> message id."""
        found: dict[str, int] = {}
        for start in range(0, len(digests), 500):
            found.update({sha: int(i) for sha, i, status in self.connection.execute(
                _APPLIED, {"digests": digests[start:start + 500]}) if status == "applied"})
        return found

    def claim(self, message_ids: list[int]) -> set[int]:
        """Which of these messages are still `received`, locked for this transaction.

        Applying is serialised across processes (a transaction-scoped advisory lock on
        PostgreSQL, the writer lock SQLite's BEGIN IMMEDIATE already holds), so two workers
        never apply the same message, nor two copies of the same signed content, and a
        message another worker marked meanwhile is no longer returned.
        """
        if not message_ids:
            return set()
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(text(f"SELECT pg_advisory_xact_lock({INBOUND_APPLY_LOCK})"))
        found: set[int] = set()
        for start in range(0, len(message_ids), 500):
            found.update(int(i) for (i,) in self.connection.execute(
                select(inbound_messages.c.id).where(
                    inbound_messages.c.id.in_(message_ids[start:start + 500]),
                    inbound_messages.c.status == "received").with_for_update()))
        return found

    def pending_messages(self, limit: int, received_before: dt.datetime | None = None
                         ) -> list[tuple[int, bytes]]:
        """Stored messages not yet processed (crash between store and apply), only those
        received before `received_before` when given."""
        query = (select(inbound_messages.c.id, inbound_messages.c.raw)
                 .where(inbound_messages.c.status == "received"))
        if received_before is not None:
            query = query.where(inbound_messages.c.received_at < received_before)
        rows = self.connection.execute(query.order_by(inbound_messages.c.id).limit(limit))
        return [(int(i), bytes(r)) for i, r in rows]

    def raw_messages(self, message_ids: list[int]) -> list[tuple[int, bytes]]:
        """Stored messages still waiting to be processed, by id."""
        rows = self.connection.execute(select(inbound_messages.c.id, inbound_messages.c.raw)
                                       .where(inbound_messages.c.id.in_(message_ids),
                                              inbound_messages.c.status == "received")
                                       .order_by(inbound_messages.c.id))
        return [(int(i), bytes(r)) for i, r in rows]

    def inbound_counts(self) -> dict[str, int]:
        """Stored messages by status."""
        rows = self.connection.execute(select(inbound_messages.c.status, func.count())
                                       .group_by(inbound_messages.c.status))
        return {s: int(n) for s, n in rows}
