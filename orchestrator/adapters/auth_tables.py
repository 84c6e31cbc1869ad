"""Tables of API users, their hashed tokens, and the hash-chained audit log."""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        Boolean,
                        Column,
                        DateTime,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
                        func,
)

from orchestrator.adapters.metadata import metadata

api_users = Table(
    "api_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)
# names are case-insensitive: `ADM` and `adm` are one user (migration 0007_b)
Index("ux_api_users_name_folded", func.lower(api_users.c.name), unique=True)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("api_users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
)

# Each row's `hash` is SHA-256 over `prev_hash` + the canonical JSON of the row; ids are
# assigned by the appender (previous id + 1) under a lock, so a gap is a deleted row.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("outcome", String(300), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_target", "target", "id"),
)
