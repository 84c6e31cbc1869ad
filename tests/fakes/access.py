"""In-memory API users, token hashes and audit rows."""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

from orchestrator.errors import UserExistsError
from tests.fakes.state import State, next_id


# access and audit ---------------------------------------------------------------------------
class InMemoryAccessRepository:
    """Users with a role and the hashes of their tokens; names unique whatever their case."""

    def __init__(self, state: State):
        self.s = state

    def add_user(self, name: str, role: str, created_by: str, at: dt.datetime) -> int:
        existing = self.user(name)
        if existing is not None:
            raise UserExistsError(f"user {name!r} already exists (as {existing['name']!r}): "
                                  "user names are case-insensitive")
        user_id = next_id(self.s.users)
        self.s.users[user_id] = {"id": user_id, "name": name, "role": role,
                                 "created_by": created_by, "created_at": at, "disabled": False}
        return user_id

    def user(self, name: str) -> dict[str, Any] | None:
        found = next((u for u in self.s.users.values() if u["name"].lower() == name.lower()),
                     None)
        return None if found is None else dict(found)

    def has_admin(self) -> bool:
        return any(u["role"] == "admin" and not u["disabled"] for u in self.s.users.values())

    def users(self) -> list[dict[str, Any]]:
        live = Counter(t["user_id"] for t in self.s.tokens.values() if t["revoked_at"] is None)
        return [{**u, "tokens": live[u["id"]]}
                for u in sorted(self.s.users.values(), key=lambda u: u["name"])]

    def update_user(self, user_id: int, **values: Any) -> None:
        self.s.users[user_id].update(values)

    def add_token(self, user_id: int, token_hash: str, prefix: str, at: dt.datetime) -> int:
        if any(t["token_hash"] == token_hash for t in self.s.tokens.values()):
            raise ValueError("token hash already stored")  # the unique index
        token_id = next_id(self.s.tokens)
        self.s.tokens[token_id] = {"id": token_id, "user_id": user_id, "token_hash": token_hash,
                                   "prefix": prefix, "created_at": at, "revoked_at": None}
        return token_id

    def principal(self, token_hash: str) -> dict[str, Any] | None:
        token = next((t for t in self.s.tokens.values() if t["token_hash"] == token_hash
                      and t["revoked_at"] is None), None)
        user = None if token is None else self.s.users[token["user_id"]]
        if token is None or user is None or user["disabled"]:
            return None
        return {"name": user["name"], "role": user["role"], "token_id": token["id"]}

    def revoke_tokens(self, user_id: int, at: dt.datetime) -> int:
        live = [t for t in self.s.tokens.values()
                if t["user_id"] == user_id and t["revoked_at"] is None]
        for token in live:
            token["revoked_at"] = at
        return len(live)


class InMemoryAuditRepository:
    """Append-only audit rows (the chain's hashes are computed by the service)."""

    def __init__(self, state: State):
        self.s = state

    def lock(self) -> None:
        """Nothing to do: in-memory units of work are single-threaded."""

    def head(self) -> tuple[int, str] | None:
        return (int(self.s.audit[-1]["id"]), str(self.s.audit[-1]["hash"])) if self.s.audit else None

    def append(self, row: dict[str, Any]) -> None:
        if self.s.audit and row["id"] <= self.s.audit[-1]["id"]:
            raise ValueError(f"audit row {row['id']} is not after the head")  # primary key
        self.s.audit.append(copy.deepcopy(row))

    def rows(self) -> Iterator[dict[str, Any]]:
        return iter(copy.deepcopy(self.s.audit))

    def page(self, limit: int, offset: int = 0, target: str | None = None
             ) -> list[dict[str, Any]]:
        rows = [r for r in reversed(self.s.audit) if target in (None, r["target"])]
        return copy.deepcopy(rows[offset:offset + limit])
