"""Reading messy published CPL and FIR workbooks and CSVs."""
from __future__ import annotations

from pathlib import Path

import pytest

from fir_sync.columns import CPL
from fir_sync.errors import WorkbookFormatError
from fir_sync.parse import read_table
from fir_sync.reader import read_catalogue
from fir_sync.testing import (
    CPL_HEADERS,
    FIR_HEADERS,
    cpl_row,
    fake_hash,
    fir_row,
    write_csv,
    write_pair,
    write_xlsx,
)


def codes(parsed: object) -> list[str]:
    return [p.code for p in parsed.problems]  # type: ignore[attr-defined]


def test_title_rows_odd_headers_and_numeric_ids_are_read(tmp_path: Path) -> None:
    """A title row, a note row, headers in odd case/punctuation and float IDs are tolerated."""
    headers = ["cpl entry-id", "DEVICE TYPE", "Manufacturer ID", "model", "HW version",
               "Firmware Version", "Image Hash", "GBCS Version", "HAN variant", "CPL Status"]
    cpl = write_xlsx(tmp_path / "cpl.xlsx", {
        "Cover": [["Read me first"]],
        "Products": [["Central Products List - 2026-11"], ["Confidential"], [],
                     headers, [1001.0, " esme ", "106c", "433100ac", "0101", "00000001",
                               fake_hash(1).upper(), 4.2, "2.4GHz", "active"]]})
    fir = write_xlsx(tmp_path / "fir.xlsx", {"FIR": [["Firmware Information Repository"],
                                                      FIR_HEADERS, fir_row(1001)]})
    parsed = read_catalogue(cpl, fir)
    record = parsed.records["1001"]
    assert parsed.problems == ()
    assert (record.cpl.device_type, record.cpl.manufacturer, record.cpl.model) == (
        "ESME", "106C", "433100AC")
    assert record.cpl.image_hash == fake_hash(1)
    assert parsed.cpl_source.sheet == "Products"


@pytest.mark.parametrize("separator", [",", ";", "/", "\n", " , ", ";\n"])
def test_every_predecessor_separator_is_accepted(tmp_path: Path, separator: str) -> None:
    """Previous-ID lists split on commas, semicolons, slashes and new lines."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2, "00000002"),
                                     cpl_row(3, "00000003")],
                          [fir_row(1), fir_row(2, "1"), fir_row(3, f"1{separator}2")])
    parsed = read_catalogue(cpl, fir)
    assert parsed.records["3"].fir is not None
    assert parsed.records["3"].fir.predecessors == ("1", "2")


def test_na_means_no_previous_and_empty_means_unknown(tmp_path: Path) -> None:
    """`N/A` in any case gives [] predecessors, an empty cell gives None (legacy)."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2), cpl_row(3)],
                          [fir_row(1, "n/a"), fir_row(2, ""), fir_row(3, "N/A")])
    records = read_catalogue(cpl, fir).records
    assert records["1"].flat()["predecessors"] == []
    assert records["2"].flat()["predecessors"] is None
    assert records["3"].flat()["predecessors"] == []


def test_entry_without_fir_row_has_unknown_predecessors(tmp_path: Path) -> None:
    """A CPL entry the FIR does not mention is kept, with unknown predecessors."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2)], [fir_row(1)])
    flat = read_catalogue(cpl, fir).records["2"].flat()
    assert flat["has_fir"] is False and flat["predecessors"] is None


def test_formulas_are_rejected_never_evaluated(tmp_path: Path) -> None:
    """A formula cell rejects its row with a `formula` problem naming the column."""
    row = cpl_row(2)
    row[6] = '=REPT("a",64)'
    cpl, fir = write_pair(tmp_path, [cpl_row(1), row], [fir_row(1)])
    parsed = read_catalogue(cpl, fir)
    assert "2" not in parsed.records
    problem = parsed.problems[0]
    assert (problem.code, problem.row, problem.column) == ("formula", 3,
                                                           "Manufacturer Image Hash")


def test_duplicate_ids_reject_every_row_with_that_id(tmp_path: Path) -> None:
    """Two CPL rows with one ID are both rejected, each pointing at the other."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2), cpl_row(2.0, "00000009")],
                          [fir_row(1)])
    parsed = read_catalogue(cpl, fir)
    assert set(parsed.records) == {"1"}
    assert codes(parsed) == ["duplicate_entry_id", "duplicate_entry_id"]
    assert "row(s) 4" in parsed.problems[0].reason


