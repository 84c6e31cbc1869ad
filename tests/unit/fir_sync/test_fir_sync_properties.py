"""Property tests: random and corrupted tables give records or typed errors, never a crash."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fir_sync.errors import FirSyncError
from fir_sync.graph import cycle_members
from fir_sync.reader import read_catalogue
from fir_sync.testing import CPL_HEADERS, FIR_HEADERS, cpl_row, fir_row, write_csv, write_pair

cell = st.one_of(st.none(), st.integers(-10**6, 10**12), st.floats(allow_nan=True),
                 st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=80),
                 st.sampled_from(["N/A", "n/a", "", "1;2", "=A1", "0x"]))
row = st.lists(cell, max_size=12)
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_ok(cpl: Path, fir: Path) -> None:
    try:
        parsed = read_catalogue(cpl, fir)
    except FirSyncError:
        return
    for record in parsed.records.values():
        assert len(record.cpl.image_hash) == 64
    for problem in parsed.problems:
        assert problem.code and problem.reason and problem.file


@FAST
@given(cpl_rows=st.lists(row, max_size=15), fir_rows=st.lists(row, max_size=15),
       suffix=st.sampled_from([".csv", ".xlsx"]))
# Two FIR rows, with a previous-version list, for an entry not on the CPL (was a KeyError).
@example(cpl_rows=[], fir_rows=[["7", "", "", "", "", "1"], ["7", "", "", "", "", "1"]],
         suffix=".csv")
def test_random_rows_under_real_headers_never_crash(cpl_rows: list[list[object]],
                                                    fir_rows: list[list[object]],
                                                    suffix: str) -> None:
    """Any cell values under canonical headers yield records and problems, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        cpl, fir = write_pair(Path(tmp), cpl_rows, fir_rows, suffix=suffix)
        _read_ok(cpl, fir)


@FAST
@given(data=st.binary(max_size=4000), position=st.integers(0, 10_000),
       suffix=st.sampled_from([".csv", ".xlsx"]))
def test_corrupted_files_give_typed_errors(data: bytes, position: int, suffix: str) -> None:
    """Random bytes spliced into a valid file raise FirSyncError or still parse."""
    with tempfile.TemporaryDirectory() as tmp:
        cpl, fir = write_pair(Path(tmp), [cpl_row(1), cpl_row(2)], [fir_row(1), fir_row(2, "1")],
                              suffix=suffix)
        original = cpl.read_bytes()
        at = position % max(len(original), 1)
        cpl.write_bytes(original[:at] + data + original[at + len(data):])
        _read_ok(cpl, fir)


@FAST
@given(text=st.text(max_size=300))
def test_arbitrary_csv_text_never_crashes(text: str) -> None:
    """Whatever a CSV holds, reading it gives records, problems or a typed error."""
    with tempfile.TemporaryDirectory() as tmp:
        cpl = Path(tmp) / "cpl.csv"
        cpl.write_text(",".join(CPL_HEADERS) + "\n" + text, encoding="utf-8")
        fir = write_csv(Path(tmp) / "fir.csv", [FIR_HEADERS, fir_row(1)])
        _read_ok(cpl, fir)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 12).map(str),
                       st.lists(st.integers(0, 12).map(str), max_size=4), max_size=13))
def test_cycle_members_are_exactly_the_nodes_that_reach_themselves(
        graph: dict[str, list[str]]) -> None:
    """Tarjan's answer agrees with a brute-force reachability check."""
    def reaches_itself(start: str) -> bool:
        seen, stack = set(), list(graph.get(start, []))
        while stack:
            node = stack.pop()
            if node == start:
                return True
            if node in seen or node not in graph:
                continue
            seen.add(node)
            stack.extend(graph[node])
        return False

    assert set(cycle_members(graph)) == {n for n in graph if reaches_itself(n)}


id_row = st.builds(lambda entry, rest: [entry, *rest], st.integers(1, 6), st.lists(cell, max_size=10))


@FAST
@given(cpl_rows=st.lists(id_row, max_size=10), fir_rows=st.lists(id_row, max_size=10))
def test_no_entry_the_previous_catalogue_held_vanishes_for_a_bad_row(
        cpl_rows: list[list[object]], fir_rows: list[list[object]]) -> None:
    """An entry on the new CPL that the previous catalogue held is either accepted or kept
    whole, with at least one problem naming it; an accepted entry may keep only its FIR
    data."""
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        held = read_catalogue(*write_pair(old, [cpl_row(i, f"0000000{i}") for i in range(1, 5)],
                                          [fir_row(1), *(fir_row(i, str(i - 1))
                                                         for i in range(2, 5))]))
        previous = {e: r.flat() for e, r in held.records.items()}
        parsed = read_catalogue(*write_pair(Path(tmp), cpl_rows, fir_rows), previous)
    on_new_cpl = {str(row[0]) for row in cpl_rows}
    assert on_new_cpl & set(previous) <= set(parsed.records) | set(parsed.carried)
    for entry, carried in parsed.carried.items():
        assert (entry in parsed.records) == (carried.part == "fir")
        assert carried.fields == previous[entry]
        assert carried.problems and all(p.cpl_entry_id == entry for p in carried.problems)
