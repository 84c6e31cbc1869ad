"""`/api/campaigns`: create, act (submit, approve, start, pause, resume, cancel), single
devices (cancel, retry), status, live view, report, devices and events."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.domain.jobs import JobState
from orchestrator.domain.policy import Policy
from orchestrator.entrypoints.api import views
from orchestrator.entrypoints.api.deps import (
    NO_NUL,
    DevicePath,
    IdPath,
    Operator,
    Page,
    Permission,
    Viewer,
    audited,
    page,
    state,
)
from orchestrator.service import campaigns as service
from orchestrator.service import reports
from orchestrator.service.access import Principal

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])
# The least permission each campaign action's route lets through; the service then checks
# the action's own (approve: the deployment's FWO_APPROVE_ROLE, which may be operator).
ACTIONS: dict[str, str] = {a: "operate" for a in service.ACTIONS if a != "abort"}
DEVICE_ACTIONS = ("cancel", "retry")
Reason = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]
StateQuery = Annotated[JobState | None, Query(alias="state", description="only this state")]


class CreateBody(BaseModel):
    """A campaign: which devices (selection), which target, and how (the policy).

    Unknown fields are refused (422), among them `approval_required_above`: the four-eyes
    size is the deployment's setting (FWO_APPROVAL_REQUIRED_ABOVE), never a request's.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    target: str = Field("latest", min_length=1, max_length=64, pattern=NO_NUL)
    selection: list[Annotated[str, Field(max_length=500, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=20)
    waves: str = Field("100%", max_length=200, description="cumulative, e.g. 1%,10%,100%")
    window: str | None = Field(None, max_length=20, description="activation HH:MM-HH:MM")
    timezone: str = Field("Europe/London", max_length=64)
    budgets: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=8,
        description="SR=LIMIT[/SECONDS], e.g. 11.1=100/3600; the other SR types keep their default")
    device_id_list_max: int = Field(500, ge=1, le=50_000)
    success_threshold: str | None = Field(
        None, max_length=16, description="share of a wave to succeed, e.g. 95% or 0.95")
    failure_thresholds: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=16,
        description="KIND=N or KIND=P% of a wave, e.g. *=10%, timeout=5 (replace the default)")
    allow_unknown_predecessors: bool = False
    reason: Reason = ""

    @model_validator(mode="before")
    @classmethod
    def _no_four_eyes_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and "approval_required_above" in data:
            raise ValueError("approval_required_above is not part of a campaign request: the "
                             "four-eyes size is the deployment's setting "
                             "(FWO_APPROVAL_REQUIRED_ABOVE)")
        return data

    def policy(self) -> Policy:
        """The campaign policy, or CampaignInputError naming the bad value (422)."""
        return service.typed_policy(
            waves=self.waves, window=self.window, timezone=self.timezone, budgets=self.budgets,
            success=self.success_threshold, failures=self.failure_thresholds,
            base=Policy(device_id_list_max=self.device_id_list_max))


class ActionBody(BaseModel):
    """Why (recorded with who and when in the campaign events and the audit trail)."""

    reason: Reason = ""


OptionalReason = Annotated[ActionBody | None, Body()]


@router.get("", summary="Campaigns, newest first")
def list_campaigns(request: Request, _: Viewer, p: Annotated[Page, Depends(page)]) -> Any:
    """A page of campaigns with state, size, creator and approver."""
    return p.wrap(views.campaign_list(state(request), p.limit, p.offset))


@router.post("", status_code=201, summary="Create a campaign (plans the selection)")
def create(request: Request, body: CreateBody, user: Operator) -> dict[str, Any]:
    """Plan the selected devices towards the target and store a draft campaign."""
    app = state(request).app
    command = service.CreateCampaign(body.name, body.target, tuple(body.selection),
                                     body.policy(), body.allow_unknown_predecessors,
                                     body.reason, created_by=user)
    return audited(request, user, "campaign.create", f"campaign:{body.name}", body.reason,
                   lambda entry: service.create_campaign(command, app.uow(), app.clock().now(),
                                                         entry.data),
                   {"target": body.target, "selection": body.selection})


@router.get("/{campaign_id}", summary="Campaign status (maintained counters)")
def status(request: Request, campaign_id: IdPath, _: Viewer) -> dict[str, Any]:
    """State, current wave and per-wave, per-state device counts."""
    st = state(request)
    return views._jsonable(service.status(st.app.uow(), campaign_id, st.now()))