def test_bad_values_are_reported_with_file_sheet_row_column_value(tmp_path: Path) -> None:
    """Malformed hash, unknown status and unknown device type are located precisely."""
    cpl, fir = write_pair(tmp_path, [
        cpl_row(1), cpl_row(2, image_hash="12ab"), cpl_row(3, status="Retired"),
        cpl_row(4, device_type="Toaster")], [fir_row(1)])
    parsed = read_catalogue(cpl, fir)
    assert set(parsed.records) == {"1"}
    found = {(p.code, p.file, p.sheet, p.row, p.column, p.value) for p in parsed.problems}
    assert found == {
        ("malformed_hash", "cpl.xlsx", "CPL", 3, "Manufacturer Image Hash", "12ab"),
        ("unknown_status", "cpl.xlsx", "CPL", 4, "Status", "Retired"),
        ("unknown_device_type", "cpl.xlsx", "CPL", 5, "Device Type", "Toaster"),
    }


def test_fir_graph_problems_reject_the_fir_row(tmp_path: Path) -> None:
    """An unknown entry rejects its FIR row; an unknown or foreign previous ID rejects only
    that row's previous-version list (predecessors unknown), keeping the rest of the row."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2), cpl_row(3, model="99990000"),
                                     cpl_row(4)],
                          [fir_row(1), fir_row(2, "77"), fir_row(3, "1"), fir_row(4, "1"),
                           fir_row(50, "1")])
    parsed = read_catalogue(cpl, fir)
    assert sorted(codes(parsed)) == ["fir_unknown_entry", "previous_not_on_cpl",
                                     "previous_other_model"]
    assert parsed.records["4"].fir is not None
    for entry in "23":
        kept = parsed.records[entry].fir
        assert kept is not None and kept.predecessors is None
        assert kept.contact_email == "fw@maker.example"


def test_cycles_in_the_predecessor_graph_are_rejected(tmp_path: Path) -> None:
    """Every FIR row on a cycle loses its previous-version list (unknown); rows off the
    cycle keep theirs, and every row keeps its other FIR data."""
    cpl, fir = write_pair(tmp_path, [cpl_row(i) for i in range(1, 6)],
                          [fir_row(1), fir_row(2, "1, 4"), fir_row(3, "2"), fir_row(4, "3"),
                           fir_row(5, "5")])
    parsed = read_catalogue(cpl, fir)
    cycle = [p for p in parsed.problems if p.code == "predecessor_cycle"]
    assert sorted(p.row for p in cycle) == [3, 4, 5, 6]
    assert parsed.records["1"].fir is not None
    assert parsed.records["1"].fir.predecessors == ()
    assert all(parsed.records[e].fir.predecessors is None for e in "2345")  # type: ignore[union-attr]
    assert all(parsed.records[e].fir.release_notes == "Fixes." for e in "2345")  # type: ignore[union-attr]


def test_unknown_extra_columns_are_kept(tmp_path: Path) -> None:
    """Columns the reader does not know are carried along as extras."""
    cpl = write_csv(tmp_path / "cpl.csv", [CPL_HEADERS + ["SMETS Version"],
                                           cpl_row(1) + ["SMETS2"]])
    fir = write_csv(tmp_path / "fir.csv", [FIR_HEADERS + ["Vetted By"], fir_row(1) + ["SSC"]])
    flat = read_catalogue(cpl, fir).records["1"].flat()
    assert flat["extra"] == {"SMETS Version": "SMETS2", "Vetted By": "SSC"}


def test_csv_and_xlsx_of_the_same_cells_hash_alike(tmp_path: Path) -> None:
    """The content hash depends on cell values, not the file format or its bytes."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rows = ([cpl_row(1), cpl_row(2)], [fir_row(1), fir_row(2, "1")])
    xlsx = read_catalogue(*write_pair(tmp_path / "a", *rows))
    csv_ = read_catalogue(*write_pair(tmp_path / "b", *rows, suffix=".csv"))
    assert xlsx.cpl_source.content_sha256 == csv_.cpl_source.content_sha256
    assert xlsx.cpl_source.file_sha256 != csv_.cpl_source.file_sha256


def test_a_file_without_the_header_row_is_a_typed_error(tmp_path: Path) -> None:
    """No header row anywhere gives WorkbookFormatError naming the expected columns."""
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [["a", "b"], [1, 2]]})
    with pytest.raises(WorkbookFormatError, match="no sheet has a CPL header row"):
        read_table(path, CPL)


def test_unsupported_or_corrupt_files_are_typed_errors(tmp_path: Path) -> None:
    """A .txt file and a corrupt .xlsx give WorkbookFormatError, not a crash."""
    (tmp_path / "cpl.txt").write_text("x")
    (tmp_path / "cpl.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    for name in ("cpl.txt", "cpl.xlsx"):
        with pytest.raises(WorkbookFormatError):
            read_table(tmp_path / name, CPL)
