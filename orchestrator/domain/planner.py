"""The upgrade-path planner: for each device, the permitted path to a target, or why not.

Pure Python. A hop applies entry B on a device running A iff A is in B's permitted
predecessors (FIR); every entry entered must be Active. The fewest hops win; among equally
short paths the lexicographically smallest sequence of `entry_id_key` wins. Work is memoised
per device situation (the fields a plan depends on), per (current entry, target) and per
target (one reverse search serves every current entry), so a device costs one look-up.

Checks, first match wins: device type policy (`device_type_not_supported`,
`dcc_managed_device`); the current entry (`unknown_firmware`, `current_unidentified`); the
target (`target_not_for_model`, `target_not_active`); up to date; `not_commissioned`; the
path (`path_unknown`, `no_permitted_path`); the comms hub along the path
(`ch_gbcs_incompatible`, `han_variant_unknown`, `han_band_incompatible`; HAN values are read
by `orchestrator.domain.han` in every published spelling); planned. An entry carried over from
an earlier snapshot (its new CPL row rejected) is planned as its last good version, and every
outcome naming one says so (`carried_entries`).
"""
from __future__ import annotations

import gc
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry, entry_id_key, version_key
from orchestrator.domain.fleet import COMMISSIONED, Device, gbcs_key
from orchestrator.domain.han import BandReading, image_bands, read_bands
from orchestrator.domain.paths import Tree, effective_predecessors, reverse_tree, walk
from orchestrator.domain.plan_report import (
    BLOCKED,
    LATEST,
    PLANNED,
    UP_TO_DATE,
    DevicePlan,
    Outcome,
    blocked,
    note_carried,
    path_outcome,
)

__all__ = ["BLOCKED", "LATEST", "PLANNED", "UP_TO_DATE", "DevicePlan", "Outcome", "Planner",
           "PlanningPolicy"]

UPGRADE, DCC_MANAGED, NOT_SUPPORTED = "upgrade", "dcc_managed", "not_supported"
# Who upgrades each device type. SMETS2 comms hubs (the CHF, and the GPF that lives in the
# same hub) are upgraded by the DCC; IHDs, CADs and SAPCs are out of scope, as is any type
# not listed.
DEVICE_TYPE_POLICY: dict[str, str] = {
    "ESME": UPGRADE, "GSME": UPGRADE, "HCALCS": UPGRADE, "PPMID": UPGRADE,
    "CHF": DCC_MANAGED, "GPF": DCC_MANAGED,
    "IHD": NOT_SUPPORTED, "CAD": NOT_SUPPORTED, "SAPC": NOT_SUPPORTED,
}
_TARGET_REASONS = frozenset({"target_not_active", "target_not_for_model"})
# Every device field a plan depends on (all but the device and hub IDs, tags and provenance):
# devices with equal values share one memoised outcome.
_situation = operator.attrgetter(
    "device_type", "manufacturer", "model", "status", "hardware_version", "firmware_hash",
    "firmware_version", "comms_hub_gbcs_version", "han_variant")


