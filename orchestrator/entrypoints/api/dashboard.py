"""The operations dashboard: server-rendered Jinja2 pages with a little inline JavaScript.

Sign-in takes an API token and keeps it in an HttpOnly, SameSite=Strict cookie (the bearer
header works too). Pages poll the JSON API with that cookie (safe methods only); the forms
that act (campaign actions, retry failed devices) carry a CSRF token derived from the cookie.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orchestrator.domain.jobs import JobState
from orchestrator.entrypoints.api import views
from orchestrator.entrypoints.api.deps import (
    COOKIE,
    NO_NUL,
    DevicePath,
    IdPath,
    Page,
    Permission,
    Viewer,
    audited,
    page,
    state,
)
from orchestrator.entrypoints.api.routes_fleet import device_history, eui
from orchestrator.errors import AuthenticationError, OrchestratorError, PermissionDeniedError
from orchestrator.service import access, campaigns, reports
from orchestrator.service import catalogue as catalogue_service
from orchestrator.service.access import Principal

router = APIRouter(prefix="/ui", tags=["dashboard"], include_in_schema=False)
public = APIRouter(include_in_schema=False)
CampaignActor = Annotated[Principal, Depends(Permission("operate", cookie_for_unsafe=True))]
Action = Literal["submit", "approve", "start", "pause", "resume", "cancel"]


def csrf_token(request: Request) -> str:
    """A value only a page served to this cookie's holder can know."""
    cookie = request.cookies.get(COOKIE, "")
    return hashlib.sha256(f"fwo-csrf:{cookie}".encode()).hexdigest() if cookie else ""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A template with the signed-in user and the CSRF token in its context."""
    principal = getattr(request.state, "principal", None)
    return state(request).templates.TemplateResponse(
        request, name, {"user": principal, "csrf": csrf_token(request), **context},
        status_code=status)


def ui_problem(request: Request, status: int, detail: str) -> Response | None:
    """Dashboard pages answer 401 with the sign-in form and 403/404 with a page, in HTML."""
    if not request.url.path.startswith("/ui"):
        return None
    if status == 401:
        return render(request, "login.html", 401, error=detail, next=request.url.path)
    return render(request, "error.html", status, status_code=status, detail=detail)


@public.get("/")
def home() -> RedirectResponse:
    """The dashboard's campaign list."""
    return RedirectResponse("/ui/campaigns", status_code=303)


@public.get("/ui/login")
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", next="/ui/campaigns")


@public.post("/ui/login")
def login(request: Request, token: Annotated[str, Form(max_length=200)],
          next_: Annotated[str, Form(alias="next", max_length=200)] = "/ui/campaigns") -> Any:
    """Check the token; keep it in an HttpOnly cookie and go on."""
    principal = access.authenticate(state(request).app.uow(), token.strip())
    target = next_ if next_.startswith("/ui/") and "//" not in next_ else "/ui/campaigns"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    request.state.principal = principal
    return response


@public.post("/ui/logout")
def logout() -> RedirectResponse:
    """Forget the cookie."""
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/campaigns")
def campaign_list(request: Request, _: Viewer, p: Annotated[Page, Depends(page)]) -> Any:
    """Campaigns with their progress."""
    st = state(request)
    rows = views.campaign_list(st, p.limit, p.offset)
    now = st.now()
    for row in rows:
        status = campaigns.status(st.app.uow(), row["id"], now)
        row["progress"] = views.progress(status["states"])
        row["waiting"] = status["waiting"]
    return render(request, "campaigns.html", campaigns=rows, page=p)


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: IdPath, user: Viewer) -> Any:
    """One campaign: waves, states, failures, throughput, blocked devices; live refresh."""
    live = views.campaign_live(state(request), campaign_id)
    return render(request, "campaign.html", live=live, campaign_id=campaign_id,
                  can_operate=user.can("operate"),
                  can_approve=_may_approve(state(request), user, live))


def _may_approve(st: Any, user: Principal, live: dict[str, Any]) -> bool:
    """Offer approve only to a role the deployment lets approve, and never to the creator."""
    try:
        st.app.approvals().require_approver(user)
    except PermissionDeniedError:
        return False
    creator = str(live.get("status", {}).get("created_by") or "")
    return creator.casefold() != user.name.casefold()


