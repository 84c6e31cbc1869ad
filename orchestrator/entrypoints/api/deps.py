"""What every route depends on: the wired application, the caller's identity and role,
pagination, and recording mutating calls in the audit trail."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from orchestrator.adapters.metrics import Metrics
from orchestrator.bootstrap import App
from orchestrator.errors import OrchestratorError
from orchestrator.service import access, audit
from orchestrator.service.access import Principal
from orchestrator.service.wiring import Execution

COOKIE = "fwo_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_PAGE = 500
MAX_ID = 2**31 - 1
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it as bad input (422)
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
DevicePath = Annotated[str, Path(max_length=64, pattern=NO_NUL)]
T = TypeVar("T")
log = structlog.get_logger("fwo.audit")
BEARER = HTTPBearer(auto_error=False, description="an API token (`fwo user token NAME`)")
BEARER_CREDENTIALS = Depends(BEARER)


@dataclass
class ApiState:
    """The application behind the API, its metrics, templates and campaign execution."""

    app: App
    metrics: Metrics
    templates: Jinja2Templates
    _execution: Execution | None = None
    cache: dict[Any, tuple[float, Any]] = field(default_factory=dict)

    def execution(self) -> Execution:
        """The execution wiring (keys load lazily, on the first signature needed)."""
        if self._execution is None:
            self._execution = self.app.execution()
        return self._execution

    def now(self) -> dt.datetime:
        """The campaigns' time: a dry run's simulated clock when given one, else the app's."""
        return (self._execution.clock if self._execution is not None else self.app.clock()).now()


def state(request: Request) -> ApiState:
    """The ApiState of the app serving this request."""
    found: ApiState = request.app.state.fwo
    return found


class Permission:
    """Route dependency: authenticate the caller and require a permission.

    The cookie counts for safe methods only (unless `cookie_for_unsafe`, used by dashboard
    forms that carry a CSRF token), so a cross-site request cannot act with it.
    """

    def __init__(self, permission: str, cookie_for_unsafe: bool = False):
        self.permission = permission
        self.cookie_for_unsafe = cookie_for_unsafe

    def __call__(self, request: Request,
                 credentials: HTTPAuthorizationCredentials | None = BEARER_CREDENTIALS
                 ) -> Principal:
        safe = request.method in SAFE_METHODS
        token = credentials.credentials if credentials else None
        if token is None and (safe or self.cookie_for_unsafe):
            token = request.cookies.get(COOKIE)
        st = state(request)
        principal = access.authenticate(st.app.uow(), token)
        request.state.principal = principal
        if not principal.can(self.permission):
            if not safe:
                _record(st, request, principal, f"denied:{request.url.path}"[:64],
                        request.url.path, "", "denied", {"needs": self.permission})
            access.require(principal, self.permission)
        return principal


def Requires(permission: str, cookie_for_unsafe: bool = False) -> Any:
    """`Annotated` dependency type for a route parameter: the authorised Principal."""
    return Annotated[Principal, Depends(Permission(permission, cookie_for_unsafe))]


Viewer = Requires("read")
Operator = Requires("operate")
Approver = Requires("approve")
Auditor = Requires("audit")
Admin = Requires("admin")


@dataclass(frozen=True)
class Page:
    """limit/offset pagination (limit at most MAX_PAGE)."""

    limit: int
    offset: int

    def wrap(self, items: list[Any], total: int | None = None) -> dict[str, Any]:
        """`{items, limit, offset, next_offset[, total]}`."""
        more = len(items) >= self.limit if total is None else self.offset + len(items) < total
        body = {"items": items, "limit": self.limit, "offset": self.offset,
                "next_offset": self.offset + len(items) if more else None}
        return body | ({"total": total} if total is not None else {})


def page(limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
         offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page:
    """Pagination parameters."""
    return Page(limit, offset)


def audited(request: Request, principal: Principal, action: str, target: str, reason: str,
            call: Callable[[audit.Entry], T], data: Mapping[str, Any] | None = None) -> T:
    """Run a mutating call that writes its audit `Entry` inside its own transaction.

    The entry carries the request's id, method and path; a call refused with one of our
    errors is recorded here, on its own (its transaction rolled back).
    """
    st = state(request)
    context = {**(data or {}), **_request_data(request)}
    entry = audit.Entry(principal, action, target, reason, st.app.clock().now(), context)
    try:
        result = call(entry)
    except OrchestratorError as err:
        row_id = audit.refusal_or_log(st.app.uow, principal, action, target, reason, err,
                                      st.app.clock().now(), context)
        _log(row_id, request, principal, action, target, "refused")
        raise
    _log(None, request, principal, action, target, "ok")
    return result


def _request_data(request: Request) -> dict[str, Any]:
    return {"request_id": request.scope.get("fwo_request_id"), "method": request.method,
            "path": request.url.path}


def _record(st: ApiState, request: Request, principal: Principal, action: str, target: str,
            reason: str, outcome: str, data: Mapping[str, Any]) -> None:
    row_id = audit.record(st.app.uow(), principal, action, target, reason, outcome,
                          st.app.clock().now(), {**data, **_request_data(request)})
    _log(row_id, request, principal, action, target, outcome)


def _log(row_id: int | None, request: Request, principal: Principal, action: str,
         target: str, outcome: str) -> None:
    kind, _, ident = target.partition(":")
    ids = {f"{kind}_id": ident} if kind in ("campaign", "device") else {}
    log.info("audited", audit_id=row_id, action=action, outcome=outcome, user=principal.name,
             request_id=request.scope.get("fwo_request_id"), **ids)
