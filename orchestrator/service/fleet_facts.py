"""The fleet follows verified facts: 11.2 reads, 8.2 inventories and DCC mismatch alerts.

Every read that reaches the orchestrator updates the device it names (an older observation
never overwrites a newer one), appends to the device's history, records a drift finding when
it contradicts the record, and flags the stored plans holding a device whose firmware changed.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from duis.models import (
    DccAlert,
    FirmwareVersionMismatch,
    InventoryDevice,
    Response,
    ResponseMessage,
)
from orchestrator.domain.fleet import (
    Device,
    InventoryObservation,
    device_id,
    newer,
    observe_inventory,
)
from orchestrator.domain.observations import (
    DRIFT,
    FirmwareRead,
    FleetFact,
    mismatch_fact,
    observe_read,
    read_facts,
)
from orchestrator.service.unit_of_work import UnitOfWork

VersionOf = Callable[[Device], str]


@dataclass(frozen=True)
class ObservationResult:
    """What recording observations did."""

    recorded: int
    ignored_older: int
    problems: list[str] = field(default_factory=list)
    facts: list[FleetFact] = field(default_factory=list)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def eui_or_raw(text: str) -> str:
    """An EUI-64 in canonical form, or the text as given when it is not one."""
    try:
        return device_id(text)
    except ValueError:
        return text


def held_version(device: Device, version_of: VersionOf | None = None) -> str:
    """The version the fleet believes a device runs ("" when it only knows an unknown hash)."""
    return device.firmware_version or (version_of(device) if version_of else "")


def record_reads(uow: UnitOfWork, reads: Sequence[FirmwareRead], now: dt.datetime, *,
                 known: dict[str, Device] | None = None,
                 version_of: VersionOf | None = None) -> ObservationResult:
    """Apply 11.2 reads to the fleet inside the caller's unit of work, oldest first."""
    ids = {eui_or_raw(r.device_id) for r in reads}
    devices = dict(known or {})
    missing = ids - devices.keys()
    devices.update(uow.fleet.get_many(missing) if missing else {})
    before = dict(devices)
    updated: dict[str, Device] = {}
    facts: list[FleetFact] = []
    problems: list[str] = []
    older = 0
    for read in sorted(reads, key=lambda r: r.observed_at):
        key = eui_or_raw(read.device_id)
        current = devices.get(key)
        if current is None:  # a device answering that the inventory does not hold
            problems.append(f"{read.device_id}: not in the fleet inventory")
            facts.append(FleetFact(key, DRIFT, read.observed_at, read.source,
                                   {"finding": "not_in_inventory", "read_version": read.version},
                                   read.campaign_id, read.message_id))
        elif not newer(current, read.observed_at):
            older += 1
        else:
            try:
                device, found = observe_read(current, read, held_version(current, version_of))
            except ValueError as err:
                problems.append(f"{read.device_id}: {err}")
                continue
            devices[key] = updated[key] = device
            facts += found
    save_observations(uow, before, list(updated.values()), facts, now)
    return ObservationResult(len(updated), older, problems, facts)


def apply_inventory(uow: UnitOfWork, devices: Iterable[InventoryDevice],
                    observed_at: dt.datetime, source: str = "8.2", *,
                    now: dt.datetime | None = None,
                    message_id: int | None = None) -> ObservationResult:
    """Apply the devices of one 8.2 Read Inventory response (one premises)."""
    seen = [InventoryObservation(d.device_id, d.device_type, d.manufacturer, d.model,
                                 d.status or "", d.firmware_version or "", d.gbcs_version or "",
                                 d.han_variant or "") for d in devices]
    hub = next((s for s in seen if s.device_type.strip().upper() == "CHF"), None)
    existing = uow.fleet.get_many(eui_or_raw(s.device_id) for s in seen)
    updated, facts, problems, older = [], [], [], 0
    for s in seen:
        before = existing.get(eui_or_raw(s.device_id))
        if not newer(before, observed_at):
            older += 1
            continue
        try:
            after = observe_inventory(before, s, hub, source, observed_at)
        except ValueError as err:
            problems.append(f"{s.device_id}: {err}")
            continue
        if s.firmware_version:
            after = after._replace(read_at=observed_at)
            read = FirmwareRead(after.device_id, after.firmware_version, observed_at, source,
                                message_id=message_id)
            facts += read_facts(before, after, read, before.firmware_version if before else "")
        updated.append(after)
    save_observations(uow, existing, updated, facts, now or _utc_now())
    return ObservationResult(len(updated), older, problems, facts)


def save_observations(uow: UnitOfWork, before: dict[str, Device], updated: list[Device],
                      facts: list[FleetFact], now: dt.datetime) -> list[int]:
    """Write the devices and their history; flag plans of devices whose firmware changed."""
    uow.fleet.upsert(updated)
    uow.fleet.add_events(facts, now)
    changed = [d for d in updated if _firmware(d) != _firmware(before.get(d.device_id))]
    if not changed:
        return []
    first, was = changed[0], before.get(changed[0].device_id)
    reason = (f"the running firmware of {len(changed)} device(s) changed since the plan "
              f"(e.g. {first.device_id}: {_firmware(was)[0] or '?'} -> "
              f"{first.firmware_version or first.firmware_hash})")
    return uow.plans.mark_stale_for_devices([d.device_id for d in changed], reason, now)


def _firmware(device: Device | None) -> tuple[str, str]:
    if device is None:
        return "", ""
    return device.firmware_version.upper(), device.firmware_hash


@dataclass(frozen=True)
class InboundFacts:
    """The fleet facts one verified message carries (an 8.2 inventory, a mismatch alert)."""

    message_id: int | None
    observed_at: dt.datetime
    inventory: tuple[InventoryDevice, ...] = ()
    mismatch: FirmwareVersionMismatch | None = None
    source: str = "8.2"


def inbound_facts(response: Response, message_id: int | None) -> list[InboundFacts]:
    """What a verified response or alert tells about the fleet (11.2 reads go with jobs)."""
    body, at = response.body, response.header.response_datetime
    if isinstance(body, ResponseMessage) and body.inventory:
        return [InboundFacts(message_id, at, body.inventory)]
    if isinstance(body, DccAlert) and isinstance(body.detail, FirmwareVersionMismatch):
        return [InboundFacts(message_id, at, mismatch=body.detail,
                             source=f"dcc_alert:{body.code}")]
    return []


def apply_inbound_facts(uow: UnitOfWork, found: Sequence[InboundFacts],
                        now: dt.datetime) -> None:
    """Record inventories and mismatch alerts inside the receiver's unit of work."""
    for f in found:
        if f.inventory:
            apply_inventory(uow, f.inventory, f.observed_at, f.source, now=now,
                            message_id=f.message_id)
        if f.mismatch is not None:
            m = f.mismatch
            uow.fleet.add_events([mismatch_fact(eui_or_raw(m.device_id), m.version_smi,
                                                m.version_device, f.observed_at, f.source,
                                                f.message_id)], now)


def device_history(uow: UnitOfWork, device: str, limit: int = 500) -> list[FleetFact]:
    """A device's observations and drift findings, oldest first."""
    with uow:
        return uow.fleet.events(eui_or_raw(device), limit=limit)


def drift_findings(uow: UnitOfWork, limit: int = 100) -> tuple[int, list[FleetFact]]:
    """How many drift findings exist, and the newest `limit` of them."""
    with uow:
        total = uow.fleet.count_events([DRIFT]).get(DRIFT, 0)
        return total, uow.fleet.events(names=[DRIFT], limit=limit, newest_first=True)
