"""Access control: users with a role, API tokens stored as SHA-256 hashes, permission checks.

A token is `fwo_` + 32 random bytes (URL-safe base64); only its SHA-256 is stored, so the
secret is shown once, when it is issued. Roles are ordered: admin ⊇ approver ⊇ operator ⊇
viewer; `PERMISSIONS` names the least role each permission needs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import (
    AccessError,
    AuthenticationError,
    PermissionDeniedError,
    UnknownUserError,
)
from orchestrator.service import audit
from orchestrator.service.unit_of_work import UnitOfWork

ROLES = ("viewer", "operator", "approver", "admin")
PERMISSIONS: dict[str, str] = {
    "read": "viewer",        # every GET of the API and the dashboard, /metrics
    "operate": "operator",   # sync, import, plan, create/submit/start/pause/resume/cancel
    "approve": "approver",   # approve a campaign (never one the same user created)
    "audit": "approver",     # read and verify the audit log
    "admin": "admin",        # users and tokens
}
TOKEN_PREFIX = "fwo_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user name and role."""

    name: str
    role: str

    def can(self, permission: str) -> bool:
        """True when this role reaches the role the permission needs."""
        return allows(self.role, permission)


def allows(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` (roles are cumulative)."""
    return ROLES.index(role) >= ROLES.index(PERMISSIONS[permission])


def require(principal: Principal, permission: str) -> None:
    """Raise PermissionDeniedError unless the principal holds the permission."""
    if not principal.can(permission):
        raise PermissionDeniedError(
            f"{principal.name} ({principal.role}) may not {permission}: needs the "
            f"{PERMISSIONS[permission]} role or above")


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 of its text."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def authenticate(uow: UnitOfWork, token: str | None) -> Principal:
    """The active user a presented token belongs to, or AuthenticationError."""
    if not token:
        raise AuthenticationError("authentication required: send `Authorization: Bearer <token>`")
    if len(token) > 200:
        raise AuthenticationError("invalid or revoked token")
    with uow:
        found = uow.access.principal(hash_token(token))
    if found is None:
        raise AuthenticationError("invalid or revoked token")
    return Principal(found["name"], found["role"])


def _check(name: str, role: str | None = None) -> None:
    if not NAME.match(name):
        raise AccessError(f"user name {name!r}: use 1-100 letters, digits, '.', '_', '@', '-'")
    if role is not None and role not in ROLES:
        raise AccessError(f"unknown role {role!r}: one of {', '.join(ROLES)}")


def create_user(uow: UnitOfWork, name: str, role: str, actor: Principal, now: dt.datetime,
                reason: str = "") -> dict[str, Any]:
    """Add a user and issue its first token (returned once, in `token`)."""
    _check(name, role)
    token = new_token()
    with uow:
        user_id = uow.access.add_user(name, role, actor.name, now)
        uow.access.add_token(user_id, hash_token(token), token[:12], now)
        audit.append(uow, actor, "user.create", f"user:{name}", reason, "ok", now,
                     {"role": role})
        uow.commit()
    return {"name": name, "role": role, "token": token}


def issue_token(uow: UnitOfWork, name: str, actor: Principal, now: dt.datetime,
                reason: str = "") -> dict[str, Any]:
    """Issue another token for a user (returned once)."""
    token = new_token()
    with uow:
        user = _user(uow, name)
        uow.access.add_token(user["id"], hash_token(token), token[:12], now)
        audit.append(uow, actor, "user.token", f"user:{name}", reason, "ok", now,
                     {"prefix": token[:12]})
        uow.commit()
    return {"name": name, "role": user["role"], "token": token}


def revoke_tokens(uow: UnitOfWork, name: str, actor: Principal, now: dt.datetime,
                  reason: str = "") -> dict[str, Any]:
    """Revoke every token of a user."""
    with uow:
        user = _user(uow, name)
        count = uow.access.revoke_tokens(user["id"], now)
        audit.append(uow, actor, "user.revoke", f"user:{name}", reason, "ok", now,
                     {"revoked": count})
        uow.commit()
    return {"name": name, "revoked": count}


def set_role(uow: UnitOfWork, name: str, role: str, actor: Principal, now: dt.datetime,
             reason: str = "") -> dict[str, Any]:
    """Change a user's role."""
    _check(name, role)
    with uow:
        user = _user(uow, name)
        uow.access.update_user(user["id"], role=role)
        audit.append(uow, actor, "user.role", f"user:{name}", reason, "ok", now,
                     {"from": user["role"], "to": role})
        uow.commit()
    return {"name": name, "role": role}


def list_users(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Users with role, creator, time and live token count (never a token)."""
    with uow:
        rows = uow.access.users()
    return [{"name": r["name"], "role": r["role"], "created_at": r["created_at"].isoformat(),
             "created_by": r["created_by"], "disabled": bool(r["disabled"]),
             "tokens": int(r["tokens"])} for r in rows]


def _user(uow: UnitOfWork, name: str) -> dict[str, Any]:
    user = uow.access.user(name)
    if user is None:
        raise UnknownUserError(f"no user {name!r}")
    return user
