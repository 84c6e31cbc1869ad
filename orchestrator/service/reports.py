"""Campaign reports: states, failures by reason, requests by type, blocked devices."""
from __future__ import annotations

from typing import Any

from orchestrator.domain.compliance import compliance
from orchestrator.domain.jobs import JobState
from orchestrator.service import forecast
from orchestrator.service.campaigns import status
from orchestrator.service.planning import PlanFleet, plan_fleet
from orchestrator.service.unit_of_work import UnitOfWork


def campaign_report(uow: UnitOfWork, campaign_id: int, blocked_limit: int = 1000
                    ) -> dict[str, Any]:
    """Everything ops ask after a campaign: what happened, what failed, what to do next."""
    data = status(uow, campaign_id)
    with uow:
        failures = uow.campaigns.failures(campaign_id)
        requests = uow.requests.sent_counts(campaign_id)
        blocked = uow.campaigns.jobs(campaign_id, states=[JobState.BLOCKED.value],
                                     limit=blocked_limit)
        events = uow.campaigns.events(campaign_id)
    return {"status": data, "failures": failures, "requests": requests,
            "blocked": [{"device_id": j.device_id, "reason": j.failure} for j in blocked],
            "events": [{"at": str(e["at"]), "name": e["name"], "actor": e["actor"],
                        "reason": e["reason"]} for e in events]}


def device_history(uow: UnitOfWork, device_id: str, limit: int = 500) -> dict[str, Any]:
    """Every campaign job of one device and its recorded transitions, oldest first."""
    with uow:
        jobs = uow.campaigns.jobs_of_device(device_id)
        events = uow.campaigns.device_history(device_id, limit)
    return {"device_id": device_id,
            "jobs": [{"campaign_id": j.campaign_id, "state": j.state.value, "step": j.step,
                      "path": list(j.path), "wave": j.wave, "attempt": j.attempt,
                      "failure": j.failure, "request_id": j.request_id} for j in jobs],
            "events": [{**e, "at": e["at"].isoformat() if e["at"] else None}
                       for e in events]}


def campaign_devices(uow: UnitOfWork, campaign_id: int, state: str | None, limit: int,
                     offset: int = 0) -> list[dict[str, Any]]:
    """A page of a campaign's device jobs (optionally in one state), in job order."""
    status(uow, campaign_id)  # CampaignNotFoundError for an unknown campaign
    with uow:
        jobs = uow.campaigns.jobs(campaign_id, states=[state] if state else None, limit=limit,
                                  offset=offset)
    return [{"device_id": j.device_id, "wave": j.wave, "state": j.state.value, "step": j.step,
             "path": list(j.path), "attempt": j.attempt, "failure": j.failure,
             "request_id": j.request_id,
             "due_at": j.due_at.isoformat() if j.due_at else None,
             "deadline_at": j.deadline_at.isoformat() if j.deadline_at else None}
            for j in jobs]


def fleet_compliance(uow: UnitOfWork) -> dict[str, Any]:
    """The whole fleet's compliance towards the latest Active firmware, from an unstored
    plan of every device against the current catalogue."""
    result = plan_fleet(PlanFleet(store=False), uow)
    with uow:
        catalogue = uow.catalogue.load(result.snapshot_id)
    return {"snapshot_id": result.snapshot_id, "target": result.target,
            **compliance(result.devices, catalogue), "forecast": forecast.latest(uow)}
