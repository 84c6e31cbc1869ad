"""Firmware Information Repository rows: contacts, release notes, predecessors, ZigBee data."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulators.generate import vocab

if TYPE_CHECKING:
    from simulators.generate.catalogue import CplEntry
    from simulators.generate.makers import ModelSpec

# Separators between predecessor IDs in one cell, as different manufacturers type them.
PREDECESSOR_SEPARATORS = (", ", ";", "; ", "\n")
SEPARATOR_WEIGHTS = (80, 6, 6, 8)
SINGLE_AS_NUMBER_RATE = 0.2
LEGACY_BLANK_ZIGBEE_RATE = 0.5


@dataclass(frozen=True, slots=True)
class FirRow:
    """One FIR row. `previous_entry_ids` is None when the cell is empty (no data, legacy) and
    () when it says N/A (first firmware of a lineage); `previous_cell` is the cell as written.
    """

    cpl_entry_id: int
    contact_email: str
    contact_telephone: str
    contact_address: str
    release_notes: str
    previous_entry_ids: tuple[int, ...] | None
    previous_cell: str | int | None
    zigbee_chipset_vendor: str | None
    zigbee_stack_version: str | None
    zigbee_band_join_option: str | None


def make_fir_row(
    rng: random.Random, entry: CplEntry, spec: ModelSpec, previous: tuple[int, ...] | None,
    stack_version: str,
) -> FirRow:
    """Return the FIR row of `entry`, whose permitted predecessors are `previous`."""
    maker = spec.manufacturer
    legacy = previous is None
    blank_zigbee = legacy and rng.random() < LEGACY_BLANK_ZIGBEE_RATE
    return FirRow(
        cpl_entry_id=entry.entry_id,
        contact_email=maker.email,
        contact_telephone=maker.telephone,
        contact_address=maker.address,
        release_notes=_release_notes(rng, entry, stack_version, legacy),
        previous_entry_ids=previous,
        previous_cell=_previous_cell(rng, previous),
        zigbee_chipset_vendor=None if blank_zigbee else spec.chipset_vendor,
        zigbee_stack_version=None if blank_zigbee else stack_version,
        zigbee_band_join_option=None if blank_zigbee else spec.band_join_option,
    )


def _previous_cell(rng: random.Random, previous: tuple[int, ...] | None) -> str | int | None:
    if previous is None:
        return None
    if not previous:
        return "N/A"
    if len(previous) == 1:
        return previous[0] if rng.random() < SINGLE_AS_NUMBER_RATE else str(previous[0])
    separator = rng.choices(PREDECESSOR_SEPARATORS, weights=SEPARATOR_WEIGHTS)[0]
    return separator.join(str(p) for p in previous)


def _release_notes(rng: random.Random, entry: CplEntry, stack: str, legacy: bool) -> str:
    if legacy:
        return rng.choice(vocab.LEGACY_NOTES)
    items = rng.sample(vocab.RELEASE_FIXES, k=rng.randint(1, 3))
    if rng.random() < 0.4:
        items.append(rng.choice(vocab.RELEASE_FEATURES).format(gbcs=entry.gbcs_version,
                                                                stack=stack))
    title = f"Firmware {entry.firmware_version} for model {entry.model}."
    if rng.random() < 0.5:
        return title + "\n" + "\n".join(f"- {item}" for item in items)
    return f"{title} {'. '.join(items)}."
