"""Plan outcomes, the next action for every blocked reason, and the plan report.

Pure Python. An `Outcome` is shared by every device in the same situation, so a report over
a million devices counts outcomes, not devices. `REASONS` is the table of blocked reasons
and what ops should do next.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from orchestrator.domain.catalogue import (
    CarriedOver,
    Catalogue,
    CatalogueEntry,
    Contact,
    entry_id_key,
)
from orchestrator.domain.fleet import Device
from orchestrator.domain.policy import Budget, Policy

LATEST = "latest"
UP_TO_DATE, PLANNED, BLOCKED = "up_to_date", "planned", "blocked"


@dataclass(frozen=True, slots=True)
class ReasonRule:
    """What ops should do about a blocked reason; `message` is formatted with the details."""

    action: str
    message: str
    security_finding: bool = False


REASONS: dict[str, ReasonRule] = {
    "device_type_not_supported": ReasonRule(
        "none_out_of_scope", "{device_type} devices are not upgraded by the orchestrator "
        "(device type policy)"),
    "dcc_managed_device": ReasonRule(
        "leave_to_dcc", "{device_type} is part of a SMETS2 comms hub, whose firmware the DCC "
        "upgrades"),
    "unknown_firmware": ReasonRule(
        "investigate_security_finding", "the running firmware is on no CPL entry for this "
        "model: a security finding; confirm with an 11.2 read and contact the manufacturer",
        security_finding=True),
    "current_unidentified": ReasonRule(
        "read_firmware", "the running CPL entry cannot be identified ({detail}): read the "
        "firmware hash (11.2 / 8.2) or import it"),
    "target_not_active": ReasonRule(
        "choose_active_target", "the target is not Active on the CPL ({detail}): choose an "
        "Active target or ask the manufacturer for one"),
    "target_not_for_model": ReasonRule(
        "choose_target_for_model", "the target entry is for {target_model}, not this "
        "device's manufacturer/model/hardware version"),
    "not_commissioned": ReasonRule(
        "commission_or_reread_status", "the device is {device_status}; firmware updates need a "
        "Commissioned device: commission it or re-read its status (8.2)"),
    "no_permitted_path": ReasonRule(
        "site_visit_or_manufacturer_contact", "no permitted path from {current} to {target} "
        "through Active entries; furthest reachable entry: {furthest_reachable_entry}. Plan a "
        "site visit or contact the manufacturer"),
    "path_unknown": ReasonRule(
        "contact_manufacturer", "no proven path: entries {unknown_entries} have no predecessor "
        "data in the FIR, so a path cannot be proven; ask the manufacturer for the permitted "
        "previous versions"),
    "ch_gbcs_incompatible": ReasonRule(
        "request_comms_hub_upgrade", "the comms hub runs GBCS {hub_gbcs_version} but entry "
        "{entry} needs GBCS {entry_gbcs_version}: the hub must be upgraded first (DCC)"),
    "han_band_incompatible": ReasonRule(
        "site_visit_replace_hub", "entry {entry} joins {image_bands} but the comms hub "
        "({hub_han_variant}) offers {hub_bands}: a compatible hub or image is needed"),
    "han_variant_unknown": ReasonRule(
        "correct_han_variant", "the {side} HAN variant / band join option {value!r} is not "
        "understood, so whether the comms hub can take entry {entry} cannot be checked: "
        "correct it (CPL/FIR or fleet inventory) or re-read the hub with an 8.2"),
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class NextAction:
    """What to do next for one outcome; `details` are the facts the message names."""

    action: str
    message: str
    contact: Contact | None = None
    details: tuple[tuple[str, Any], ...] = ()
    security_finding: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: `{action, message, [contact], [security_finding], ...details}`."""
        data: dict[str, Any] = {"action": self.action, "message": self.message}
        data.update((k, list(v) if isinstance(v, tuple) else v) for k, v in self.details)
        if self.contact is not None and any((self.contact.email, self.contact.telephone)):
            data["contact"] = {"email": self.contact.email, "telephone": self.contact.telephone,
                               "address": self.contact.address}
        if self.security_finding:
            data["security_finding"] = True
        return data


