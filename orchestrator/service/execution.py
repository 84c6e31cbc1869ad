"""Dispatch: claim due device jobs, send their requests, apply the answers.

Three short steps so no transaction is held across the network:
1. claim (one transaction): lock due jobs, take pacing budget and RequestID counters, move
   the jobs to their waiting state (the request is on record before it is sent);
2. send (no transaction): build, sign and send each request; 11.3 signs the pre-command;
3. apply (one transaction): turn the synchronous answers into job outcomes.
A crash between 1 and 3 loses nothing: the stage deadline times the job out into a retry.

Ordering (docs/request-ordering.md): each target must see its originator's counters
strictly increase. A device has one job, and a job one request in flight, so the requests
to devices are claimed without a lock and sent `send_concurrency` at a time; the requests to
the DCC itself (11.1 and 11.4, batched) are claimed and sent in the DCC's lane of the send
lock, one worker at a time. `send_order="originator"` keeps one sender for everything.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from duis.codes import SR_SPECS
from duis.errors import DuisError
from duis.requestid import RequestId
from orchestrator.domain.campaign import Campaign
from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.jobs import (
    SEND,
    Context,
    DeviceJob,
    JobEvent,
    JobState,
    Outcome,
    OutcomeKind,
    read_first,
    sent,
)
from orchestrator.domain.pacing import Grant, window_end
from orchestrator.domain.policy import Budget
from orchestrator.errors import AnswerRejectedError, DspUnavailableError, OrchestratorError
from orchestrator.service import outbound
from orchestrator.service.inbound import quarantine_answers
from orchestrator.service.outbound import Send
from orchestrator.service.unit_of_work import UnitOfWork
from orchestrator.service.wiring import Execution, SupplierIdentity

# the sending states whose request goes to the DCC itself, and those whose goes to a device
TO_DCC: frozenset[JobState] = frozenset(s for s, sr in SEND.items() if SR_SPECS[sr].targets_dcc)
TO_DEVICES: frozenset[JobState] = frozenset(SEND) - TO_DCC


@dataclass
class DispatchReport:
    """What one dispatch round did."""

    requests: dict[str, int] = field(default_factory=dict)
    devices: int = 0
    paced_until: dt.datetime | None = None

    def add(self, other: DispatchReport) -> None:
        """Count another round's work in this one."""
        for sr, n in other.requests.items():
            self.requests[sr] = self.requests.get(sr, 0) + n
        self.devices += other.devices
        if other.paced_until is not None:
            self.paced_until = min(self.paced_until or other.paced_until, other.paced_until)


@dataclass
class _Sent:
    """A round's synchronous results, still to be applied."""

    results: list[tuple[str, Outcome]] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    rejected: list[AnswerRejectedError] = field(default_factory=list)

    def add(self, other: _Sent) -> None:
        self.results += other.results
        self.codes.update(other.codes)
        self.rejected += other.rejected


def dcc_lane(ex: Execution) -> str:
    """The send lock's lane of requests to the DCC itself."""
    return f"target:{ex.dcc_eui}"


def dispatch(ex: Execution, campaign_id: int) -> DispatchReport:
    """Claim, send and apply one batch of a running campaign's due work."""
    report, done = DispatchReport(), _Sent()
    try:
        if ex.send_order == "originator":
            with ex.send_lock():  # every counter reaches the DSP in order: one sender at a time
                catalogue, sends = _round(ex, campaign_id, None, report)
                done.add(_send_all(ex, sends, catalogue, 1))
        else:
            catalogue, sends = _round(ex, campaign_id, TO_DEVICES, report)
            done.add(_send_all(ex, sends, catalogue, ex.send_concurrency))
            with ex.send_lock(dcc_lane(ex)):  # the DCC's own counters reach it in order
                catalogue, sends = _round(ex, campaign_id, TO_DCC, report)
                to_dcc = [s for s in sends if s.spec.targets_dcc]
                done.add(_send_all(ex, to_dcc, catalogue, 1))
            # reads owed before a distribution go to their devices, outside the DCC's lane
            to_devices = [s for s in sends if not s.spec.targets_dcc]
            done.add(_send_all(ex, to_devices, catalogue, ex.send_concurrency))
    finally:  # what was sent is applied even when the DCC's lane is busy or a send failed
        apply_outcomes(ex, done.results, done.codes, done.rejected)
    return report


