"""One shape for a CPL entry: the fir_sync record's flat fields, the catalogue table's columns
and the domain entry's fields are the same names, mapped by `entry_from_fields`."""
from __future__ import annotations

from dataclasses import fields

from fir_sync.records import CatalogueRecord, CplRecord, CplStatus, FirRecord
from orchestrator.adapters.catalogue_tables import catalogue_entries
from orchestrator.domain.catalogue import (
    CatalogueEntry,
    carry_forward,
    entry_from_fields,
)

DERIVED = {"carried_over"}  # read from the mark in `extra`, not a column of its own
KEYS = {"snapshot_id"}  # which snapshot a row belongs to, not a field of the entry

CPL = CplRecord("7", "GSME", "ACME", "G1", "1.0", "2.0", "ab" * 32, "4.0", "Z", CplStatus.ACTIVE,
                extra=(("Note", "cpl"),))
FIR = FirRecord("7", "a@acme.example", "0100", "1 Road", "Fixes.", ("5", "6"), "Silabs",
                "EmberZNet 6", "Dual Band", extra=(("Remark", "fir"),))


def _columns() -> set[str]:
    return {c.name for c in catalogue_entries.columns} - KEYS


def test_the_table_columns_are_the_entry_fields() -> None:
    """Every CatalogueEntry field but the derived carried_over is a catalogue_entries column,
    and every column is a field."""
    assert _columns() == {f.name for f in fields(CatalogueEntry)} - DERIVED


def test_a_records_flat_fields_are_the_table_columns() -> None:
    """What a sync stores from a fir_sync record fills exactly the table's columns."""
    assert set(CatalogueRecord(CPL, FIR).flat()) == _columns()
    assert set(CatalogueRecord(CPL, None).flat()) == _columns()


def test_a_record_maps_to_the_entry_with_its_cpl_and_fir_data() -> None:
    """entry_from_fields turns a record's flat fields into the domain entry, FIR data included."""
    entry = entry_from_fields(CatalogueRecord(CPL, FIR).flat(), snapshot_id=3)
    assert (entry.cpl_entry_id, entry.status, entry.predecessors) == ("7", "Active", ("5", "6"))
    assert (entry.contact.email, entry.zigbee_stack_version, entry.has_fir) == (
        "a@acme.example", "EmberZNet 6", True)
    assert dict(entry.extra) == {"Note": "cpl", "Remark": "fir"}
    assert entry.carried_over is None


def test_a_carried_mark_becomes_carried_over() -> None:
    """An entry stored with the carried-over mark comes back with carried_over, not the mark."""
    flat = CatalogueRecord(CPL, None).flat()
    stored = carry_forward(flat, flat, 2, [{"code": "malformed_hash"}])
    entry = entry_from_fields(stored, snapshot_id=3)
    assert dict(entry.extra) == {"Note": "cpl"} and entry.predecessors is None
    assert entry.carried_over is not None
    assert (entry.carried_over.kept_from_snapshot, entry.carried_over.codes) == (
        2, ["malformed_hash"])
