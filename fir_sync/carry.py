"""Keep what the previous catalogue held when a new row is rejected (one bad cell stays local).

An entry whose new CPL row is rejected is kept whole as the previous catalogue held it; an
entry whose CPL row is accepted but whose FIR row is rejected whole (a duplicated row, a
formula outside the previous-version list) keeps the previous FIR data. The orchestrator
marks both in the snapshot it stores.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fir_sync.records import (
    FIR_DATA,
    ROW,
    WHOLE_ENTRY,
    CarriedEntry,
    CplRecord,
    FirRecord,
    Problem,
)

Previous = Mapping[str, Mapping[str, Any]]


def carried_entries(rejected: set[str], problems: Sequence[Problem], previous: Previous
                    ) -> dict[str, CarriedEntry]:
    """Entries whose new CPL row was rejected, kept whole as `previous` held them."""
    return {e: CarriedEntry(e, dict(previous[e]), _why(e, problems), WHOLE_ENTRY)
            for e in sorted(rejected) if e in previous}


def carry_fir_data(rejected: set[str], cpl: Mapping[str, CplRecord],
                   fir: dict[str, FirRecord], problems: Sequence[Problem],
                   previous: Previous) -> dict[str, CarriedEntry]:
    """For CPL entries whose FIR row was rejected whole, put the previous FIR data in `fir`."""
    carried = {}
    for entry in sorted(rejected):
        old = previous.get(entry)
        if entry in cpl and entry not in fir and old is not None and old.get("has_fir"):
            fir[entry] = fir_record(entry, old)
            carried[entry] = CarriedEntry(entry, dict(old), _why(entry, problems), FIR_DATA)
    return carried


def fir_record(entry: str, fields: Mapping[str, Any]) -> FirRecord:
    """A FIR record rebuilt from an entry's flat fields (its FIR-only extra columns lost)."""
    predecessors = fields.get("predecessors")
    return FirRecord(
        entry, fields["contact_email"], fields["contact_telephone"],
        fields["contact_address"], fields["release_notes"],
        None if predecessors is None else tuple(predecessors),
        fields["zigbee_chipset_vendor"], fields["zigbee_stack_version"],
        fields["zigbee_band_join_option"])


def _why(entry: str, problems: Sequence[Problem]) -> tuple[Problem, ...]:
    return tuple(p for p in problems if p.cpl_entry_id == entry and p.scope == ROW)
