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
    ConfigurationError,
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
BOOTSTRAP = "bootstrap"  # the local shell's role while no admin exists (creates the first)
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


@dataclass(frozen=True)
class Approvals:
    """The deployment's four-eyes rule (settings, never a campaign's own): a campaign of more
    than `above` devices needs approval by someone other than its creator, holding `role`."""

    above: int = 1000
    role: str = "approver"

    def __post_init__(self) -> None:
        if self.above < 0:
            raise ConfigurationError(f"FWO_APPROVAL_REQUIRED_ABOVE={self.above}: a size, 0 "
                                     "or more")
        if self.role not in ROLES[1:]:
            raise ConfigurationError(f"FWO_APPROVE_ROLE={self.role!r}: one of "
                                     f"{', '.join(ROLES[1:])}")

    def require_approver(self, principal: Principal) -> None:
        """Raise PermissionDeniedError unless the principal's role may approve."""
        if principal.role not in ROLES or ROLES.index(principal.role) < ROLES.index(self.role):
            raise PermissionDeniedError(
                f"{principal.name} ({principal.role}) may not approve: this deployment "
                f"needs the {self.role} role or above")


def allows(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` (roles are cumulative; `bootstrap` holds none)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(PERMISSIONS[permission])


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


def bootstrap_principal(login: str) -> Principal:
    """The local shell creating the first admin (recorded as `cli:<login>`)."""
    return Principal(f"cli:{login}", BOOTSTRAP)


def _check_bootstrap(uow: UnitOfWork, role: str) -> None:
    uow.audit.lock()  # one bootstrap at a time: two shells cannot both create a first admin
    if uow.access.has_admin():
        raise AuthenticationError("an admin exists already: pass an admin's token "
                                  "(FWO_TOKEN or --token) to create users")
    if role != "admin":
        raise AccessError("without a token only the first admin can be created: "
                          "use --role admin")


def _check(name: str, role: str | None = None) -> None:
    if not NAME.match(name):
        raise AccessError(f"user name {name!r}: use 1-100 letters, digits, '.', '_', '@', '-'")
    if role is not None and role not in ROLES:
        raise AccessError(f"unknown role {role!r}: one of {', '.join(ROLES)}")


def create_user(uow: UnitOfWork, name: str, role: str, actor: Principal, now: dt.datetime,
                reason: str = "") -> dict[str, Any]:
    """Add a user (names are case-insensitive) and issue its first token (returned once).

    Needs an admin, except the local bootstrap: `actor` is the `bootstrap` principal
    (`Principal("cli:<login>", "bootstrap")`), allowed only while no enabled admin exists,
    and only to create an admin.
    """
    _check(name, role)
    token = new_token()
    with uow:
        if actor.role == BOOTSTRAP:
            _check_bootstrap(uow, role)
        else:
            require(actor, "admin")
        user_id = uow.access.add_user(name, role, actor.name, now)
        uow.access.add_token(user_id, hash_token(token), token[:12], now)
        audit.append(uow, actor, "user.create", f"user:{name}", reason, "ok", now,
                     {"role": role})
        uow.commit()
    return {"name": name, "role": role, "token": token}


def issue_token(uow: UnitOfWork, name: str, actor: Principal, now: dt.datetime,
                reason: str = "") -> dict[str, Any]:
    """Issue another token for a user (returned once)."""
    require(actor, "admin")
    token = new_token()
    with uow:
        user = _user(uow, name)
        uow.access.add_token(user["id"], hash_token(token), token[:12], now)
        audit.append(uow, actor, "user.token", f"user:{user['name']}", reason, "ok", now,
                     {"prefix": token[:12]})
        uow.commit()
    return {"name": user["name"], "role": user["role"], "token": token}


def revoke_tokens(uow: UnitOfWork, name: str, actor: Principal, now: dt.datetime,
                  reason: str = "") -> dict[str, Any]:
    """Revoke every token of a user."""
    require(actor, "admin")
    with uow:
        user = _user(uow, name)
        count = uow.access.revoke_tokens(user["id"], now)
        audit.append(uow, actor, "user.revoke", f"user:{user['name']}", reason, "ok", now,
                     {"revoked": count})
        uow.commit()
    return {"name": user["name"], "revoked": count}


def set_role(uow: UnitOfWork, name: str, role: str, actor: Principal, now: dt.datetime,
             reason: str = "") -> dict[str, Any]:
    """Change a user's role."""
    _check(name, role)
    require(actor, "admin")
    with uow:
        user = _user(uow, name)
        uow.access.update_user(user["id"], role=role)
        audit.append(uow, actor, "user.role", f"user:{user['name']}", reason, "ok", now,
                     {"from": user["role"], "to": role})
        uow.commit()
    return {"name": user["name"], "role": role}


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
