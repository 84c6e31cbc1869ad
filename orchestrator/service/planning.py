"""Planning handlers: plan a selection of the fleet into a stored plan; staleness; read back.

The campaign engine calls `plan_fleet` (or reads a stored plan with `load_plan` and
`plan_devices`); `sync_catalogue` calls `mark_stale_plans` inside its transaction.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.plan_report import (
    LATEST,
    DevicePlan,
    PlannedDevice,
    ReportOptions,
    StoredPlan,
    stale_reason,
    summarise,
)
from orchestrator.domain.planner import Planner, PlanningPolicy
from orchestrator.domain.ports import SYSTEM_CLOCK, Clock
from orchestrator.errors import NoCatalogueError, PlanningError, PlanNotFoundError
from orchestrator.service import audit
from orchestrator.service.fleet import gc_paused, parse_selection, selected_devices
from orchestrator.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PlanFleet:
    """Command: plan the selected devices towards a target and (by default) store the plan."""

    target: str = LATEST
    selection: tuple[str, ...] = ()
    allow_unknown_predecessors: bool = False
    report: ReportOptions = field(default_factory=ReportOptions)
    store: bool = True


@dataclass(frozen=True)
class PlanResult:
    """A plan: its id (None when not stored), the report and every device's plan."""

    plan_id: int | None
    snapshot_id: int
    target: str
    selection: dict[str, list[str]]
    summary: dict[str, Any]
    devices: list[DevicePlan]

    def header(self) -> dict[str, Any]:
        """The summary with the plan's identity first."""
        return {"plan_id": self.plan_id, "snapshot_id": self.snapshot_id,
                "target": self.target, "selection": self.selection, **self.summary}

    def to_dict(self) -> dict[str, Any]:
        """`{summary: {...}, devices: [{device_id, status, reason, ...}]}` (`fwo plan --json`)."""
        return {"summary": self.header(), "devices": [p.to_dict() for p in self.devices]}


def plan_fleet(cmd: PlanFleet, uow: UnitOfWork, clock: Clock = SYSTEM_CLOCK,
               entry: audit.Entry | None = None) -> PlanResult:
    """Plan every selected device against the current catalogue, in one transaction (with
    its audit `entry`, when given and the plan is stored)."""
    selection = parse_selection(cmd.selection)
    policy = PlanningPolicy(allow_unknown_predecessors=cmd.allow_unknown_predecessors)
    with uow:
        catalogue = _catalogue(uow)
        target = _target(catalogue, cmd.target)
        planner = Planner(catalogue, policy)
        with gc_paused():  # a million devices and plans, and no reference cycles
            devices = list(selected_devices(uow, selection, planner))
            plans = planner.plan_all(devices, target)
            summary = summarise(plans, catalogue, cmd.report)
        entries = summary.pop("entries")
        plan_id = None
        if cmd.store:
            record = {"created_at": clock.now(), "snapshot_id": catalogue.snapshot_id,
                      "target": target, "selection": selection.to_dict(),
                      "policy": policy.to_dict(), "summary": summary, "entries": entries,
                      "device_count": len(plans), "stale": False}
            plan_id = uow.plans.add(record, plans)
            if entry is not None:
                entry.write(uow, plan_id=plan_id, devices=len(plans))
            uow.commit()
    return PlanResult(plan_id, int(catalogue.snapshot_id or 0), target, selection.to_dict(),
                      summary, plans)


def _catalogue(uow: UnitOfWork) -> Catalogue:
    snapshot_id = uow.catalogue.current_id()
    if snapshot_id is None:
        raise NoCatalogueError("no catalogue yet: run `fwo catalogue sync --cpl ... --fir ...`")
    return uow.catalogue.load(snapshot_id)


def _target(catalogue: Catalogue, target: str) -> str:
    wanted = target.strip()
    if wanted.lower() == LATEST:
        return LATEST
    if catalogue.get(wanted) is None:
        raise PlanningError(f"target {wanted!r} is neither 'latest' nor a CPL Entry ID in "
                            f"snapshot {catalogue.snapshot_id}")
    return wanted


def load_plan(uow: UnitOfWork, plan_id: int) -> StoredPlan:
    """A stored plan's record (with its stale flag and reason)."""
    with uow:
        found = uow.plans.get(plan_id)
    if found is None:
        raise PlanNotFoundError(f"no plan {plan_id}")
    return found


def plan_devices(uow: UnitOfWork, plan_id: int, status: str | None = None,
                 limit: int | None = None) -> list[PlannedDevice]:
    """A stored plan's device rows (optionally only `planned`, `blocked` or `up_to_date`)."""
    with uow:
        if uow.plans.get(plan_id) is None:
            raise PlanNotFoundError(f"no plan {plan_id}")
        return list(uow.plans.devices(plan_id, status, limit))


def iter_plan_devices(uow: UnitOfWork, plan_id: int, status: str | None = None
                      ) -> Iterator[PlannedDevice]:
    """As `plan_devices`, streamed inside a unit of work the caller holds open."""
    return uow.plans.devices(plan_id, status)


def mark_stale_plans(uow: UnitOfWork, diff: Mapping[str, Any], clock: Clock = SYSTEM_CLOCK
                     ) -> list[int]:
    """Flag every open plan whose entries the catalogue diff touches; return their ids.

    Runs inside the sync's unit of work (no commit here); the reason names the snapshot.
    """
    snapshot_id = uow.catalogue.current_id()
    stale = []
    for plan_id, entries in uow.plans.open_plans():
        reason = stale_reason(diff, entries, snapshot_id)
        if reason is not None:
            uow.plans.mark_stale(plan_id, reason, clock.now())
            stale.append(plan_id)
    return stale
