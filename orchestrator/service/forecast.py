"""Compliance forecasts: by which date would the plannable fleet be current, at the budgets
and activation window a campaign would use?

A forecast is a dry run of the whole fleet on its simulated twin (the real engine, pacing
and window against the simulated DSP and devices, in simulated time): the entrypoint runs
it; this module gathers the estate it runs on and stores and reads what it found, with the
date it was made, so the compliance view can show how old the answer is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from orchestrator.domain.catalogue import CatalogueEntry
from orchestrator.domain.fleet import Device
from orchestrator.domain.plan_report import PLANNED
from orchestrator.domain.policy import Policy, policy_to_dict
from orchestrator.service import audit
from orchestrator.service.planning import PlanFleet, plan_fleet
from orchestrator.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Estate:
    """The deployment's catalogue and fleet, and the entry each device was planned from."""

    snapshot_id: int
    entries: list[CatalogueEntry]
    devices: list[Device]
    current_entry: dict[str, str]
    planned: int


def estate(uow: UnitOfWork) -> Estate:
    """The current catalogue and every device, from an unstored plan of the whole fleet."""
    result = plan_fleet(PlanFleet(store=False), uow)
    with uow:
        catalogue = uow.catalogue.load(result.snapshot_id)
    plans = result.devices
    return Estate(result.snapshot_id, list(catalogue), [p.device for p in plans],
                  {p.device_id: p.outcome.current_entry for p in plans
                   if p.outcome.current_entry},
                  sum(p.outcome.status == PLANNED for p in plans))


def record(uow: UnitOfWork, *, made_at: dt.datetime, made_by: str, land: Estate,
           run: dict[str, Any], policy: Policy, faults: str, seed: int,
           entry: audit.Entry | None = None) -> dict[str, Any]:
    """Store what the dry run of the twin found (with its audit `entry`); the stored form,
    as `latest` reads it (times as ISO 8601).

    `complete_by` is the real date the forecast was made plus the simulated time the run
    took to finish every device; a run that ended otherwise (paused by its thresholds, or
    past its horizon) has none, and says how many devices were left.
    """
    done = int(run["states"].get("done", 0))
    finished = run["final_state"] == "completed"
    complete_by = made_at + dt.timedelta(seconds=run["simulated_seconds"]) if finished else None
    report = {
        "plannable": land.planned, "twin_planned": run["devices"]["planned"],
        "done": done, "unfinished": max(run["devices"]["planned"] - done, 0),
        "final_state": run["final_state"], "pause_reason": run["pause_reason"],
        "simulated_days": run["simulated_days"], "states": run["states"],
        "requests": run["requests"], "bricked": run["bricked"], "faults": faults,
        "seed": seed, "policy": policy_to_dict(policy), "wall_seconds": run["wall_seconds"],
    }
    with uow:
        forecast_id = uow.fleet.add_forecast(made_at, made_by, land.snapshot_id, complete_by,
                                             report)
        if entry is not None:
            entry.write(uow, forecast_id=forecast_id, complete_by=complete_by,
                        plannable=land.planned)
        uow.commit()
    return {**report, "id": forecast_id, "made_at": made_at.isoformat(), "made_by": made_by,
            "snapshot_id": land.snapshot_id,
            "complete_by": complete_by.isoformat() if complete_by else None}


def latest(uow: UnitOfWork) -> dict[str, Any] | None:
    """The newest stored forecast, if any."""
    with uow:
        return uow.fleet.latest_forecast()