def _round(ex: Execution, campaign_id: int, states: Collection[JobState] | None,
           report: DispatchReport) -> tuple[Catalogue | None, list[Send]]:
    """Claim the jobs due in `states` (None: all): their catalogue and sends."""
    claimed = _claim(ex, campaign_id, states)
    if claimed is None:
        return None, []
    catalogue, sends, claim_report = claimed
    report.add(claim_report)
    return catalogue, sends


def _send_all(ex: Execution, sends: list[Send], catalogue: Catalogue | None,
              concurrency: int) -> _Sent:
    """Send each request, up to `concurrency` at once (each send is one target's)."""
    def one(send: Send) -> _Sent:
        assert catalogue is not None  # there are sends only where a claim found a catalogue
        out = _Sent()
        out.results = _send(ex, send, catalogue, out.codes, out.rejected)
        return out

    total = _Sent()
    if concurrency <= 1 or len(sends) <= 1:
        for send in sends:
            total.add(one(send))
        return total
    with ThreadPoolExecutor(min(concurrency, len(sends)), "fwo-send") as pool:
        for out in pool.map(one, sends):
            total.add(out)
    return total


def _claim(ex: Execution, campaign_id: int, states: Collection[JobState] | None = None
           ) -> tuple[Catalogue, list[Send], DispatchReport] | None:
    now = ex.clock.now()
    with ex.uow() as uow:
        loaded = uow.campaigns.load(campaign_id, lock=True)
        if loaded is None or not loaded[0].sending:
            return None
        campaign, row = loaded
        jobs = uow.campaigns.due(campaign_id, campaign.current_wave, now, ex.batch_limit,
                                 states)
        if not jobs:
            uow.campaigns.record_dispatch(campaign_id, now)
            uow.commit()
            return None
        catalogue = ex.catalogue(row["snapshot_id"], uow)
        jobs, reads = _reads_first(jobs, Context(now, campaign.policy, "", ex.rng))
        sends = _group(jobs, campaign)
        sends, paced_until, pacing = _pace(ex, uow, campaign, sends, now)
        uow.campaigns.record_dispatch(campaign_id, now, pacing, row["pacing"] or {})
        changes, events, rows = _mark_sent(ex, uow, campaign, catalogue, sends, now)
        changes, events = _merge(reads, changes, events)
        uow.campaigns.update_jobs(changes, events, now)
        uow.requests.record_sent(rows)
        uow.commit()
    report = DispatchReport(devices=len(changes), paced_until=paced_until)
    for row in rows:
        report.requests[row["sr_type"]] = report.requests.get(row["sr_type"], 0) + 1
    return catalogue, sends, report


def _reads_first(jobs: list[DeviceJob], ctx: Context
                 ) -> tuple[list[DeviceJob], list[tuple[DeviceJob, DeviceJob, JobEvent]]]:
    """Jobs that owe a read of the running firmware first (see `jobs.read_first`) owe it now."""
    out: list[DeviceJob] = []
    reads: list[tuple[DeviceJob, DeviceJob, JobEvent]] = []
    for job in jobs:
        moved = read_first(job, ctx)
        if moved is not None:
            reads.append((job, *moved))
        out.append(job if moved is None else moved[0])
    return out, reads


def _merge(reads: list[tuple[DeviceJob, DeviceJob, JobEvent]],
           changes: list[tuple[DeviceJob, DeviceJob]], events: list[JobEvent]
           ) -> tuple[list[tuple[DeviceJob, DeviceJob]], list[JobEvent]]:
    """One change per job from its stored value (a read owed now, then maybe sent)."""
    if not reads:
        return changes, events
    stored = {new.device_id: old for old, new, _ in reads}
    merged = {old.device_id: (stored.pop(old.device_id, old), new) for old, new in changes}
    merged.update((new.device_id, (old, new)) for old, new, _ in reads
                  if new.device_id in stored)
    return list(merged.values()), [e for _, _, e in reads] + events


