"""Campaign handlers: create from a plan, approve, start, pause, resume, cancel; status."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.domain import waiting
from orchestrator.domain.campaign import Campaign, CampaignEvent, CampaignState, allowed_actions
from orchestrator.domain.errors import DomainError, PolicyError
from orchestrator.domain.jobs import TERMINAL, DeviceJob, JobState, Outcome, OutcomeKind
from orchestrator.domain.policy import Policy
from orchestrator.domain.policy_input import campaign_policy, check_name, check_policy
from orchestrator.domain.ports import FixedClock
from orchestrator.domain.waves import assign_waves
from orchestrator.errors import CampaignError, CampaignInputError, CampaignNotFoundError
from orchestrator.service import audit, planning
from orchestrator.service.access import Principal, require
from orchestrator.service.applying import apply_in_uow, run_gate, wave_counts
from orchestrator.service.execution import send_cancellations
from orchestrator.service.unit_of_work import UnitOfWork
from orchestrator.service.wiring import Execution


@dataclass(frozen=True)
class CreateCampaign:
    """Command: plan the selected devices towards a target and store them as a campaign."""

    name: str
    target: str = "latest"
    selection: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    created_by: Principal = field(kw_only=True)  # who creates it: always said, never assumed
    allow_unknown_predecessors: bool = False
    reason: str = ""


def create_campaign(cmd: CreateCampaign, uow: UnitOfWork, now: dt.datetime,
                    audit_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Plan (stored), then store the campaign: one job per planned device, blocked recorded.

    The creator needs the operator role; the name and policy are checked first; a campaign
    with no device to upgrade is refused. The audit row commits with the campaign.
    """
    require(cmd.created_by, "operate")
    name = _checked(cmd)
    plan = planning.plan_fleet(planning.PlanFleet(
        cmd.target, cmd.selection, cmd.allow_unknown_predecessors), uow, FixedClock(now))
    planned = [p for p in plan.devices if p.outcome.status == "planned"]
    blocked = [p for p in plan.devices if p.outcome.status == "blocked"]
    with uow:
        busy = {j.device_id for j in uow.campaigns.active_for_devices(
            [p.device_id for p in planned])}
        planned = [p for p in planned if p.device_id not in busy]
        _refuse_empty(plan, len(planned), len(blocked), len(busy))
        campaign = Campaign(0, name, plan.target, plan.selection, cmd.policy,
                            cmd.created_by.name, now, device_count=len(planned))
        campaign.id = uow.campaigns.add(campaign, plan.snapshot_id, len(cmd.policy.waves))
        waves = assign_waves([p.device_id for p in planned], cmd.policy.waves, name)
        jobs = [DeviceJob(campaign.id, p.device_id, p.outcome.path, waves[p.device_id],
                          ppmid=p.device.device_type == "PPMID", due_at=now) for p in planned]
        uow.campaigns.add_jobs(jobs + _blocked_jobs(campaign.id, blocked), now)
        campaign.device_count = len(jobs)
        uow.campaigns.save(campaign, plan_id=plan.plan_id)
        uow.campaigns.add_events([_created(campaign, now, len(blocked), len(busy))])
        audit.append(uow, cmd.created_by, "campaign.create", f"campaign:{campaign.id}",
                     cmd.reason, "ok", now, {"name": name, "target": cmd.target,
                                             "selection": list(cmd.selection),
                                             "devices": len(jobs), **(audit_data or {})})
        uow.commit()
    return {"campaign_id": campaign.id, "plan_id": plan.plan_id, "devices": len(jobs),
            "blocked": len(blocked), "busy_in_other_campaign": len(busy),
            "up_to_date": sum(p.outcome.status == "up_to_date" for p in plan.devices),
            "waves": len(cmd.policy.waves), "snapshot_id": plan.snapshot_id}


def typed_policy(*, base: Policy | None = None, **typed: Any) -> Policy:
    """`policy_input.campaign_policy` for the CLI and the API: a bad value is a user error."""
    try:
        return campaign_policy(base=base, **typed)
    except PolicyError as err:
        raise CampaignInputError(str(err)) from err