@dataclass(frozen=True, eq=False, slots=True)
class Outcome:
    """A plan outcome; compared by identity because the planner shares and memoises them."""

    status: str
    reason: str | None
    current_entry: str | None
    target_entry: str | None
    path: tuple[str, ...]
    next_action: NextAction = NextAction("none", "running the target")

    def to_dict(self) -> dict[str, Any]:
        """`{status, reason, current_entry, target_entry, path, next_action}`."""
        return {"status": self.status, "reason": self.reason,
                "current_entry": self.current_entry, "target_entry": self.target_entry,
                "path": list(self.path), "next_action": self.next_action.to_dict()}


class DevicePlan(NamedTuple):
    """One device's plan: the device and its (shared, memoised) outcome (a cheap tuple)."""

    device: Device
    outcome: Outcome

    @property
    def device_id(self) -> str:
        """The device's EUI-64."""
        return self.device.device_id

    def to_dict(self) -> dict[str, Any]:
        """`{device_id, status, reason, current_entry, target_entry, path, next_action}`."""
        return {"device_id": self.device.device_id, **self.outcome.to_dict()}


@dataclass(frozen=True, slots=True)
class PlannedDevice:
    """One device of a stored plan, as the campaign engine reads it back."""

    device_id: str
    status: str
    reason: str | None
    current_entry: str | None
    target_entry: str | None
    path: tuple[str, ...]
    next_action: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """`{device_id, status, reason, current_entry, target_entry, path, next_action}`."""
        return {"device_id": self.device_id, "status": self.status, "reason": self.reason,
                "current_entry": self.current_entry, "target_entry": self.target_entry,
                "path": list(self.path), "next_action": dict(self.next_action)}