@router.post("/campaigns/{campaign_id}/action")
def campaign_action(request: Request, campaign_id: IdPath, user: CampaignActor,
                    action: Annotated[Action, Form()], csrf: Annotated[str, Form(max_length=64)],
                    reason: Annotated[str, Form(max_length=2000, pattern=NO_NUL)] = "") -> Any:
    """A campaign action from the page's form (CSRF-checked), then back to the page."""
    expected = csrf_token(request)
    if not expected or not hmac.compare_digest(expected, csrf):
        raise AuthenticationError("the form is stale or forged (CSRF check failed): reload")
    st = state(request)
    audited(request, user, f"campaign.{action}", f"campaign:{campaign_id}", reason,
            lambda entry: campaigns.act(st.execution(), campaign_id, action, user, reason,
                                        entry.data))
    return RedirectResponse(f"/ui/campaigns/{campaign_id}", status_code=303)


@router.get("/campaigns/{campaign_id}/devices")
def campaign_devices_page(request: Request, campaign_id: IdPath, _: Viewer,
                          p: Annotated[Page, Depends(page)],
                          state_: Annotated[JobState | None, Query(alias="state")] = None
                          ) -> Any:
    """A campaign's devices (optionally in one state), as `fwo campaign devices`."""
    wanted = state_.value if state_ else None
    rows = reports.campaign_devices(state(request).app.uow(), campaign_id, wanted, p.limit,
                                    p.offset)
    return render(request, "campaign_devices.html", campaign_id=campaign_id, rows=rows,
                  wanted=wanted, states=[s.value for s in JobState], page=p)


@router.post("/campaigns/{campaign_id}/retry-failed")
def campaign_retry_failed(request: Request, campaign_id: IdPath, user: CampaignActor,
                          csrf: Annotated[str, Form(max_length=64)],
                          reason: Annotated[str, Form(max_length=2000, pattern=NO_NUL)] = ""
                          ) -> Any:
    """Retry every failed device from the campaign page's form (CSRF-checked)."""
    expected = csrf_token(request)
    if not expected or not hmac.compare_digest(expected, csrf):
        raise AuthenticationError("the form is stale or forged (CSRF check failed): reload")
    st = state(request)
    audited(request, user, "campaign.retry_failed", f"campaign:{campaign_id}", reason,
            lambda entry: campaigns.retry_failed(st.execution(), campaign_id, user, reason,
                                                 entry.data))
    return RedirectResponse(f"/ui/campaigns/{campaign_id}/devices", status_code=303)


@router.get("/devices")
def device_search(request: Request, _: Viewer,
                  q: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None) -> Any:
    """Find a device's history by its ID."""
    if q and q.strip():
        return RedirectResponse(f"/ui/devices/{eui(q)}", status_code=303)
    return render(request, "device.html", history=None)


@router.get("/devices/{device_id}")
def device_page(request: Request, device_id: DevicePath, _: Viewer) -> Any:
    """Every campaign job and transition of one device."""
    return render(request, "device.html",
                  history=device_history(state(request).app, device_id))


@router.get("/compliance")
def compliance_page(request: Request, _: Viewer) -> Any:
    """Per manufacturer and model: current, planned, blocked and why, on no CPL entry."""
    try:
        data = reports.fleet_compliance(state(request).app.uow())
    except OrchestratorError as err:  # no catalogue yet
        return render(request, "compliance.html", data=None, message=str(err))
    return render(request, "compliance.html", data=data)


@router.get("/catalogue")
def catalogue_page(request: Request, _: Viewer, p: Annotated[Page, Depends(page)],
                   snapshot_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
                   ) -> Any:
    """The current catalogue's entries, a snapshot's diff and the snapshot history."""
    app = state(request).app
    try:
        record = catalogue_service.snapshot(app.uow(), snapshot_id)
    except OrchestratorError as err:
        return render(request, "catalogue.html", snapshot=None, message=str(err))
    with app.uow() as uow:
        history = uow.catalogue.snapshots(20)
    entries = list(app.catalogue(None))
    return render(request, "catalogue.html", snapshot=record, history=history,
                  entries=entries[p.offset:p.offset + p.limit], total=len(entries), page=p)

