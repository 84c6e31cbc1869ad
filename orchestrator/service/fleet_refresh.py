"""`fwo fleet refresh`: load the fleet from the DCC's own inventory (SR 8.2).

8.2 is a non-device request (CommandVariant 8) to the DCC's EUI, answered synchronously with
the inventory of the named device's premises (up to 17 devices). One request per premises
(the selected devices sharing a comms hub) covers all of them. Requests are paced by an 8.2
budget, their RequestIDs reserved and recorded like any SR under the sender lock, and every
answer is applied as an observation (`fleet_facts.apply_inventory`): a gaining supplier can
load inherited devices from the DCC rather than a CSV.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from duis import build
from duis.errors import DuisError
from duis.models import ReadInventory, Response
from duis.requestid import RequestId
from orchestrator.domain.fleet import Device, device_id
from orchestrator.domain.observations import DRIFT
from orchestrator.domain.planner import Planner
from orchestrator.domain.policy import Budget
from orchestrator.errors import (
    AnswerRejectedError,
    DspRefusedError,
    DspUnavailableError,
    FleetError,
)
from orchestrator.service import outbound
from orchestrator.service.fleet import parse_selection, selected_devices
from orchestrator.service.fleet_facts import apply_inventory
from orchestrator.service.inbound import quarantine_answers
from orchestrator.service.wiring import Execution

DEFAULT_BUDGET = Budget("8.2", 1000, 3600.0)
BATCH = 200  # premises per claim-send-apply round


@dataclass
class RefreshReport:
    """What a refresh did: requests sent, devices recorded, what failed or waits for budget."""

    selected: int = 0
    premises: int = 0
    requests: int = 0
    deferred: int = 0
    recorded: int = 0
    ignored_older: int = 0
    drift: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    paced_until: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (`fwo fleet refresh --json`)."""
        data = asdict(self)
        data["paced_until"] = self.paced_until.isoformat() if self.paced_until else None
        return data


@dataclass(frozen=True)
class _Request:
    request_id: RequestId
    device: Device
    covers: int


def refresh_fleet(ex: Execution, specs: Iterable[str] = (), *,
                  device_ids: Iterable[str] = (), budget: Budget = DEFAULT_BUDGET,
                  limit: int | None = None) -> RefreshReport:
    """Send 8.2 for the selected devices' premises and apply the inventories.

    `device_ids` are asked for whether the fleet knows them or not (inherited devices);
    without them, `specs` select from the fleet (every device when empty).
    """
    wanted = [_device_id(d) for d in device_ids]
    with ex.uow() as uow:
        if wanted:
            known = uow.fleet.get_many(wanted)
            devices = [known.get(d) or Device(d, "", "", "", "") for d in dict.fromkeys(wanted)]
        else:
            selection = parse_selection(specs)
            planner = None
            if selection.needs_catalogue and (snap := uow.catalogue.current_id()) is not None:
                planner = Planner(uow.catalogue.load(snap))
            devices = list(selected_devices(uow, selection, planner, limit))
    groups = premises(devices)
    report = RefreshReport(selected=len(devices), premises=len(groups))
    for start in range(0, len(groups), BATCH):
        batch = groups[start:start + BATCH]
        codes: dict[str, str] = {}
        rejected: list[AnswerRejectedError] = []
        with ex.send_lock():  # counters reach the DSP in order, whatever else is sending
            requests = _claim(ex, batch, budget, report)
            answers = [(r, _ask(ex, r, codes, rejected)) for r in requests]
        _apply(ex, answers, codes, report, rejected)
        if len(requests) < len(batch):
            report.deferred = sum(len(g) for g in groups[start + len(requests):])
            break
    return report


def _device_id(text: str) -> str:
    try:
        return device_id(text)
    except ValueError as err:
        raise FleetError(f"{text!r} is not a device ID: {err}") from err


def premises(devices: Sequence[Device]) -> list[list[Device]]:
    """The selected devices grouped by comms hub (a device without one stands alone)."""
    groups: dict[str, list[Device]] = {}
    for device in devices:
        groups.setdefault(device.comms_hub_id or device.device_id, []).append(device)
    return [groups[key] for key in sorted(groups)]


def _claim(ex: Execution, batch: list[list[Device]], budget: Budget,
           report: RefreshReport) -> list[_Request]:
    """Take budget and counters for as many premises as allowed; record the requests."""
    now = ex.clock.now()
    with ex.uow() as uow:
        pacer = ex.pacer(uow)
        grant = pacer.acquire(budget, len(batch), now)
        report.paced_until = grant.retry_at if grant.granted < len(batch) else None
        asked = [group[0] for group in batch[:grant.granted]]
        originators = [ex.identity_for(d.device_type).originator for d in asked]
        floor = int(now.timestamp() * 1000)
        counters = {o: uow.requests.reserve_counters(o, n, floor)
                    for o, n in sorted(Counter(originators).items())}
        requests = [_Request(RequestId(o, ex.dcc_eui, counters[o].pop(0)), d, len(g))
                    for o, d, g in zip(originators, asked, batch)]
        uow.requests.record_sent([
            {"request_id": str(r.request_id), "campaign_id": None, "sr_type": "8.2",
             "command_variant": 8, "entry": None, "device_count": r.covers, "sent_at": now}
            for r in requests])
        uow.commit()
    report.requests += len(requests)
    return requests


def _ask(ex: Execution, request: _Request, codes: dict[str, str],
         rejected: list[AnswerRejectedError]) -> Response | str:
    """The synchronous answer (its code noted in `codes`), or why there is none (an answer
    that failed verification is kept in `rejected`, to be quarantined)."""
    identity = ex.identity_for(request.device.device_type)
    try:
        xml = build.sign_request(ReadInventory(request.request_id, request.device.device_id),
                                 identity.xml)
        return outbound.exchange(ex, xml, request.request_id, codes)
    except (AnswerRejectedError, DspUnavailableError, DspRefusedError, DuisError) as err:
        if isinstance(err, AnswerRejectedError):
            rejected.append(err)
        return f"{type(err).__name__}: {err}"[:300]


def _apply(ex: Execution, answers: list[tuple[_Request, Response | str]],
           codes: dict[str, str], report: RefreshReport,
           rejected: list[AnswerRejectedError]) -> None:
    """Apply every inventory answer, record the response codes and quarantine the answers
    that failed verification, in one transaction."""
    now = ex.clock.now()
    with ex.uow() as uow:
        for request, answer in answers:
            device = request.device.device_id
            if isinstance(answer, str):
                report.failed[device] = answer
                continue
            code = answer.header.response_code
            inventory = getattr(answer.body, "inventory", None)
            if code != "I0" or not inventory:
                report.failed[device] = f"response code {code}, no inventory"
                continue
            result = apply_inventory(uow, inventory, answer.header.response_datetime, "8.2",
                                     now=now)
            report.recorded += result.recorded
            report.ignored_older += result.ignored_older
            report.drift += sum(f.name == DRIFT for f in result.facts)
            report.problems += result.problems
        uow.requests.record_response_codes(codes)
        quarantine_answers(uow, rejected, now)
        uow.commit()
