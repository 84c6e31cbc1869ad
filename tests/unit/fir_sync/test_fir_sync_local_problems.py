"""Catalogue problems stay local: a bad previous-ID list, a bad CPL cell, located by entry."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fir_sync.reader import read_catalogue
from fir_sync.testing import cpl_row, fake_hash, fir_row, write_pair


def lineage() -> list[list[object]]:
    return [cpl_row(1), cpl_row(2, "00000002"), cpl_row(3, "00000003")]


def flat_catalogue(tmp_path: Path, cpl: list[list[object]], fir: list[list[object]]
                   ) -> dict[str, dict[str, Any]]:
    """A previous snapshot as `{entry: flat fields}` (what the orchestrator passes in)."""
    (tmp_path / "old").mkdir()
    parsed = read_catalogue(*write_pair(tmp_path / "old", cpl, fir))
    return {e: r.flat() for e, r in parsed.records.items()}


@pytest.mark.parametrize(("previous", "code"), [
    ("1; bad id!", "malformed_predecessors"),
    ("77", "previous_not_on_cpl"),
    ("9", "previous_other_model"),
    ("3", "predecessor_cycle"),
    ('=CONCAT("1", "")', "formula"),
])
def test_a_bad_previous_list_drops_only_the_list(tmp_path: Path, previous: str,
                                                  code: str) -> None:
    """A problem in a FIR row's previous-version list makes that entry's predecessors
    unknown and keeps its contact, release notes and ZigBee data."""
    cpl, fir = write_pair(tmp_path, [*lineage(), cpl_row(9, model="99990000")],
                          [fir_row(1), fir_row(2, "1"), fir_row(3, previous, notes="Fix 3.",
                                                              vendor="Ember")])
    parsed = read_catalogue(cpl, fir)
    kept = parsed.records["3"].fir
    assert kept is not None and kept.predecessors is None
    assert (kept.release_notes, kept.zigbee_chipset_vendor) == ("Fix 3.", "Ember")
    assert kept.contact_email == "fw@maker.example"
    assert [(p.code, p.row, p.cpl_entry_id, p.scope) for p in parsed.problems] == [
        (code, 4, "3", "previous_list")]
    assert parsed.records["2"].fir.predecessors == ("1",)  # type: ignore[union-attr]
    assert parsed.rejected_rows == 0


def test_a_rejected_cpl_row_no_longer_wipes_its_successors_fir_data(tmp_path: Path) -> None:
    """A duplicated CPL Entry ID rejects those CPL rows; the FIR rows naming that entry keep
    their contact and ZigBee data, with predecessors unknown."""
    cpl, fir = write_pair(tmp_path, [*lineage(), cpl_row(2, "00000009")],
                          [fir_row(1), fir_row(2, "1"), fir_row(3, "1, 2")])
    parsed = read_catalogue(cpl, fir)
    assert "2" not in parsed.records
    record = parsed.records["3"].fir
    assert record is not None and record.predecessors is None
    assert record.zigbee_stack_version == "EmberZNet 6.7"
    listed = next(p for p in parsed.problems if p.code == "previous_not_on_cpl")
    assert "its CPL row was rejected" in listed.reason and listed.cpl_entry_id == "3"


def test_every_problem_names_its_entry_when_the_row_has_one(tmp_path: Path) -> None:
    """Malformed hash, status and FIR problems carry the row's CPL Entry ID; a row whose ID
    is malformed carries none."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2, image_hash="zz"),
                                     cpl_row(3, status="Retired"), cpl_row("bad id!")],
                          [fir_row(1), fir_row(50)])
    parsed = read_catalogue(cpl, fir)
    found = {(p.code, p.cpl_entry_id) for p in parsed.problems}
    assert found == {("malformed_hash", "2"), ("unknown_status", "3"),
                     ("malformed_entry_id", None), ("fir_unknown_entry", "50")}
    hashed = next(p for p in parsed.problems if p.code == "malformed_hash")
    assert hashed.to_dict()["cpl_entry_id"] == "2" and "(entry 2)" in str(hashed)
    assert {p.scope for p in parsed.problems} == {"row"} and parsed.rejected_rows == 4


def test_two_fir_rows_for_an_entry_not_on_the_cpl_are_problems(tmp_path: Path) -> None:
    """Duplicate FIR rows for an unknown entry give located problems, not a KeyError."""
    cpl, fir = write_pair(tmp_path, lineage(), [fir_row(1), fir_row(7, "1"), fir_row(7, "1")])
    parsed = read_catalogue(cpl, fir)
    assert [(p.code, p.row) for p in parsed.problems] == [("fir_unknown_entry", 3),
                                                          ("duplicate_fir_row", 4)]
    assert set(parsed.records) == {"1", "2", "3"}