@router.get("/{campaign_id}/live", summary="Everything the campaign page shows")
def live(request: Request, campaign_id: IdPath, _: Viewer) -> dict[str, Any]:
    """Status, progress per wave, failures, requests, throughput, blocked groups, events."""
    return views.campaign_live(state(request), campaign_id)


@router.get("/{campaign_id}/report", summary="Campaign report")
def report(request: Request, campaign_id: IdPath, _: Viewer) -> dict[str, Any]:
    """Failures by reason, requests by type, blocked devices and every event."""
    data = reports.campaign_report(state(request).app.uow(), campaign_id)
    return data | {"status": views._jsonable(data["status"])}


@router.get("/{campaign_id}/devices", summary="A campaign's devices")
def devices(request: Request, campaign_id: IdPath, _: Viewer,
            p: Annotated[Page, Depends(page)], state_: StateQuery = None) -> Any:
    """A page of device jobs (optionally in one state)."""
    wanted = state_.value if state_ else None
    return p.wrap(views.campaign_devices(state(request), campaign_id, wanted, p.limit, p.offset))


@router.get("/{campaign_id}/events", summary="A campaign's events")
def events(request: Request, campaign_id: IdPath, _: Viewer,
           limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
    """Who did what, when and why, oldest first."""
    return views.campaign_events(state(request), campaign_id, limit)


def _action_route(action: str) -> Callable[..., Any]:
    needed = Depends(Permission(ACTIONS[action]))

    def handler(request: Request, campaign_id: IdPath, body: OptionalReason = None,
                user: Principal = needed) -> dict[str, Any]:
        st, reason = state(request), (body.reason if body else "")
        with st.metrics.timed(f"campaign.{action}"):
            return audited(request, user, f"campaign.{action}", f"campaign:{campaign_id}",
                           reason, lambda entry: service.act(st.execution(), campaign_id, action,
                                                             user, reason, entry.data))

    handler.__doc__ = f"{service.COMMANDS[action].summary} Needs {ACTIONS[action]}."
    return handler


def _device_route(action: str) -> Callable[..., Any]:
    def handler(request: Request, campaign_id: IdPath, device_id: DevicePath, user: Operator,
                body: OptionalReason = None) -> dict[str, Any]:
        st, reason = state(request), (body.reason if body else "")
        return audited(request, user, f"device.{action}", f"device:{device_id}", reason,
                       lambda entry: service.device_action(st.execution(), campaign_id,
                                                           device_id, action, user, reason,
                                                           entry.data),
                       {"campaign_id": campaign_id})

    handler.__doc__ = f"{action.capitalize()} one device's job in the campaign."
    return handler


class ScheduleBody(BaseModel):
    """When to start (ISO 8601 with zone, in the future) and why."""

    model_config = ConfigDict(extra="forbid")

    start_at: dt.datetime
    reason: Reason = ""


@router.post("/{campaign_id}/schedule", summary="Schedule a campaign's start")
def schedule(request: Request, campaign_id: IdPath, user: Operator,
             body: ScheduleBody) -> dict[str, Any]:
    """Start an approved campaign at `start_at` (the reconciler starts it then)."""
    st = state(request)
    return audited(request, user, "campaign.schedule", f"campaign:{campaign_id}", body.reason,
                   lambda entry: service.schedule(st.execution(), campaign_id, body.start_at,
                                                  user, body.reason, entry.data))


@router.post("/{campaign_id}/retry-failed", summary="Retry every failed device")
def retry_failed(request: Request, campaign_id: IdPath, user: Operator,
                 body: OptionalReason = None) -> dict[str, Any]:
    """Retry every failed device (not quarantined, cancelled or blocked) from its step."""
    st, reason = state(request), (body.reason if body else "")
    return audited(request, user, "campaign.retry_failed", f"campaign:{campaign_id}", reason,
                   lambda entry: service.retry_failed(st.execution(), campaign_id, user,
                                                      reason, entry.data))


for _action in ACTIONS:
    router.add_api_route(f"/{{campaign_id}}/{_action}", _action_route(_action),
                         methods=["POST"], summary=f"{_action.capitalize()} a campaign",
                         name=f"campaign_{_action}")
for _action in DEVICE_ACTIONS:
    router.add_api_route(f"/{{campaign_id}}/devices/{{device_id}}/{_action}",
                         _device_route(_action), methods=["POST"],
                         summary=f"{_action.capitalize()} one device", name=f"device_{_action}")
