"""Read models the API and the dashboard share: campaign lists and the live campaign view.

Composed from the services (status from the maintained counters, the report's failures and
requests, the stored plan's blocked groups) plus the throughput series; nothing here writes.
"""
from __future__ import annotations

import time
from typing import Any

from orchestrator.adapters.metrics import throughput
from orchestrator.domain import waiting
from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.jobs import FAILED, JobState
from orchestrator.domain.plan_report import REASONS
from orchestrator.entrypoints.api.deps import ApiState
from orchestrator.errors import OrchestratorError
from orchestrator.service import campaigns, planning, reports

LIST_FIELDS = ("id", "name", "state", "target", "device_count", "created_by", "approved_by",
               "created_at", "started_at", "finished_at", "current_wave", "wave_count",
               "pause_reason")
THROUGHPUT_TTL_S = 10.0
_FAILED = {s.value for s in FAILED if s not in (JobState.BLOCKED, JobState.CANCELLED)}
# next actions that mean "talk to the manufacturer": the FIR contact, else the model's newest
MANUFACTURER_ACTIONS = {"contact_manufacturer", "site_visit_or_manufacturer_contact",
                        "investigate_security_finding", "choose_active_target"}


def campaign_list(st: ApiState, limit: int, offset: int) -> list[dict[str, Any]]:
    """Campaign rows, newest first."""
    with st.app.uow() as uow:
        rows = uow.campaigns.list(limit, offset)
    return [{k: _json(r[k]) for k in LIST_FIELDS} for r in rows]


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def progress(states: dict[str, int]) -> dict[str, int]:
    """Totals of a state count map: done, failed, cancelled, blocked, in flight (a request
    out, waiting for its answer) and queued (the orchestrator owes the next request)."""
    def total_of(kinds: frozenset[str] | set[str]) -> int:
        return sum(n for s, n in states.items() if s in kinds)
    return {"total": sum(states.values()), "done": states.get("done", 0),
            "failed": total_of(_FAILED), "cancelled": states.get("cancelled", 0),
            "blocked": states.get("blocked", 0), "in_flight": total_of(waiting.IN_FLIGHT),
            "scheduled": states.get(waiting.SCHEDULED, 0),
            "queued": total_of(waiting.QUEUED)}


def campaign_live(st: ApiState, campaign_id: int) -> dict[str, Any]:
    """Everything the campaign page shows, in one JSON document (polled every few seconds)."""
    status = campaigns.status(st.app.uow(), campaign_id, st.now())
    with st.app.uow() as uow:
        failures = uow.campaigns.failures(campaign_id)
        requests = uow.requests.sent_counts(campaign_id)
        events = uow.campaigns.events(campaign_id, limit=1000)[-15:]
        row = uow.campaigns.row(campaign_id) or {}
    waves = [{"wave": int(w), **progress(s), "states": s} for w, s in status["waves"].items()]
    return {"status": _jsonable(status), "progress": progress(status["states"]),
            "waves": waves, "requests": requests,
            "failures": {k: n for k, n in failures.items() if k not in REASONS},
            "throughput": cached_throughput(st, campaign_id),
            "blocked_groups": blocked_groups(st, row.get("plan_id"), row.get("snapshot_id")),
            "events": [{"at": str(e["at"]), "name": e["name"], "actor": e["actor"],
                        "reason": e["reason"]} for e in reversed(events)]}


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _json(v) for k, v in data.items()}


def cached_throughput(st: ApiState, campaign_id: int, buckets: int = 40) -> dict[str, Any]:
    """The throughput series, recomputed at most every THROUGHPUT_TTL_S per campaign."""
    key = ("throughput", campaign_id, buckets)
    hit = st.cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < THROUGHPUT_TTL_S:
        return dict(hit[1])
    value = throughput(st.app.engine, campaign_id, buckets)
    st.cache[key] = (time.monotonic(), value)
    return value


def blocked_groups(st: ApiState, plan_id: int | None, snapshot_id: int | None = None,
                   limit: int = 25) -> list[dict[str, Any]]:
    """Blocked devices grouped by reason and next action, with the manufacturer to contact."""
    if plan_id is None:
        return []
    try:
        plan = planning.load_plan(st.app.uow(), plan_id)
        catalogue = st.app.catalogue(snapshot_id or plan.snapshot_id)
    except OrchestratorError:
        return []
    groups = [dict(g) for g in plan.summary.get("blocked", [])[:limit]]
    samples = [g["sample_device_ids"][0] for g in groups if g.get("sample_device_ids")]
    with st.app.uow() as uow:
        devices = uow.fleet.get_many(samples)
    for g in groups:
        first = devices.get((g.get("sample_device_ids") or [""])[0])
        g["manufacturer"] = first.manufacturer if first else None
        g["model"] = first.model if first else None
        action = g["next_action"] = dict(g.get("next_action") or {})
        if first and "contact" not in action and action.get("action") in MANUFACTURER_ACTIONS:
            action["contact"] = model_contact(catalogue, first.manufacturer, first.model)
    return groups


def model_contact(catalogue: Catalogue, manufacturer: str, model: str) -> dict[str, str] | None:
    """The FIR contact of the newest catalogue entry of a model that has one."""
    for entry in reversed(catalogue.lineage(manufacturer, model)):
        if entry.contact_email or entry.contact_telephone:
            return {"email": entry.contact_email, "telephone": entry.contact_telephone,
                    "address": entry.contact_address}
    return None


def campaign_devices(st: ApiState, campaign_id: int, state: str | None, limit: int,
                     offset: int) -> list[dict[str, Any]]:
    """A page of a campaign's device jobs."""
    return reports.campaign_devices(st.app.uow(), campaign_id, state, limit, offset)


def campaign_events(st: ApiState, campaign_id: int, limit: int) -> list[dict[str, Any]]:
    """A campaign's events (who, when, why), oldest first."""
    campaigns.status(st.app.uow(), campaign_id)
    with st.app.uow() as uow:
        events = uow.campaigns.events(campaign_id, limit=limit)
    return [{k: _json(v) for k, v in e.items()} for e in events]

