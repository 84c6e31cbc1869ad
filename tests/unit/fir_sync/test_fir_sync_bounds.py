"""Hostile workbooks and CSVs are refused in bounded memory, naming the limit they broke."""
from __future__ import annotations

import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from fir_sync.columns import CPL
from fir_sync.errors import WorkbookFormatError
from fir_sync.parse import Limits, read_table
from fir_sync.testing import CPL_HEADERS, cpl_row, write_xlsx


def _rewrite_sheet(path: Path, edit: object) -> Path:
    """Copy `path` with its first worksheet's XML passed through `edit`."""
    out = path.with_name("hostile-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()  # type: ignore[operator]
            dst.writestr(item.filename, data)
    return out


def _cpl_xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "cpl.xlsx", {"CPL": [CPL_HEADERS, cpl_row(1001)]})


def _declare_huge_dimension(xml: str) -> str:
    xml = re.sub(r"<dimension ref=\"[^\"]*\"\s*/>", "", xml)
    return xml.replace("<sheetViews>", '<dimension ref="A1:XFD1048576"/><sheetViews>', 1) \
        if "<sheetViews>" in xml else xml.replace("<sheetData>",
                                                  '<dimension ref="A1:XFD1048576"/><sheetData>', 1)


def test_a_false_dimension_does_not_size_the_read(tmp_path: Path) -> None:
    """A genuine small sheet that declares A1:XFD1048576 reads as its real rows and columns."""
    path = _rewrite_sheet(_cpl_xlsx(tmp_path), _declare_huge_dimension)
    table = read_table(path, CPL)
    assert [r.number for r in table.rows] == [2]
    assert table.rows[0].cells["cpl_entry_id"] == "1001"


def test_the_dimension_bomb_is_refused_on_the_real_row(tmp_path: Path) -> None:
    """A declared XFD1048576 plus one real cell at row 1048576 stops at the row limit."""
    def bomb(xml: str) -> str:
        xml = _declare_huge_dimension(xml)
        return xml.replace("</sheetData>", '<row r="1048576"><c r="A1048576" t="inlineStr">'
                                           "<is><t>x</t></is></c></row></sheetData>")
    path = _rewrite_sheet(_cpl_xlsx(tmp_path), bomb)
    with pytest.raises(WorkbookFormatError, match=r"row 100,001 exceeds the limit of 100,000 "
                                                  r"rows \(raise FWO_CATALOGUE_MAX_ROWS"):
        read_table(path, CPL)


def test_a_wide_real_row_is_refused_naming_the_column_limit(tmp_path: Path) -> None:
    """Real data past the column limit is refused with the row and the limit."""
    wide = [*cpl_row(1001), *(["x"] * 50)]
    path = write_xlsx(tmp_path / "cpl.xlsx", {"CPL": [CPL_HEADERS, wide]})
    with pytest.raises(WorkbookFormatError, match=r"row 2 has \d+ columns, over the limit of 20"):
        read_table(path, CPL, limits=Limits(max_columns=20))


def test_the_1gib_whitespace_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A sheet that inflates to 1 GiB of whitespace is refused from the zip directory alone."""
    source = _cpl_xlsx(tmp_path)
    path = tmp_path / "bomb.xlsx"
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item.filename, src.read(item.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(1024):
                sheet.write(chunk)
    assert path.stat().st_size < 5 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(WorkbookFormatError, match=r"uncompressed size 1,07\d,\d{3},\d{3} "
                                                      r"bytes exceeds the limit"):
            read_table(path, CPL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_a_high_ratio_entry_is_refused_even_under_the_size_limit(tmp_path: Path) -> None:
    """A 2 MiB run of spaces compresses ~1000:1 and is refused by the ratio limit."""
    def pad(xml: str) -> str:
        return xml.replace("<sheetData>", "<sheetData>" + " " * (2 * 1024 * 1024), 1)
    path = _rewrite_sheet(_cpl_xlsx(tmp_path), pad)
    with pytest.raises(WorkbookFormatError, match=r"compression ratio [\d,]+:1 of "
                                                  r"xl/worksheets/sheet1.xml exceeds"):
        read_table(path, CPL)


def test_too_many_zip_entries_are_refused(tmp_path: Path) -> None:
    path = _cpl_xlsx(tmp_path)
    with pytest.raises(WorkbookFormatError, match="zip entry count .*FWO_CATALOGUE_MAX_ZIP_ENTRIES"):
        read_table(path, CPL, limits=Limits(max_zip_entries=2))


def test_an_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = _cpl_xlsx(tmp_path)
    with pytest.raises(WorkbookFormatError, match="file size .*FWO_CATALOGUE_MAX_FILE_BYTES"):
        read_table(path, CPL, limits=Limits(max_file_bytes=100))


def test_a_table_still_being_read_past_the_time_limit_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock is checked with every row: with a clock that advances one second per look,
    a 60-row sheet under a 10 s limit is refused near row 10, naming the setting."""
    rows = [CPL_HEADERS, *(cpl_row(1000 + i) for i in range(60))]
    path = write_xlsx(tmp_path / "cpl.xlsx", {"CPL": rows})
    assert len(read_table(path, CPL).rows) == 60
    ticks = iter(range(10**6))
    monkeypatch.setattr("fir_sync.parse.time.monotonic", lambda: float(next(ticks)))
    with pytest.raises(WorkbookFormatError, match=r"cpl.xlsx: still reading at row 1\d after "
                                                  r"10 s, the limit \(raise "
                                                  r"FWO_CATALOGUE_MAX_PARSE_SECONDS"):
        read_table(path, CPL, limits=Limits(max_parse_seconds=10))


def _csv(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "cpl.csv"
    path.write_bytes(data)
    return path


def _csv_text(rows: int) -> str:
    lines = [",".join(CPL_HEADERS)] + [",".join(str(v) for v in cpl_row(1000 + i))
                                       for i in range(rows)]
    return "\r\n".join(lines) + "\r\n"


def test_a_csv_with_one_bad_byte_names_its_true_line(tmp_path: Path) -> None:
    """A Windows-1252 byte on line 4 is refused naming line 4, not silently re-decoded."""
    text = _csv_text(5).split("\r\n")
    text[3] = text[3].replace("fw@", "fw\u00e9@") if "fw@" in text[3] else text[3] + "\u00e9"
    data = "\r\n".join(text).encode("cp1252")
    with pytest.raises(WorkbookFormatError, match=r"cpl.csv: line 4: byte 0xe9 is not valid "
                                                  r"utf-8-sig"):
        read_table(_csv(tmp_path, data), CPL)


def test_utf8_with_or_without_bom_and_a_declared_encoding_are_read(tmp_path: Path) -> None:
    text = _csv_text(2)
    for data, encoding in ((text.encode(), None), (b"\xef\xbb\xbf" + text.encode(), None),
                           (text.encode("cp1252"), "cp1252")):
        table = read_table(_csv(tmp_path, data), CPL, encoding=encoding)
        assert [r.cells["cpl_entry_id"] for r in table.rows] == ["1000", "1001"]


def test_utf16_is_detected_and_named(tmp_path: Path) -> None:
    data = _csv_text(1).encode("utf-16")
    with pytest.raises(WorkbookFormatError, match="is UTF-16"):
        read_table(_csv(tmp_path, data), CPL)
    assert read_table(_csv(tmp_path, data), CPL, encoding="utf-16").rows