def _checked(cmd: CreateCampaign) -> str:
    """The campaign's name, once the name and the policy pass the domain's input rules."""
    try:
        check_policy(cmd.policy)
        return check_name(cmd.name)
    except PolicyError as err:
        raise CampaignInputError(str(err)) from err


def _refuse_empty(plan: planning.PlanResult, planned: int, blocked: int, busy: int) -> None:
    if not plan.devices:
        raise CampaignInputError(f"the selection {plan.selection or '(all devices)'} matches "
                                 "no device in the fleet: no campaign created")
    if not planned:
        up_to_date = sum(p.outcome.status == "up_to_date" for p in plan.devices)
        raise CampaignInputError(
            f"nothing to upgrade: of {len(plan.devices)} selected device(s) {up_to_date} are "
            f"up to date, {blocked} blocked and {busy} already in another campaign "
            f"(see plan {plan.plan_id}): no campaign created")


def _blocked_jobs(campaign_id: int, blocked: list[Any]) -> list[DeviceJob]:
    return [DeviceJob(campaign_id, p.device_id, (p.outcome.current_entry or "-",), 0,
                      state=JobState.BLOCKED, failure=p.outcome.reason) for p in blocked]


def _created(campaign: Campaign, now: dt.datetime, blocked: int, busy: int) -> CampaignEvent:
    return CampaignEvent(campaign.id, "campaign_created", now, campaign.created_by, "",
                         {"devices": campaign.device_count, "blocked": blocked, "busy": busy,
                          "target": campaign.target})


@dataclass(frozen=True)
class _Call:
    """One user action on a campaign, as its command sees it."""

    now: dt.datetime
    actor: str
    reason: str
    four_eyes_above: int

    def why(self, action: str) -> str:
        """The reason given, or one naming the action and who took it."""
        return self.reason or f"{action} by {self.actor}"


@dataclass(frozen=True)
class CampaignCommand:
    """A campaign action: the permission it needs (`approve`: the deployment's approver
    role, see Approvals), what it does to the campaign, and what else it does."""

    permission: str
    run: Callable[[Campaign, _Call], list[CampaignEvent]]
    summary: str  # what it does, as the CLI and the API describe it
    acknowledges_failures: bool = False  # resume: thresholds count new failures from here
    cancels_jobs: bool = False  # and sends cancellations for pending future-dated 11.3s


COMMANDS: dict[str, CampaignCommand] = {
    "submit": CampaignCommand(
        "operate", lambda c, a: c.submit(a.now, a.actor, a.four_eyes_above),
        "Ask for approval (campaigns up to the four-eyes size are approved at once)."),
    "approve": CampaignCommand(
        "approve", lambda c, a: [c.approve(a.now, a.actor)],
        "Approve a campaign (approver role; never by its creator)."),
    "start": CampaignCommand(
        "operate", lambda c, a: [c.start(a.now, a.actor)], "Start an approved campaign."),
    "pause": CampaignCommand(
        "operate", lambda c, a: [c.pause(a.now, a.actor, a.why("pause"))],
        "Stop sending new requests (in-flight answers are still applied)."),
    "resume": CampaignCommand(
        "operate", lambda c, a: [c.resume(a.now, a.actor)],
        "Resume a paused campaign (failures so far are accepted).",
        acknowledges_failures=True),
    "cancel": CampaignCommand(
        "operate", lambda c, a: [c.cancel(a.now, a.actor, a.why("cancel"))],
        "Cancel for good, including pending future-dated activations.", cancels_jobs=True),
    "abort": CampaignCommand(
        "operate", lambda c, a: [c.abort(a.now, a.actor, a.why("abort"))],
        "Abort (the failure thresholds' own stop), cancelling pending work.",
        cancels_jobs=True),
}
ACTIONS: dict[str, str] = {name: command.permission for name, command in COMMANDS.items()}


