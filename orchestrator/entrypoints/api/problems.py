"""Errors as RFC 9457 `application/problem+json`: one table from error class to status.

Bad input is never a 500: validation errors are 422, the project's own errors map by class
(most specific first), and anything unexpected is a 500 without internals, logged in full.
"""
from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from duis.errors import DuisError
from fir_sync.errors import FirSyncError
from orchestrator.domain.errors import ApprovalError, DomainError, InvalidTransitionError
from orchestrator.errors import (
    AccessError,
    AuditError,
    AuditHeadError,
    AuthenticationError,
    CampaignError,
    CampaignInputError,
    CampaignNotFoundError,
    CatalogueError,
    ConfigurationError,
    DatabaseError,
    DeviceNotFoundError,
    DspUnavailableError,
    EntryNotFoundError,
    FleetError,
    NoCatalogueError,
    NotFoundError,
    OrchestratorError,
    PermissionDeniedError,
    PlanningError,
    PlanNotFoundError,
    SyncRefusedError,
    TransientError,
    UnknownUserError,
    UserExistsError,
)

log = structlog.get_logger(__name__)
PROBLEM = "application/problem+json"

# (error class, HTTP status, short title); the first matching row wins.
STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (AuthenticationError, 401, "Authentication required"),
    (PermissionDeniedError, 403, "Forbidden"),
    (UnknownUserError, 404, "No such user"),
    (UserExistsError, 409, "User exists"),
    (AccessError, 422, "Invalid user or role"),
    (NotFoundError, 404, "Not found"),
    (EntryNotFoundError, 404, "No such CPL entry"),
    (DeviceNotFoundError, 404, "No such device"),
    (PlanNotFoundError, 404, "No such plan"),
    (NoCatalogueError, 409, "No catalogue yet"),
    (SyncRefusedError, 422, "Catalogue sync refused"),
    (CatalogueError, 404, "Catalogue"),
    (FleetError, 422, "Fleet"),
    (PlanningError, 422, "Planning"),
    (CampaignNotFoundError, 404, "Not found"),
    (CampaignInputError, 422, "Invalid campaign request"),
    (CampaignError, 409, "Campaign action not possible"),
    (DspUnavailableError, 503, "DSP unavailable"),
    (TransientError, 503, "Temporarily unavailable"),
    (DatabaseError, 503, "Database unavailable"),
    (ConfigurationError, 503, "Service not configured"),
    (AuditHeadError, 422, "Invalid audit head"),
    (AuditError, 500, "Audit log"),
    (OrchestratorError, 400, "Bad request"),
    (FirSyncError, 422, "Catalogue file"),
    (DuisError, 422, "DUIS"),
)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="fwo"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def classify(err: Exception) -> tuple[int, str]:
    """The status and title of a project error."""
    if isinstance(err, CampaignError):
        special = _campaign(err)
        if special is not None:
            return special
    for cls, status, title in STATUS:
        if isinstance(err, cls):
            return status, title
    return 500, "Internal error"


def _campaign(err: CampaignError) -> tuple[int, str] | None:
    text = str(err)
    if isinstance(err.__cause__, ApprovalError):
        return 403, "Four-eyes rule"
    if isinstance(err.__cause__, InvalidTransitionError):
        return 409, "Invalid campaign transition"
    if isinstance(err.__cause__, DomainError) or text.startswith("unknown "):
        return 422, "Invalid campaign request"
    return None


async def _project_error(request: Request, err: Exception) -> Response:
    status, title = classify(err)
    detail = (str(err).splitlines() or [type(err).__name__])[0]
    if status >= 500:
        log.error("request_failed", error=type(err).__name__, detail=detail)
    hook = getattr(request.app.state, "problem_hook", None)
    if hook is not None:
        custom: Response | None = hook(request, status, detail)
        if custom is not None:
            return custom
    return problem(status, title, detail)


async def _validation(request: Request, err: Exception) -> Response:
    assert isinstance(err, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
              for e in err.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return problem(422, "Invalid request", f"{where}: {first['msg']}", errors=errors)


async def _http(request: Request, err: Exception) -> Response:
    assert isinstance(err, StarletteHTTPException)
    response = problem(err.status_code, _title(err.status_code), str(err.detail))
    for key, value in (err.headers or {}).items():
        response.headers[key] = value
    return response


async def _unexpected(request: Request, err: Exception) -> Response:
    log.exception("unhandled_error", error=type(err).__name__)
    return problem(500, "Internal error", "an unexpected error occurred; see the server log "
                   "with this request's X-Request-ID")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    for cls in (OrchestratorError, FirSyncError, DuisError):
        app.add_exception_handler(cls, _project_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