def _group(jobs: list[DeviceJob], campaign: Campaign) -> list[Send]:
    """11.1/11.4: one request per image and batch of devices; 11.3/11.2: one per device."""
    by_image: dict[tuple[str, str], list[DeviceJob]] = defaultdict(list)
    sends: list[Send] = []
    for job in jobs:
        sr = job.sr_type
        if sr is None:
            continue
        if SR_SPECS[sr].batched:
            by_image[(sr, job.entry)].append(job)
        else:
            sends.append(Send(sr, job.entry, [job]))
    size = campaign.policy.device_id_list_max
    for (sr, entry), group in sorted(by_image.items()):
        sends += [Send(sr, entry, group[i:i + size]) for i in range(0, len(group), size)]
    return sends


def _pace(ex: Execution, uow: UnitOfWork, campaign: Campaign, sends: list[Send],
          now: dt.datetime) -> tuple[list[Send], dt.datetime | None, dict[str, dict[str, Any]]]:
    """Keep only the sends each SR type's budget allows now; say what each budget had left."""
    pacer = ex.pacer(uow)
    kept: list[Send] = []
    retry_at: dt.datetime | None = None
    pacing: dict[str, dict[str, Any]] = {}
    for sr_type in sorted({s.sr_type for s in sends}):
        wanted = [s for s in sends if s.sr_type == sr_type]
        budget = campaign.policy.budget(sr_type)
        if budget is None:
            kept += wanted
            continue
        grant = pacer.acquire(budget, sum(s.counters_needed for s in wanted), now)
        pacing[sr_type] = _budget_left(budget, grant, now)
        allowed = grant.granted
        for send in wanted:
            if send.counters_needed <= allowed:
                kept.append(send)
                allowed -= send.counters_needed
        if grant.retry_at is not None:
            retry_at = min(retry_at or grant.retry_at, grant.retry_at)
    return kept, retry_at, pacing


def _budget_left(budget: Budget, grant: Grant, now: dt.datetime) -> dict[str, Any]:
    """An SR type's budget as this dispatch found it (shown as the campaign's pacing wait)."""
    return {"limit": budget.limit, "period_s": budget.period_s, "remaining": grant.remaining,
            "resets_at": window_end(budget, now).isoformat(),
            "held_until": None if grant.retry_at is None else grant.retry_at.isoformat()}


def _mark_sent(ex: Execution, uow: UnitOfWork, campaign: Campaign, catalogue: Catalogue,
               sends: list[Send], now: dt.datetime
               ) -> tuple[list[tuple[DeviceJob, DeviceJob]], list[JobEvent], list[dict[str, Any]]]:
    changes: list[tuple[DeviceJob, DeviceJob]] = []
    events: list[JobEvent] = []
    rows: list[dict[str, Any]] = []
    identities = {id(s): ex.identity_for(_device_type(catalogue, s.entry)) for s in sends}
    counters = _reserve(uow, sends, identities, now)
    ctx = Context(now, campaign.policy, "", ex.rng)
    for send in sends:
        originator = identities[id(send)].originator
        target = ex.dcc_eui if send.spec.targets_dcc else send.jobs[0].device_id
        send.assign(RequestId(originator, target, counters[originator].pop(0)))
        send.execute_at = _activation_time(campaign, send, now)
        for job in send.jobs:
            new, event = sent(job, str(send.answered_by), ctx, send.execute_at)
            changes.append((job, new))
            events.append(event)
        rows.append(send.sent_row(campaign.id, now))
    after = {old.device_id: new for old, new in changes}
    for send in sends:
        send.jobs = [after[j.device_id] for j in send.jobs]
    return changes, events, rows


def _reserve(uow: UnitOfWork, sends: list[Send], identities: dict[int, SupplierIdentity],
             now: dt.datetime) -> dict[str, list[int]]:
    """Every RequestID counter this claim needs, one reservation per originator."""
    needed: dict[str, int] = defaultdict(int)
    for send in sends:
        needed[identities[id(send)].originator] += send.counters_needed
    floor = int(now.timestamp() * 1000)
    return {originator: uow.requests.reserve_counters(originator, n, floor)
            for originator, n in sorted(needed.items())}