@dataclass(frozen=True)
class PlanningPolicy:
    """Planning choices ops may change: guessing unknown predecessors, who upgrades what."""

    allow_unknown_predecessors: bool = False
    device_types: Mapping[str, str] = field(default_factory=lambda: dict(DEVICE_TYPE_POLICY))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (stored with each plan)."""
        return {"allow_unknown_predecessors": self.allow_unknown_predecessors,
                "device_types": dict(self.device_types)}


class Planner:
    """Plans devices against one catalogue snapshot under one policy (memoised, one thread)."""

    def __init__(self, catalogue: Catalogue, policy: PlanningPolicy | None = None):
        self.catalogue = catalogue
        self.policy = policy or PlanningPolicy()
        self._entries = {e.cpl_entry_id: e for e in catalogue}
        self._lineages: dict[tuple[str, str, str], list[CatalogueEntry]] = {}
        for entry in self._entries.values():
            self._lineages.setdefault(entry.lineage_key, []).append(entry)
        self._preds, self._guessed = effective_predecessors(
            self._entries, self.policy.allow_unknown_predecessors)
        self._succ: dict[str, list[str]] = {}
        for entry_id, preds in self._preds.items():
            for previous in preds or ():
                self._succ.setdefault(previous, []).append(entry_id)
        self._identified: dict[tuple[str, ...], CatalogueEntry | Outcome] = {}
        self._routes: dict[tuple[str, str], Outcome] = {}
        self._by_type: dict[str, Outcome] = {}
        self._trees: dict[str, Tree] = {}
        self._final: dict[tuple[Outcome, str, str, str], Outcome] = {}
        self._situations: dict[str, dict[tuple[str, ...], Outcome]] = {}
        self._carried = {e.cpl_entry_id: e.carried_over for e in self._entries.values()
                         if e.carried_over is not None}
        self._noted: dict[Outcome, Outcome] = {}

    @property
    def snapshot_id(self) -> int | None:
        """The catalogue snapshot every plan of this planner used."""
        return self.catalogue.snapshot_id

    def plan(self, devices: Iterable[Device], target: str = LATEST) -> Iterator[DevicePlan]:
        """Plan each device towards `target` (`latest` or a CPL Entry ID in the catalogue)."""
        memo = self._situations.setdefault(target, {})
        get = memo.get
        for device in devices:
            key = _situation(device)
            found = get(key)
            if found is None:
                found = memo[key] = self._decide(device, target)
            yield DevicePlan(device, found)

    def plan_all(self, devices: Iterable[Device], target: str = LATEST) -> list[DevicePlan]:
        """`plan` into a list, with the cyclic GC paused: a million small tuples would
        otherwise trigger full collections over the whole heap (planning makes no cycles)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return list(self.plan(devices, target))
        finally:
            if paused:
                gc.enable()

    def outcome(self, device: Device, target: str = LATEST) -> Outcome:
        """The plan outcome of one device (shared between devices in the same situation)."""
        memo = self._situations.setdefault(target, {})
        key = _situation(device)
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._decide(device, target)
        return found

    def _decide(self, device: Device, target: str) -> Outcome:
        found = self._judge(device, target)
        if not self._carried:
            return found
        noted = self._noted.get(found)
        if noted is None:
            noted = self._noted[found] = note_carried(found, self._carried)
        return noted

    def _judge(self, device: Device, target: str) -> Outcome:
        handling = self.policy.device_types.get(device.device_type, NOT_SUPPORTED)
        if handling != UPGRADE:
            return self._type_outcome(device.device_type, handling)
        current = self.current_entry(device)
        if isinstance(current, Outcome):
            return current
        route = self._route(current.cpl_entry_id, target)
        if route.status == UP_TO_DATE or route.reason in _TARGET_REASONS:
            return route
        if device.status != COMMISSIONED:
            return self._final_for(route, "status", device.status, "")
        if route.status == BLOCKED:
            return route
        return self._final_for(route, "hub", device.comms_hub_gbcs_version, device.han_variant)

    def current_entry(self, device: Device) -> CatalogueEntry | Outcome:
        """The CPL entry the device runs, or the blocked outcome saying why it is not known."""
        key = (device.firmware_hash, device.manufacturer, device.model,
               device.hardware_version, device.firmware_version)
        found = self._identified.get(key)
        if found is None:
            found = self._identified[key] = self._identify(device)
        return found

    def _identify(self, device: Device) -> CatalogueEntry | Outcome:
        wanted = (device.manufacturer, device.model, device.hardware_version)

        def fits(entry: CatalogueEntry) -> bool:
            return all(not w or w == have for w, have in zip(wanted, entry.lineage_key))

        if device.firmware_hash:
            found = self.catalogue.by_hash(device.firmware_hash)
            matching = [e for e in found if fits(e)]
            if matching:
                return matching[0]
            return blocked("unknown_firmware", None, None, firmware_hash=device.firmware_hash,
                           listed_for_other_model=[e.cpl_entry_id for e in found])
        if not device.firmware_version:
            return blocked("current_unidentified", None, None, detail="no hash and no version")
        version = device.firmware_version.upper()
        same = [e for e in self._lineages.get(wanted, self._entries.values())
                if e.firmware_version.upper() == version and fits(e)]
        if len(same) == 1:
            return same[0]
        if not same:
            return blocked("unknown_firmware", None, None,
                           firmware_version=device.firmware_version)
        ids = ", ".join(sorted((e.cpl_entry_id for e in same), key=entry_id_key))
        return blocked("current_unidentified", None, None,
                       detail=f"version {device.firmware_version} is on entries {ids}")

    def _final_for(self, route: Outcome, kind: str, first: str, second: str) -> Outcome:
        key = (route, kind, first, second)
        found = self._final.get(key)
        if found is None:
            if kind == "status":
                found = blocked("not_commissioned", route.current_entry, route.target_entry,
                                device_status=first or "of unknown status")
            else:
                found = self._hub_check(route, first, second)
            self._final[key] = found
        return found

    def _hub_check(self, route: Outcome, hub_gbcs: str, hub_han: str) -> Outcome:
        """The route, or the first entry on it that the device's comms hub cannot take."""
        hub_version, hub = gbcs_key(hub_gbcs), read_bands(hub_han)
        ids = (route.current_entry, route.target_entry)
        for entry in (self._entries[e] for e in route.path):
            needed = gbcs_key(entry.gbcs_version)
            if hub_version is not None and needed is not None and hub_version < needed:
                return blocked("ch_gbcs_incompatible", *ids, entry=entry.cpl_entry_id,
                               hub_gbcs_version=hub_gbcs, entry_gbcs_version=entry.gbcs_version)
            found = _band_check(entry, hub, ids)
            if found is not None:
                return found
        return route

    def _type_outcome(self, device_type: str, handling: str) -> Outcome:
        found = self._by_type.get(device_type)
        if found is None:
            reason = ("dcc_managed_device" if handling == DCC_MANAGED
                      else "device_type_not_supported")
            found = self._by_type[device_type] = blocked(reason, None, None,
                                                         device_type=device_type)
        return found

    def _route(self, current: str, target: str) -> Outcome:
        key = (current, target)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._resolve(self._entries[current], target)
        return found

    def _resolve(self, current: CatalogueEntry, target: str) -> Outcome:
        if target != LATEST:
            explicit = self._entries.get(target)
            if explicit is None:
                raise ValueError(f"target {target!r} is not a CPL Entry ID of this catalogue")
            return self._towards(current, explicit, explicit=True)
        active = [e for e in self._lineages[current.lineage_key] if e.active]
        if not active:
            return blocked("target_not_active", current.cpl_entry_id, None, current.contact,
                           detail="no Active entry for this model and hardware version")
        top = max(version_key(e.firmware_version) for e in active)
        candidates = sorted((e for e in active if version_key(e.firmware_version) == top),
                            key=lambda e: entry_id_key(e.cpl_entry_id))
        if current in candidates:
            return self._towards(current, current, explicit=False)
        routes = [self._towards(current, c, explicit=False) for c in candidates]
        planned = [r for r in routes if r.status == PLANNED]
        if not planned:
            return routes[0]
        return min(planned, key=lambda r: (len(r.path), [entry_id_key(e) for e in r.path]))

    def _towards(self, current: CatalogueEntry, target: CatalogueEntry, explicit: bool
                 ) -> Outcome:
        ids = (current.cpl_entry_id, target.cpl_entry_id)
        if current.cpl_entry_id == target.cpl_entry_id:
            return Outcome(UP_TO_DATE, None, *ids, ())
        if explicit and current.lineage_key != target.lineage_key:
            return blocked("target_not_for_model", *ids, target_model="/".join(
                target.lineage_key))
        if not target.active:
            return blocked("target_not_active", *ids, target.contact,
                           detail=f"entry {target.cpl_entry_id} is {target.status}")
        tree = self._trees.get(target.cpl_entry_id)
        if tree is None:
            tree = self._trees[target.cpl_entry_id] = reverse_tree(
                self._entries, self._preds, target.cpl_entry_id)
        path = walk(tree, current.cpl_entry_id)
        assumed = [e for e in path if e in self._guessed]
        furthest = None if path else self.furthest_reachable(current.cpl_entry_id)
        return path_outcome(current, target, path, tree.unknown, furthest, assumed)

    def furthest_reachable(self, current: str) -> CatalogueEntry | None:
        """The reachable Active entry with the highest version (forward search from current)."""
        seen, frontier = {current}, [current]
        while frontier:
            step = []
            for node in frontier:
                for nxt in self._succ.get(node, ()):
                    if nxt not in seen and self._entries[nxt].active:
                        seen.add(nxt)
                        step.append(nxt)
            frontier = step
        reached = sorted((self._entries[e] for e in seen if e != current),
                         key=lambda e: entry_id_key(e.cpl_entry_id))
        return max(reached, default=None, key=lambda e: version_key(e.firmware_version))


def _band_check(entry: CatalogueEntry, hub: BandReading,
                ids: tuple[str | None, str | None]) -> Outcome | None:
    """Blocked when the image's bands miss the hub's, or when either value is not understood
    and the image is (or may be) restricted to one band; None when the image fits."""
    image = image_bands(entry.zigbee_band_join_option, entry.han_variant)
    if image.unknown:
        return blocked("han_variant_unknown", *ids, entry=entry.cpl_entry_id,
                       side="entry", value=image.value)
    if not image.restricted or image.bands is None:
        return None
    if hub.unknown:
        return blocked("han_variant_unknown", *ids, entry=entry.cpl_entry_id,
                       side="comms hub", value=hub.value)
    if hub.bands is not None and not image.bands & hub.bands:
        return blocked("han_band_incompatible", *ids, entry=entry.cpl_entry_id,
                       image_bands=sorted(image.bands), hub_han_variant=hub.value,
                       hub_bands=sorted(hub.bands))
    return None