def test_a_rejected_entry_the_previous_catalogue_held_is_carried(tmp_path: Path) -> None:
    """An entry whose new CPL row is rejected (malformed hash) is carried from the previous
    catalogue with the problem that rejected it, and other rows may still name it."""
    fir_rows = [fir_row(1), fir_row(2, "1", notes="Two."), fir_row(3, "2")]
    previous = flat_catalogue(tmp_path, lineage(), fir_rows)
    edited = lineage()
    edited[1] = cpl_row(2, "00000002", image_hash=fake_hash(2)[:63] + "g")
    parsed = read_catalogue(*write_pair(tmp_path, edited, fir_rows), previous)
    assert set(parsed.records) == {"1", "3"}
    carried = parsed.carried["2"]
    assert carried.fields == previous["2"] and carried.fields["release_notes"] == "Two."
    assert [(p.code, p.row, p.cpl_entry_id) for p in carried.problems] == [
        ("malformed_hash", 3, "2")]
    assert parsed.records["3"].fir.predecessors == ("2",)  # type: ignore[union-attr]
    own_row = next(p for p in parsed.problems if p.code == "fir_unknown_entry")
    assert "keeps its last good version" in own_row.reason


def test_nothing_is_carried_without_a_previous_version(tmp_path: Path) -> None:
    """A rejected row for an entry the previous catalogue did not hold is just rejected."""
    previous = flat_catalogue(tmp_path, [cpl_row(1)], [fir_row(1)])
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2, image_hash="12")], [fir_row(1)])
    parsed = read_catalogue(cpl, fir, previous)
    assert parsed.carried == {} and set(parsed.records) == {"1"}


def test_a_new_row_cannot_close_a_cycle_through_a_carried_entry(tmp_path: Path) -> None:
    """A FIR row naming a carried entry that lists it back loses its previous list."""
    previous = flat_catalogue(tmp_path, lineage(), [fir_row(1), fir_row(2, "1"),
                                                    fir_row(3, "2")])
    edited = lineage()
    edited[1] = cpl_row(2, "00000002", status="Gone")
    parsed = read_catalogue(*write_pair(tmp_path, edited,
                                        [fir_row(1, "2"), fir_row(2, "1"), fir_row(3, "2")]),
                            previous)
    assert parsed.carried["2"].fields["predecessors"] == ["1"]
    assert parsed.records["1"].fir.predecessors is None  # type: ignore[union-attr]
    assert parsed.records["3"].fir.predecessors == ("2",)  # type: ignore[union-attr]
    cycle = next(p for p in parsed.problems if p.code == "predecessor_cycle")
    assert cycle.cpl_entry_id == "1" and "1 -> 2" in cycle.reason


@pytest.mark.parametrize("bad_rows", [
    [fir_row(2, "1", email="new@maker.example"), fir_row(2, "1", email="other@maker.example")],
    [fir_row(2, "1", email="=LOWER(\"TWO@MAKER.EXAMPLE\")")],
])
def test_an_entry_whose_fir_row_is_rejected_keeps_its_previous_fir_data(
        tmp_path: Path, bad_rows: list[list[object]]) -> None:
    """A duplicated FIR row or a formula outside the previous list rejects the FIR row; the
    entry keeps its new CPL data and the FIR data the previous catalogue held."""
    previous = flat_catalogue(tmp_path, lineage(), [
        fir_row(1), fir_row(2, "1", email="two@maker.example", notes="Two."), fir_row(3, "2")])
    edited = lineage()
    edited[1] = cpl_row(2, "00000002", status="Withdrawn")
    parsed = read_catalogue(*write_pair(tmp_path, edited, [fir_row(1), *bad_rows,
                                                           fir_row(3, "2")]), previous)
    record = parsed.records["2"]
    assert record.cpl.status.value == "Withdrawn"
    assert record.fir is not None and record.fir.predecessors == ("1",)
    assert (record.fir.contact_email, record.fir.release_notes) == ("two@maker.example", "Two.")
    carried = parsed.carried["2"]
    assert carried.part == "fir" and carried.problems
    assert all(p.cpl_entry_id == "2" and p.scope == "row" for p in carried.problems)
    assert parsed.fir_rows_accepted == 2


def test_a_fir_row_removed_from_the_fir_is_not_carried(tmp_path: Path) -> None:
    """An entry whose FIR row is simply gone has no FIR data: nothing was rejected."""
    previous = flat_catalogue(tmp_path, lineage(), [fir_row(1), fir_row(2, "1"),
                                                    fir_row(3, "2")])
    parsed = read_catalogue(*write_pair(tmp_path, lineage(), [fir_row(1), fir_row(3, "2")]),
                            previous)
    assert parsed.carried == {} and parsed.records["2"].fir is None