@dataclass(frozen=True)
class StoredPlan:
    """A stored plan's record: what was planned against which snapshot, and if still valid."""

    id: int
    created_at: dt.datetime
    snapshot_id: int
    target: str
    selection: Mapping[str, Any]
    policy: Mapping[str, Any]
    summary: Mapping[str, Any]
    device_count: int
    stale: bool = False
    stale_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the summary included)."""
        return {"plan_id": self.id, "created_at": self.created_at.isoformat(),
                "snapshot_id": self.snapshot_id, "target": self.target,
                "selection": dict(self.selection), "policy": dict(self.policy),
                "devices": self.device_count, "stale": self.stale,
                "stale_reason": self.stale_reason, "summary": dict(self.summary)}


def blocked(reason: str, current: str | None, target: str | None,
            contact: Contact | None = None, **details: Any) -> Outcome:
    """A blocked outcome with the next action of its reason."""
    rule = REASONS[reason]
    shown = {k: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v
             for k, v in details.items()}
    message = rule.message.format_map(_Blank(current=current, target=target, **shown))
    frozen = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in details.items())
    action = NextAction(rule.action, message, contact, frozen, rule.security_finding)
    return Outcome(BLOCKED, reason, current, target, (), action)


def path_outcome(current: CatalogueEntry, target: CatalogueEntry, path: list[str],
                 unknown: list[str], furthest: CatalogueEntry | None,
                 assumed: list[str]) -> Outcome:
    """Planned along `path`, or blocked with `path_unknown` / `no_permitted_path`."""
    contact = target.contact if target.has_fir else current.contact
    ids = (current.cpl_entry_id, target.cpl_entry_id)
    if path:
        details: tuple[tuple[str, Any], ...] = ()
        message = f"apply {len(path)} image(s) in order: {' -> '.join(path)}"
        if assumed:
            details = (("assumed_predecessors", tuple(assumed)),)
            message += " (predecessors assumed by policy for " + ", ".join(assumed) + ")"
        return Outcome(PLANNED, None, *ids, tuple(path),
                       NextAction("upgrade", message, None, details))
    if unknown:
        return blocked("path_unknown", *ids, contact,
                       unknown_entries=sorted(unknown, key=entry_id_key))
    return blocked("no_permitted_path", *ids, contact,
                   furthest_reachable_entry=furthest.cpl_entry_id if furthest else None,
                   furthest_reachable_version=furthest.firmware_version if furthest else None)


def note_carried(outcome: Outcome, carried: Mapping[str, CarriedOver]) -> Outcome:
    """The outcome, saying which of its entries (current, path, target) are carried over
    from an earlier snapshot because this sync rejected their CPL row."""
    named = dict.fromkeys((outcome.current_entry, *outcome.path, outcome.target_entry))
    ids = tuple(e for e in named if e is not None and e in carried)
    if not ids:
        return outcome
    note = "; ".join(f"entry {e} is {carried[e].describe()}" for e in ids)
    action = outcome.next_action
    action = replace(action, message=f"{action.message} (note: {note})",
                     details=(*action.details, ("carried_entries", ids)))
    return replace(outcome, next_action=action)


def carried_entries(outcomes: Iterable[Outcome]) -> list[str]:
    """Entries carried over from an earlier snapshot that any of the outcomes names."""
    found = {e for o in outcomes for k, v in o.next_action.details
             if k == "carried_entries" for e in v}
    return sorted(found, key=entry_id_key)


DISTRIBUTION_SR: dict[str, str] = {"PPMID": "11.4"}  # device type -> SR; others 11.1


@dataclass(frozen=True)
class ReportOptions:
    """Batching and pacing assumptions of the campaign estimate: the campaign policy's budgets
    (its defaults unless given; set them to the User's anomaly detection thresholds)."""

    batch_size: int = 500
    budgets: tuple[Budget, ...] = Policy().budgets
    blocked_sample: int = 10


def summarise(plans: Iterable[DevicePlan], catalogue: Catalogue,
              options: ReportOptions | None = None) -> dict[str, Any]:
    """The plan report: counts, models, path lengths, blocked groups, requests, duration."""
    options = options or ReportOptions()
    outcomes: Counter[Outcome] = Counter()
    models: Counter[tuple[str, str, str]] = Counter()
    samples: dict[Outcome, list[str]] = {}
    for plan in plans:
        outcome, device = plan.outcome, plan.device
        outcomes[outcome] += 1
        models[(device.manufacturer, device.model, outcome.status)] += 1
        if outcome.status == BLOCKED:
            sample = samples.setdefault(outcome, [])
            if len(sample) < options.blocked_sample:
                sample.append(device.device_id)
    return {"devices": sum(outcomes.values()), **_counts(outcomes),
            "by_model": _by_model(models), "blocked": _blocked_groups(outcomes, samples),
            "campaign": campaign_estimate(outcomes, catalogue, options),
            "carried_entries": carried_entries(outcomes),
            "entries": sorted(plan_entries(outcomes), key=entry_id_key)}


def _counts(outcomes: Counter[Outcome]) -> dict[str, Any]:
    by_status: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    findings = 0
    for outcome, n in outcomes.items():
        by_status[outcome.status] += n
        if outcome.reason:
            by_reason[outcome.reason] += n
        if outcome.status == PLANNED:
            lengths[len(outcome.path)] += n
        findings += n if outcome.next_action.security_finding else 0
    return {"by_status": {s: by_status[s] for s in (PLANNED, UP_TO_DATE, BLOCKED)},
            "by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
            "path_lengths": {str(k): lengths[k] for k in sorted(lengths)},
            "security_findings": findings}


def _by_model(models: Counter[tuple[str, str, str]]) -> list[dict[str, Any]]:
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for (manufacturer, model, status), n in models.items():
        row = table.setdefault((manufacturer, model), {
            "manufacturer": manufacturer, "model": model, "devices": 0,
            PLANNED: 0, UP_TO_DATE: 0, BLOCKED: 0})
        row["devices"] += n
        row[status] += n
    return sorted(table.values(), key=lambda r: (-r["devices"], r["manufacturer"], r["model"]))


def _blocked_groups(outcomes: Counter[Outcome], samples: dict[Outcome, list[str]]
                    ) -> list[dict[str, Any]]:
    groups: dict[tuple[str, NextAction], dict[str, Any]] = {}
    for outcome, n in outcomes.items():
        if outcome.status != BLOCKED or outcome.reason is None:
            continue
        group = groups.setdefault((outcome.reason, outcome.next_action), {
            "reason": outcome.reason, "devices": 0, "next_action": outcome.next_action.to_dict(),
            "sample_device_ids": []})
        group["devices"] += n
        group["sample_device_ids"] = sorted(group["sample_device_ids"] + samples[outcome])[:10]
    return sorted(groups.values(), key=lambda g: (-g["devices"], g["reason"],
                                                  g["next_action"]["message"]))


def campaign_estimate(outcomes: Counter[Outcome], catalogue: Catalogue,
                      options: ReportOptions) -> dict[str, Any]:
    """Service requests a campaign would send and the periods its budgets need.

    11.1/11.4: one request per (entry, batch of up to `batch_size` devices sharing the image);
    11.3 and 11.2: one per device-step. Each SR type needs `periods_by_type` of its budget's
    periods; `hours` is the longest (a lower bound: HAN delivery time is not modelled).
    """
    per_entry: Counter[str] = Counter()
    for outcome, n in outcomes.items():
        if outcome.status == PLANNED:
            for entry_id in outcome.path:
                per_entry[entry_id] += n
    requests = {sr: 0 for sr in ("11.1", "11.4", "11.3", "11.2")}
    for entry_id, n in per_entry.items():
        entry = catalogue.get(entry_id)
        sr = DISTRIBUTION_SR.get(entry.device_type if entry else "", "11.1")
        requests[sr] += math.ceil(n / options.batch_size)
    steps = sum(per_entry.values())
    requests["11.3"] = requests["11.2"] = steps
    budgets = {b.sr_type: b for b in options.budgets}
    periods = {sr: math.ceil(n / budgets[sr].limit) if sr in budgets else None
               for sr, n in requests.items()}
    hours = {sr: p * budgets[sr].period_s / 3600 for sr, p in periods.items() if p is not None}
    return {"device_steps": steps, "images": len(per_entry), "batch_size": options.batch_size,
            "requests": requests,
            "budgets": {sr: {"limit": b.limit, "period_s": b.period_s} for sr, b in budgets.items()},
            "periods_by_type": periods, "hours_by_type": hours,
            "hours": max(hours.values(), default=0.0)}


def plan_entries(outcomes: Iterable[Outcome]) -> set[str]:
    """Entries a plan depends on: every entry on a path and every target."""
    used: set[str] = set()
    for outcome in outcomes:
        used.update(outcome.path)
        if outcome.target_entry and outcome.status != UP_TO_DATE:
            used.add(outcome.target_entry)
    return used


STALE_FIELDS = frozenset({"status", "predecessors", "image_hash", "gbcs_version", "han_variant",
                          "zigbee_band_join_option", "device_type", "manufacturer", "model",
                          "hardware_version", "firmware_version"})


def stale_reason(diff: Mapping[str, Any], used: Iterable[str], snapshot_id: int | None
                 ) -> str | None:
    """Why a catalogue diff invalidates a plan using `used` entries, or None if it does not."""
    used = set(used)
    found = [f"entry {e} removed" for e in diff.get("removed", ()) if e in used]
    for change in diff.get("changed", ()):
        fields = {k: v for k, v in change.get("fields", {}).items() if k in STALE_FIELDS}
        if change.get("cpl_entry_id") in used and fields:
            found.append(f"entry {change['cpl_entry_id']} " + ", ".join(
                f"{k} {v['old']} -> {v['new']}" if k == "status" else f"{k} changed"
                for k, v in sorted(fields.items())))
    if not found:
        return None
    more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
    return f"catalogue snapshot {snapshot_id}: " + "; ".join(found[:5]) + more
