"""`/api/plans`: plan the fleet, read stored plans and their devices."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orchestrator.entrypoints.api.deps import (
    NO_NUL,
    IdPath,
    Operator,
    Page,
    Viewer,
    audited,
    page,
    state,
)
from orchestrator.service import planning

router = APIRouter(prefix="/api/plans", tags=["plans"])


class PlanBody(BaseModel):
    """Plan the selected devices towards a target (stored for campaigns)."""

    target: str = Field("latest", max_length=64, pattern=NO_NUL)
    selection: list[Annotated[str, Field(max_length=500, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=20)
    allow_unknown_predecessors: bool = False
    reason: str = Field("", max_length=2000, pattern=NO_NUL)


@router.get("", summary="Recent plans")
def recent(request: Request, _: Viewer,
           limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    """The newest stored plans first (summaries included)."""
    with state(request).app.uow() as uow:
        return [p.to_dict() for p in uow.plans.recent(limit)]


@router.post("", summary="Plan the fleet")
def create(request: Request, body: PlanBody, user: Operator) -> dict[str, Any]:
    """Plan every selected device and store the plan; the summary is returned."""
    command = planning.PlanFleet(body.target, tuple(body.selection),
                                 body.allow_unknown_predecessors)
    app = state(request).app
    result = audited(request, user, "plan.create", "plans", body.reason,
                     lambda entry: planning.plan_fleet(command, app.uow(), entry=entry),
                     {"target": body.target, "selection": body.selection})
    return result.header()


@router.get("/{plan_id}", summary="One stored plan")
def get(request: Request, plan_id: IdPath, _: Viewer) -> dict[str, Any]:
    """A plan's record with its stale flag and summary."""
    return planning.load_plan(state(request).app.uow(), plan_id).to_dict()


@router.get("/{plan_id}/devices", summary="A plan's devices")
def devices(request: Request, plan_id: IdPath, _: Viewer, p: Annotated[Page, Depends(page)],
            status: Literal["planned", "blocked", "up_to_date"] | None = None) -> Any:
    """A page of the plan's device rows with reason and next action."""
    rows = planning.plan_devices(state(request).app.uow(), plan_id, status,
                                 p.offset + p.limit)
    return p.wrap([r.to_dict() for r in rows[p.offset:]])
