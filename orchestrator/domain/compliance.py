"""Fleet compliance: per manufacturer and model, how much of the fleet runs the latest Active
firmware, how much has a planned path (and how long), how much is blocked and why (with the
manufacturer's contact), how much runs firmware on no CPL entry (a security finding), and the
exposure by ZigBee chipset and stack of the entries the fleet runs. Pure: from plans."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.plan_report import DevicePlan


def compliance(plans: Iterable[DevicePlan], catalogue: Catalogue) -> dict[str, Any]:
    """`{totals, models: [...], zigbee: [...]}`, models and chipsets sorted by name."""
    models: dict[tuple[str, str], dict[str, Any]] = {}
    zigbee: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for plan in plans:
        device, outcome = plan.device, plan.outcome
        row = models.setdefault((device.manufacturer, device.model), {
            "manufacturer": device.manufacturer, "model": device.model, "devices": 0,
            "current": 0, "planned": 0, "path_steps": Counter(), "blocked": Counter(),
            "unknown_firmware": 0, "contact": None})
        row["devices"] += 1
        totals["devices"] += 1
        if outcome.status == "up_to_date":
            row["current"] += 1
            totals["current"] += 1
        elif outcome.status == "planned":
            row["planned"] += 1
            row["path_steps"][len(outcome.path)] += 1
            totals["planned"] += 1
        else:
            row["blocked"][outcome.reason or "unknown"] += 1
            totals["blocked"] += 1
            if outcome.next_action.security_finding:
                row["unknown_firmware"] += 1
                totals["unknown_firmware"] += 1
            contact = outcome.next_action.to_dict().get("contact")
            if contact and row["contact"] is None:
                row["contact"] = contact
        entry = catalogue.get(outcome.current_entry) if outcome.current_entry else None
        if entry is not None and entry.zigbee_chipset_vendor:
            zigbee[(entry.zigbee_chipset_vendor, entry.zigbee_stack_version)] += 1
    contacts = _published_contacts(catalogue)
    for (manufacturer, model), row in models.items():
        if row["contact"] is None:  # blocked for a reason naming none, or nothing blocked
            row["contact"] = (contacts.get((manufacturer.upper(), model.upper()))
                              or contacts.get((manufacturer.upper(), "")))
    return {"totals": {k: totals[k] for k in ("devices", "current", "planned", "blocked",
                                              "unknown_firmware")},
            "models": [_model(models[k]) for k in sorted(models)],
            "zigbee": [{"chipset_vendor": v, "stack_version": s, "devices": n}
                       for (v, s), n in sorted(zigbee.items())]}


def _published_contacts(catalogue: Catalogue) -> dict[tuple[str, str], dict[str, str]]:
    """The FIR contact of each (manufacturer, model) and of each manufacturer (model ""),
    from its newest entry that publishes one."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for entry in catalogue:  # in CPL Entry ID order: a later entry's contact wins
        c = entry.contact
        if c.email or c.telephone:
            contact = {"email": c.email, "telephone": c.telephone, "address": c.address}
            found[(entry.manufacturer.upper(), entry.model.upper())] = contact
            found[(entry.manufacturer.upper(), "")] = contact
    return found


def _model(row: dict[str, Any]) -> dict[str, Any]:
    steps: Counter[int] = row.pop("path_steps")
    blocked: Counter[str] = row.pop("blocked")
    return {**row, "path_steps": {str(k): steps[k] for k in sorted(steps)},
            "longest_path": max(steps, default=0),
            "blocked": dict(sorted(blocked.items()))}