def _device_type(catalogue: Catalogue, entry_id: str) -> str:
    entry = catalogue.get(entry_id)
    assert entry is not None  # jobs name entries of their campaign's own snapshot
    return entry.device_type


def _activation_time(campaign: Campaign, send: Send, now: dt.datetime) -> dt.datetime | None:
    window = campaign.policy.activation_window
    if send.sr_type != "11.3" or window is None:
        return None
    return window.activation_time(now)


def _send(ex: Execution, send: Send, catalogue: Catalogue, codes: dict[str, str] | None = None,
          rejected: list[AnswerRejectedError] | None = None) -> list[tuple[str, Outcome]]:
    """Build, sign and send; record each request's synchronous response code in `codes`,
    and each answer that failed verification in `rejected` (to be quarantined)."""
    entry = catalogue.get(send.entry)
    assert entry is not None
    identity = ex.identity_for(entry.device_type)
    first = str(send.answered_by)
    try:
        image = ex.upgrade_image(entry) if send.spec.batched else None
        xml = outbound.request_xml(send, image, entry.firmware_version, entry.image_hash,
                                   identity)
        response = outbound.exchange(ex, xml, send.request_ids[0], codes)
        if send.spec.signs_pre_command and not response.header.response_code.startswith("E"):
            signed = outbound.sign_pre_command(ex, send, response, identity)
            response = outbound.exchange(ex, signed, send.request_ids[1], codes)
        return outbound.sync_outcomes(send, first, response)
    except DspUnavailableError as err:
        return outbound.failed_sends(send, first, err)
    except AnswerRejectedError as err:  # a security event: quarantined, never retried
        if rejected is not None:
            rejected.append(err)
        return outbound.rejected_answer(send, first, err)
    except (OrchestratorError, DuisError) as err:  # no image, or a request we cannot build
        return [(j.device_id, Outcome(OutcomeKind.REFUSED, first, f"{type(err).__name__}: {err}"[:300]))
                for j in send.jobs]


def apply_outcomes(ex: Execution, results: list[tuple[str, Outcome]],
                   codes: dict[str, str] | None = None,
                   rejected: list[AnswerRejectedError] | None = None) -> int:
    """Apply outcomes, record response codes and quarantine the answers that failed
    verification, in one transaction; return how many jobs moved."""
    if not results and not codes and not rejected:
        return 0
    from orchestrator.service.applying import apply_in_uow

    with ex.uow() as uow:
        moved = apply_in_uow(ex, uow, results, None) if results else 0
        uow.requests.record_response_codes(codes or {})
        quarantine_answers(uow, rejected or [], ex.clock.now())
        uow.commit()
    return moved


def send_cancellations(ex: Execution, campaign_id: int, jobs: list[DeviceJob]) -> int:
    """Cancel pending future-dated activations (SR 11.3 dated 3000-12-31, CV4 then CV5)."""
    now = ex.clock.now()
    catalogue = ex.catalogue(_snapshot_of(ex, campaign_id))  # outside any unit of work
    sends = [Send("11.3", j.entry, [j], execute_at=outbound.CANCEL_AT) for j in jobs]
    rows: list[dict[str, Any]] = []
    with ex.send_lock(), ex.uow() as uow:
        for send in sends:
            identity = ex.identity_for(_device_type(catalogue, send.entry))
            [counter] = uow.requests.reserve_counters(identity.originator, 1,
                                                      int(now.timestamp() * 1000))
            send.assign(RequestId(identity.originator, send.jobs[0].device_id, counter))
            rows.append(send.sent_row(campaign_id, now))
        uow.requests.record_sent(rows)
        uow.commit()
        done = 0
        rejected: list[AnswerRejectedError] = []
        for send in sends:
            done += not _send(ex, send, catalogue, None, rejected)
    if rejected:
        apply_outcomes(ex, [], None, rejected)
    return done


def _snapshot_of(ex: Execution, campaign_id: int) -> int | None:
    with ex.uow() as uow:
        row = uow.campaigns.row(campaign_id)
    return None if row is None else row["snapshot_id"]
