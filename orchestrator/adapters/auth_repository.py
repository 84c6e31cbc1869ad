"""SQLAlchemy repositories of API users and tokens, and of the hash-chained audit log."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from orchestrator.adapters.auth_tables import api_tokens, api_users, audit_log
from orchestrator.domain.moments import aware
from orchestrator.errors import UserExistsError

AUDIT_LOCK = 0x415544  # pg advisory lock key: one appender at a time extends the chain
READ_BATCH = 2000


def _user(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["created_at"] = aware(data["created_at"])
    return data


class SqlAlchemyAccessRepository:
    """Users with a role, and the SHA-256 hashes of their tokens (never the tokens)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def add_user(self, name: str, role: str, created_by: str, at: dt.datetime) -> int:
        """Store a new user; raise UserExistsError if the name is taken."""
        try:
            with self.connection.begin_nested():
                return int(self.connection.execute(insert(api_users).values(
                    name=name, role=role, created_by=created_by, created_at=at,
                    disabled=False).returning(api_users.c.id)).scalar_one())
        except IntegrityError as err:
            existing = self.user(name)
            spelled = f" (as {existing['name']!r})" if existing else ""
            raise UserExistsError(f"user {name!r} already exists{spelled}: user names are "
                                  "case-insensitive") from err

    def user(self, name: str) -> dict[str, Any] | None:
        """One user's row by name, whatever its case."""
        row = self.connection.execute(select(api_users).where(
            func.lower(api_users.c.name) == name.lower())).first()
        return None if row is None else _user(row)

    def has_admin(self) -> bool:
        """Whether an enabled admin exists (else the local shell may create the first)."""
        return self.connection.execute(select(api_users.c.id).where(
            api_users.c.role == "admin", api_users.c.disabled.is_(False)).limit(1)
            ).first() is not None

    def users(self) -> list[dict[str, Any]]:
        """Every user with the number of live tokens, by name."""
        live = (select(api_tokens.c.user_id, func.count().label("tokens"))
                .where(api_tokens.c.revoked_at.is_(None)).group_by(api_tokens.c.user_id)
                .subquery())
        rows = self.connection.execute(
            select(api_users, func.coalesce(live.c.tokens, 0).label("tokens"))
            .outerjoin(live, live.c.user_id == api_users.c.id).order_by(api_users.c.name))
        return [_user(r) for r in rows]

    def update_user(self, user_id: int, **values: Any) -> None:
        """Change a user's role or disabled flag."""
        self.connection.execute(update(api_users).where(api_users.c.id == user_id)
                                .values(**values))

    def add_token(self, user_id: int, token_hash: str, prefix: str, at: dt.datetime) -> int:
        """Store a token's hash; return the token row id."""
        return int(self.connection.execute(insert(api_tokens).values(
            user_id=user_id, token_hash=token_hash, prefix=prefix, created_at=at)
            .returning(api_tokens.c.id)).scalar_one())

    def principal(self, token_hash: str) -> dict[str, Any] | None:
        """The active user a live token belongs to: `{name, role, token_id}`."""
        row = self.connection.execute(
            select(api_users.c.name, api_users.c.role, api_tokens.c.id.label("token_id"))
            .join(api_tokens, api_tokens.c.user_id == api_users.c.id)
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None),
                   api_users.c.disabled.is_(False))).first()
        return None if row is None else dict(row._mapping)

    def revoke_tokens(self, user_id: int, at: dt.datetime) -> int:
        """Revoke every live token of a user; return how many."""
        return int(self.connection.execute(update(api_tokens).where(
            api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)).rowcount)


class SqlAlchemyAuditRepository:
    """Append-only rows of the audit chain; the appender holds the chain's lock."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def lock(self) -> None:
        """Serialise appenders: an advisory lock on PostgreSQL (SQLite's writer lock is held
        from BEGIN IMMEDIATE already)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK})")

    def head(self) -> tuple[int, str] | None:
        """(id, hash) of the newest row."""
        row = self.connection.execute(select(audit_log.c.id, audit_log.c.hash)
                                      .order_by(audit_log.c.id.desc()).limit(1)).first()
        return None if row is None else (int(row.id), str(row.hash))

    def append(self, row: dict[str, Any]) -> None:
        """Insert one row (its id and hashes already computed)."""
        self.connection.execute(insert(audit_log).values(**row))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row, oldest first, streamed."""
        result = self.connection.execute(select(audit_log).order_by(audit_log.c.id),
                                         execution_options={"yield_per": READ_BATCH})
        for row in result:
            yield _audit(row)

    def page(self, limit: int, offset: int = 0, target: str | None = None
             ) -> list[dict[str, Any]]:
        """A page of rows, newest first (optionally for one target)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        if target is not None:
            query = query.where(audit_log.c.target == target)
        return [_audit(r) for r in self.connection.execute(query)]


def _audit(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["at"] = aware(data["at"])
    return data
