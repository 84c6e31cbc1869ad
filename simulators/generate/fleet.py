"""A synthetic device fleet on a generated catalogue, fast enough for a million rows.

Devices sit mostly on older firmware of popular models (so there is upgrade work), a few on an
image hash that is on no CPL entry. Devices hang off comms hubs, 1-3 per hub: a CHF row is
its own hub and serves the devices after it; other hubs are DCC-managed and not in the file.
`han_variant` is the hub's HAN variant (the device's own is on its CPL entry).
"""
from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from simulators.generate import vocab
from simulators.generate.catalogue import Catalogue, CplEntry
from simulators.generate.errors import require

FLEET_COLUMNS = (
    "device_id", "device_type", "manufacturer", "model", "hardware_version", "firmware_hash",
    "firmware_version", "status", "comms_hub_id", "comms_hub_gbcs_version", "han_variant",
    "region", "tariff",
)
UNKNOWN_FIRMWARE_RATE = 0.005
STATUS_FACTOR = {"Active": 1.0, "Expired": 1.0, "Withdrawn": 0.3, "Cancelled": 0.0}
HUB_GBCS = (("2.0", 8), ("3.2", 40), ("4.0", 20), ("4.2", 32))
HUB_EUI_PREFIX = 0x00DB12
_MASK40 = (1 << 40) - 1


@dataclass(frozen=True, slots=True)
class FleetDevice:
    """One fleet.csv row as a record (fields named and ordered as FLEET_COLUMNS)."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    hardware_version: str
    firmware_hash: str
    firmware_version: str
    status: str
    comms_hub_id: str
    comms_hub_gbcs_version: str
    han_variant: str
    region: str
    tariff: str


def unknown_firmware_count(devices: int) -> int:
    """How many of `devices` run an image hash that is on no CPL entry (about 0.5%)."""
    return 0 if devices <= 0 else max(1, round(devices * UNKNOWN_FIRMWARE_RATE))


def generate_fleet(catalogue: Catalogue, *, devices: int, seed: int) -> list[FleetDevice]:
    """Return the fleet as records (convenient for small fleets; see iter_fleet_rows)."""
    return [FleetDevice(*row) for row in iter_fleet_rows(catalogue, devices=devices, seed=seed)]


def iter_fleet_rows(catalogue: Catalogue, *, devices: int, seed: int) -> Iterator[tuple[str, ...]]:
    """Yield `devices` rows (tuples of strings in FLEET_COLUMNS order), deterministically."""
    require(devices >= 0, f"devices must be 0 or more, got {devices}")
    rng = random.Random(f"fwo-fleet:{seed}")
    entries = catalogue.entries
    picks = rng.choices(range(len(entries)), cum_weights=_cum_weights(rng, entries), k=devices)
    statuses = rng.choices(vocab.DEVICE_STATUSES, weights=vocab.DEVICE_STATUS_WEIGHTS, k=devices)
    unknown = {i: rng.randbytes(32).hex()
               for i in rng.sample(range(devices), k=unknown_firmware_count(devices))}
    eui = _EuiSequence(rng)
    hubs = _HubAllocator(rng, eui, first_index=devices, devices=devices)
    prefixes = {m.code: m.eui_prefix for m in catalogue.manufacturers}
    parts = [_entry_part(e) for e in entries]
    for i, e in enumerate(picks):
        part = parts[e]
        device_id = eui.make(prefixes[part[1]], i)
        if i in unknown:
            part = part[:4] + (unknown[i],) + part[5:]
        hub = hubs.hub_for(device_id, entries[e])
        yield (device_id,) + part + (statuses[i],) + hub


def _entry_part(e: CplEntry) -> tuple[str, ...]:
    return (e.device_type, e.manufacturer, e.model, e.hardware_version, e.image_hash,
            e.firmware_version)


def _cum_weights(rng: random.Random, entries: tuple[CplEntry, ...]) -> list[float]:
    """Weight = type share x lineage popularity x age (older heavier) x status factor."""
    by_lineage: dict[int, list[CplEntry]] = {}
    for entry in entries:
        by_lineage.setdefault(entry.lineage, []).append(entry)
    popularity = {k: rng.paretovariate(1.3) for k in sorted(by_lineage)}
    type_total: dict[str, float] = defaultdict(float)
    for k, chain in by_lineage.items():
        type_total[chain[0].device_type] += popularity[k]
    weight: dict[int, float] = {}
    for k, chain in by_lineage.items():
        kind = chain[0].device_type
        share = vocab.DEVICE_TYPES[kind].fleet_weight * popularity[k] / type_total[kind]
        ages = [(len(chain) - p) ** 1.5 for p in range(len(chain))]
        for entry, age in zip(chain, ages, strict=True):
            weight[entry.entry_id] = share * age / sum(ages) * STATUS_FACTOR[entry.status]
    return list(itertools.accumulate(weight[e.entry_id] for e in entries))


class _EuiSequence:
    """Unique EUI-64s: a 24-bit prefix and 40 low bits from an odd-stride bijection of i."""

    def __init__(self, rng: random.Random) -> None:
        self._offset = rng.getrandbits(40)
        self._stride = rng.getrandbits(40) | 1

    def make(self, prefix: int, index: int) -> str:
        low = (self._offset + index * self._stride) & _MASK40
        return ((prefix << 40) | low).to_bytes(8, "big").hex("-").upper()


class _HubAllocator:
    """Hands out comms hubs; each serves 1-3 devices. A CHF device becomes the current hub.

    Per-premises draws (region, tariff, hub size, hub GBCS, a coin for the HAN band) are taken
    in bulk up front: a fleet never has more premises than devices.
    """

    def __init__(self, rng: random.Random, eui: _EuiSequence, *, first_index: int,
                 devices: int) -> None:
        self._eui, self._next_index = eui, first_index
        weights = [a * b * c * d for *_, a, b, c, d in _PREMISES]
        self._draws = iter(rng.choices(_PREMISES, weights=weights, k=devices))
        self._coins = iter([rng.random() for _ in range(devices)])
        self._current: tuple[str, ...] = ()
        self._left = 0

    def hub_for(self, device_id: str, entry: CplEntry) -> tuple[str, ...]:
        """Return (hub id, hub GBCS version, hub HAN variant, region, tariff) for a device."""
        if entry.device_type == "CHF":
            self._start(device_id, entry.gbcs_version, entry.han_variant)
        elif self._left == 0:
            self._start_dcc_hub(entry.han_variant)
        self._left -= 1
        return self._current

    def _start(self, hub_id: str, gbcs: str | None, han: str) -> None:
        region, tariff, size, hub_gbcs, *_ = next(self._draws)
        self._current = (hub_id, gbcs or hub_gbcs, han, region, tariff)
        self._left = size + 1 if gbcs else size

    def _start_dcc_hub(self, device_han: str) -> None:
        hub_id = self._eui.make(HUB_EUI_PREFIX, self._next_index)
        self._next_index += 1
        dual_rate = 0.3 if device_han == "2.4GHz" else 0.95
        self._start(hub_id, None, "Dual Band" if next(self._coins) < dual_rate else "2.4GHz")


_PREMISES = [
    (region, tariff, size, gbcs, rw, tw, sw, gw)
    for region, rw in zip(vocab.GB_REGIONS, vocab.GB_REGION_WEIGHTS, strict=True)
    for tariff, tw in zip(vocab.TARIFFS, vocab.TARIFF_WEIGHTS, strict=True)
    for size, sw in ((1, 3), (2, 4), (3, 3))
    for gbcs, gw in HUB_GBCS
]