def act(ex: Execution, campaign_id: int, action: str, actor: Principal, reason: str = "",
        audit_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Apply a user action to a campaign; cancel also cancels its devices' pending work.

    The same rules hold on every path (CLI, API, dashboard, scheduler): the actor's role,
    the deployment's four-eyes rule, and an audit row committed with the action.
    """
    command = COMMANDS.get(action)
    if command is None:
        raise CampaignError(f"unknown action {action!r}; known: {', '.join(COMMANDS)}")
    _authorise(ex, actor, command)
    now = ex.clock.now()
    with ex.uow() as uow:
        campaign = _load(uow, campaign_id, lock=True)
        try:
            events = _with_reason(command.run(campaign, _Call(now, actor.name, reason,
                                                              ex.approvals.above)),
                                  actor.name, reason)
        except DomainError as err:
            raise CampaignError(str(err)) from err
        if command.acknowledges_failures:
            _acknowledge_failures(uow, campaign)
        uow.campaigns.save(campaign, **_times(campaign, action, now))
        uow.campaigns.add_events(events)
        audit.append(uow, actor, f"campaign.{action}", f"campaign:{campaign_id}", reason, "ok",
                     now, {"state": campaign.state.value, **(audit_data or {})})
        pending: list[DeviceJob] = []
        if command.cancels_jobs:
            pending = _cancel_jobs(ex, uow, campaign, f"campaign {action}: {reason}".strip())
        uow.commit()
    cancelled = send_cancellations(ex, campaign_id, pending) if pending else 0
    return {"campaign_id": campaign_id, "state": campaign.state.value,
            "activations_cancelled": cancelled}


def schedule(ex: Execution, campaign_id: int, start_at: dt.datetime, actor: Principal,
             reason: str = "", audit_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Schedule an approved campaign to start at `start_at` (operator); the reconciler (`fwo
    run`, or beat's `fwo.reconcile` in the scaled runtime) starts it when that time comes."""
    require(actor, "operate")
    if start_at.tzinfo is None:
        raise CampaignInputError(f"start time {start_at.isoformat()} has no time zone "
                                 "(add Z or +01:00)")
    now = ex.clock.now()
    if start_at <= now:
        raise CampaignInputError(f"start time {start_at.isoformat()} is not in the future "
                                 f"(now {now.isoformat(timespec='seconds')}): start it now")
    with ex.uow() as uow:
        campaign = _load(uow, campaign_id, lock=True)
        try:
            event = campaign.schedule(now, actor.name, start_at)
        except DomainError as err:
            raise CampaignError(str(err)) from err
        uow.campaigns.save(campaign)
        uow.campaigns.add_events([replace(event, reason=reason) if reason else event])
        audit.append(uow, actor, "campaign.schedule", f"campaign:{campaign_id}", reason, "ok",
                     now, {"state": campaign.state.value, "start_at": start_at.isoformat(),
                           **(audit_data or {})})
        uow.commit()
    return {"campaign_id": campaign_id, "state": campaign.state.value,
            "scheduled_for": start_at.isoformat()}


def _authorise(ex: Execution, actor: Principal, command: CampaignCommand) -> None:
    if command.permission == "approve":
        ex.approvals.require_approver(actor)
    else:
        require(actor, command.permission)


def _with_reason(events: list[CampaignEvent], actor: str, reason: str) -> list[CampaignEvent]:
    """The action's events, each carrying the reason the user gave (kept with who gave it)."""
    return [replace(e, reason=reason) if reason and not e.reason and e.actor == actor else e
            for e in events]


def _times(campaign: Campaign, action: str, now: dt.datetime) -> dict[str, Any]:
    if action == "start":
        return {"started_at": now}
    if campaign.state in (CampaignState.CANCELLED, CampaignState.ABORTED):
        return {"finished_at": now}
    return {}


def _acknowledge_failures(uow: UnitOfWork, campaign: Campaign) -> None:
    """Resuming accepts the failures so far: the thresholds count new ones from here."""
    counts = wave_counts(uow.campaigns.counters(campaign.id))
    campaign.acknowledged = {w: dict(c.failed) for w, c in counts.items()}


def _cancel_jobs(ex: Execution, uow: UnitOfWork, campaign: Campaign, reason: str) -> list[DeviceJob]:
    """Cancel every unfinished job; return those with a future-dated activation pending."""
    active = [s.value for s in JobState if s not in TERMINAL]
    jobs = uow.campaigns.jobs(campaign.id, states=active, limit=10_000_000)
    apply_in_uow(ex, uow, [(j.device_id, Outcome(OutcomeKind.CANCEL, None, reason)) for j in jobs], None)
    if campaign.policy.activation_window is None:
        return []
    now = ex.clock.now()
    return [j for j in jobs if j.state is JobState.ACTIVATING
            and j.deadline_at is not None and j.deadline_at > now]


def device_action(ex: Execution, campaign_id: int, device_id: str, action: str,
                  actor: Principal, reason: str = "",
                  audit_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Cancel one device's job, or retry a failed one from its current step (operator)."""
    kinds = {"cancel": OutcomeKind.CANCEL, "retry": OutcomeKind.RETRY}
    if action not in kinds:
        raise CampaignError(f"unknown device action {action!r}")
    require(actor, "operate")
    with ex.uow() as uow:
        _load(uow, campaign_id)
        job = next((j for j in uow.campaigns.jobs_of_device(device_id)
                    if j.campaign_id == campaign_id), None)
        if job is None:
            raise CampaignNotFoundError(f"device {device_id} is not in campaign {campaign_id}")
        moved = apply_in_uow(ex, uow, [(device_id, Outcome(
            kinds[action], None, f"{action} by {actor.name}: {reason}"))],
            None, include_terminal=action == "retry")
        if not moved:
            raise CampaignError(f"device {device_id} is {job.state.value}: cannot {action}")
        audit.append(uow, actor, f"device.{action}", f"device:{device_id}", reason, "ok",
                     ex.clock.now(), {"campaign_id": campaign_id, **(audit_data or {})})
        uow.commit()
    return {"campaign_id": campaign_id, "device_id": device_id, "action": action}


# what "retry failed devices" retries: failures the orchestrator can send again; never a
# quarantined device (it answered with something unexpected: a person looks first)
RETRYABLE = frozenset(TERMINAL - {JobState.DONE, JobState.CANCELLED, JobState.BLOCKED,
                                  JobState.QUARANTINED})


def retry_failed(ex: Execution, campaign_id: int, actor: Principal, reason: str = "",
                 audit_data: Mapping[str, Any] | None = None, limit: int = 100_000
                 ) -> dict[str, Any]:
    """Retry every failed (not quarantined, cancelled or blocked) device of a campaign from
    its current step, in one transaction with one audit row (operator)."""
    require(actor, "operate")
    with ex.uow() as uow:
        _load(uow, campaign_id)
        jobs = uow.campaigns.jobs(campaign_id, states=sorted(s.value for s in RETRYABLE),
                                  limit=limit)
        moved = apply_in_uow(ex, uow, [(j.device_id, Outcome(
            OutcomeKind.RETRY, None, f"retry by {actor.name}: {reason}")) for j in jobs],
            None, include_terminal=True) if jobs else 0
        audit.append(uow, actor, "campaign.retry_failed", f"campaign:{campaign_id}", reason,
                     "ok", ex.clock.now(), {"retried": moved, **(audit_data or {})})
        uow.commit()
    return {"campaign_id": campaign_id, "retried": moved,
            "devices": sorted(j.device_id for j in jobs)[:1000]}


def _load(uow: UnitOfWork, campaign_id: int, lock: bool = False) -> Campaign:
    campaign = uow.campaigns.get(campaign_id, lock=lock)
    if campaign is None:
        raise CampaignNotFoundError(f"no campaign {campaign_id}")
    return campaign


def gate(ex: Execution, campaign_id: int) -> str:
    """Evaluate a running campaign's wave gate; return its state afterwards."""
    with ex.uow() as uow:
        campaign = _load(uow, campaign_id, lock=True)
        events = run_gate(ex, uow, campaign)
        if events:
            finished = {"finished_at": ex.clock.now()} if campaign.state in (
                CampaignState.COMPLETED,) else {}
            uow.campaigns.save(campaign, **finished)
            uow.campaigns.add_events(events)
            uow.commit()
        return campaign.state.value


def status(uow: UnitOfWork, campaign_id: int, now: dt.datetime | None = None
           ) -> dict[str, Any]:
    """Campaign state, per-wave, per-state counts (the maintained counters), and what it is
    waiting for: the earliest due job and what the last dispatch recorded, no scan of jobs."""
    with uow:
        campaign = _load(uow, campaign_id)
        row = uow.campaigns.row(campaign_id)
        assert row is not None  # `_load` found the campaign
        facts = uow.campaigns.wait_facts(campaign, now or dt.datetime.now(dt.UTC))
    states: dict[str, int] = {}
    for counts in facts.waves.values():
        for state, count in counts.items():
            states[state] = states.get(state, 0) + count
    wait = waiting.campaign_wait(campaign, facts)
    return {"campaign_id": campaign.id, "name": campaign.name, "state": campaign.state.value,
            "target": campaign.target, "current_wave": campaign.current_wave,
            "wave_count": row["wave_count"], "pause_reason": campaign.pause_reason,
            "devices": campaign.device_count, "states": states,
            "waves": {str(w): s for w, s in facts.waves.items()},
            "in_flight": sum(n for s, n in states.items() if s in waiting.IN_FLIGHT),
            "actions": allowed_actions(campaign.state),
            "waiting": None if wait is None else wait.to_dict(),
            "policy": policy_summary(campaign.policy), "pacing": _pacing_now(row, facts.now),
            "dispatched_at": facts.dispatched_at, "dispatch_error": row["dispatch_error"],
            "dispatch_error_at": row["dispatch_error_at"],
            "created_by": campaign.created_by, "approved_by": campaign.approved_by,
            "scheduled_for": campaign.scheduled_for,
            "started_at": row["started_at"], "finished_at": row["finished_at"]}


def _pacing_now(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The budgets as the last dispatch found them; a window since closed is whole again."""
    pacing = {}
    for sr, p in (row["pacing"] or {}).items():
        refilled = dt.datetime.fromisoformat(p["resets_at"]) <= now
        pacing[sr] = {**p, "remaining": p["limit"], "held_until": None} if refilled else p
    return pacing


def policy_summary(policy: Policy) -> dict[str, Any]:
    """The rules a campaign runs under, as an operator reads them."""
    window = policy.activation_window
    return {
        "waves": [f"{w.count} devices" if w.count else f"{w.percent:g}%" for w in policy.waves],
        "success_threshold": f"{policy.success_threshold:.0%}",
        "failure_thresholds": [
            f"pause at {'any failure' if f.failure == '*' else f.failure} >= "
            + " or ".join(x for x in (None if f.count is None else str(f.count),
                                      None if f.percent is None else f"{f.percent:g}%") if x)
            + " of a wave" for f in policy.failure_thresholds],
        "activation_window": None if window is None else
        f"{window.start:%H:%M}-{window.end:%H:%M} {window.timezone}",
        "budgets": {b.sr_type: f"{b.limit} per {waiting.period_text(b.period_s)}"
                    for b in policy.budgets},
        "retry": f"{policy.retry.attempts} attempts, backoff from "
                 f"{waiting.period_text(policy.retry.base_s)}",
    }


def record_dispatch_error(uow: UnitOfWork, campaign_id: int, err: Exception) -> None:
    """Keep on the campaign what stopped its last dispatch."""
    with uow:
        uow.campaigns.record_dispatch_error(campaign_id, dt.datetime.now(dt.UTC),
                                            f"{type(err).__name__}: {err}")
        uow.commit()
