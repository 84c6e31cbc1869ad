"""`/api/audit` (read and verify the hash chain) and `/api/users` (users and tokens)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from orchestrator.entrypoints.api.deps import NO_NUL, Admin, Auditor, Page, Viewer, page, state
from orchestrator.service import access, audit

router = APIRouter(prefix="/api", tags=["access and audit"])
UserName = Annotated[str, Path(max_length=100, pattern=NO_NUL)]
Reason = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]


class NewUser(BaseModel):
    """A user to create, with a role; the first token is returned once."""

    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    role: Literal["viewer", "operator", "approver", "admin"]
    reason: Reason = ""


class RoleChange(BaseModel):
    """A new role for a user."""

    role: Literal["viewer", "operator", "approver", "admin"]
    reason: Reason = ""


class ReasonBody(BaseModel):
    """Why (recorded in the audit trail)."""

    reason: Reason = ""


@router.get("/me", summary="Who am I")
def me(user: Viewer) -> dict[str, Any]:
    """The authenticated user's name, role and permissions."""
    return {"name": user.name, "role": user.role,
            "permissions": sorted(p for p in access.PERMISSIONS if user.can(p))}


@router.get("/audit", summary="The audit trail, newest first")
def audit_log(request: Request, _: Auditor, p: Annotated[Page, Depends(page)],
              target: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None
              ) -> dict[str, Any]:
    """A page of audit rows with their chain hashes (optionally for one target)."""
    return p.wrap(audit.entries(state(request).app.uow(), p.limit, p.offset, target))


@router.get("/audit/head", summary="The audit chain's head (keep a copy outside)")
def audit_head(request: Request, _: Auditor) -> dict[str, Any]:
    """The newest row's id and hash, to compare with `verify?head=` later."""
    return audit.head(state(request).app.uow())


@router.get("/audit/verify", summary="Verify the audit hash chain")
def audit_verify(request: Request, _: Auditor,
                 head: Annotated[str | None, Query(max_length=64, description=(
                     "a head saved earlier: the chain must still lead through it"))] = None
                 ) -> dict[str, Any]:
    """Walk the chain: intact, or the first broken row id and why; the head hash."""
    return audit.verify(state(request).app.uow(), head).to_dict()


@router.get("/users", summary="Users")
def users(request: Request, _: Admin) -> list[dict[str, Any]]:
    """Every user with role and live token count (never a token)."""
    return access.list_users(state(request).app.uow())


@router.post("/users", status_code=201, summary="Create a user (token shown once)")
def create_user(request: Request, body: NewUser, user: Admin) -> dict[str, Any]:
    """Add a user with a role; the response holds its first token, shown only this once."""
    app = state(request).app
    return access.create_user(app.uow(), body.name, body.role, user, app.clock().now(),
                              body.reason)


@router.post("/users/{name}/tokens", status_code=201, summary="Issue a token (shown once)")
def issue_token(request: Request, name: UserName, user: Admin,
                body: Annotated[ReasonBody | None, Body()] = None) -> dict[str, Any]:
    """Issue another token for the user; only its SHA-256 is stored."""
    app = state(request).app
    return access.issue_token(app.uow(), name, user, app.clock().now(),
                              body.reason if body else "")


@router.post("/users/{name}/revoke", summary="Revoke every token of a user")
def revoke(request: Request, name: UserName, user: Admin,
           body: Annotated[ReasonBody | None, Body()] = None) -> dict[str, Any]:
    """Revoke all of the user's tokens at once."""
    app = state(request).app
    return access.revoke_tokens(app.uow(), name, user, app.clock().now(),
                                body.reason if body else "")


@router.post("/users/{name}/role", summary="Change a user's role")
def set_role(request: Request, name: UserName, body: RoleChange, user: Admin) -> dict[str, Any]:
    """Give the user another role."""
    app = state(request).app
    return access.set_role(app.uow(), name, body.role, user, app.clock().now(), body.reason)
