"""Read a CPL or FIR table from .xlsx or .csv into located text cells, tolerantly.

Published workbooks are messy: title rows above the header, odd header spellings, numbers
where text is meant. This module finds the header row, maps columns, trims cells and hashes
the cell values (a hash that survives a re-save). It never evaluates formulas: a formula cell
is reported by `is_formula` and rejected by validation.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fir_sync.columns import Column, TableSpec, normalise_header
from fir_sync.errors import WorkbookFormatError

HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Limits:
    """Bounds checked before and while parsing, so a hostile file is refused, not obeyed.

    A workbook's declared sizes (zip entry sizes, `<dimension ref=...>`) are never trusted
    to size anything: rows and columns are counted as the real data arrives, and the clock
    is checked with every row, so no table takes longer than `max_parse_seconds` to read
    (what openpyxl parses before the first row, the shared strings, is bounded by the
    uncompressed size). Each refusal names the setting that raises it,
    `FWO_CATALOGUE_<FIELD>` (e.g. `FWO_CATALOGUE_MAX_ROWS`).
    """

    max_file_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_zip_entries: int = 1000
    max_compression_ratio: int = 100
    max_rows: int = 100_000
    max_columns: int = 500
    max_parse_seconds: float = 120.0


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Row:
    """One data row: its sheet row number and the text of each mapped and extra column."""

    number: int
    cells: dict[str, str]
    extra: dict[str, str]
    formulas: tuple[str, ...] = ()


@dataclass
class Table:
    """A located table: which sheet, which columns were found, and its rows."""

    file: str
    sheet: str | None
    header_row: int
    headers: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    content_sha256: str = ""

    def header_of(self, field_name: str) -> str:
        """The header text as published for a field, or its canonical name if absent."""
        return self.headers.get(field_name, field_name)


def cell_text(value: object) -> str:
    """The trimmed text of a cell; integer-looking numbers lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


def is_formula(value: object) -> bool:
    """True for a cell whose stored content is a formula (never evaluated)."""
    return isinstance(value, str) and value.startswith("=") or type(value).__name__ in {
        "ArrayFormula", "DataTableFormula"}


def read_table(path: Path, spec: TableSpec, *, limits: Limits = DEFAULT_LIMITS,
               encoding: str | None = None) -> Table:
    """Read the first sheet of `path` that has `spec`'s header row.

    A CSV must be UTF-8 (a BOM is allowed) unless `encoding` declares another codec.
    """
    suffix = path.suffix.lower()
    _check_file_size(path, limits)
    deadline = _Deadline(path.name, limits.max_parse_seconds)
    if suffix == ".csv":
        return (_locate(path.name, None, _csv_rows(path, encoding), spec, limits, deadline)
                or _no_header(path, spec))
    if suffix in (".xlsx", ".xlsm"):
        check_zip_bounds(path, limits)
        for sheet, rows in _xlsx_sheets(path):
            table = _locate(path.name, sheet, rows, spec, limits, deadline)
            if table is not None:
                return table
        return _no_header(path, spec)
    raise WorkbookFormatError(f"{path.name}: unsupported file type {suffix or '(none)'!r}; "
                              "expected .xlsx or .csv")


def _no_header(path: Path, spec: TableSpec) -> Table:
    wanted = ", ".join(repr(c.header) for c in spec.required)
    raise WorkbookFormatError(
        f"{path.name}: no sheet has a {spec.name} header row (looked for {wanted} "
        f"in the first {HEADER_SEARCH_ROWS} rows)")


def _setting(field_name: str) -> str:
    return f"FWO_CATALOGUE_{field_name.upper()}"


def _refuse_limit(path: Path, what: str, limit: int, setting: str) -> WorkbookFormatError:
    return WorkbookFormatError(f"{path.name}: {what} exceeds the limit of {limit:,} "
                               f"(raise {_setting(setting)} if the file is genuine)")


class _Deadline:
    """Refuses a table still being read `seconds` after it was opened."""

    def __init__(self, file: str, seconds: float) -> None:
        self._file, self._seconds = file, seconds
        self._at = time.monotonic() + seconds

    def check(self, row: int) -> None:
        if time.monotonic() > self._at:
            raise WorkbookFormatError(
                f"{self._file}: still reading at row {row:,} after {self._seconds:g} s, the "
                f"limit (raise {_setting('max_parse_seconds')} if the file is genuine)")


def _check_file_size(path: Path, limits: Limits) -> None:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise WorkbookFormatError(f"{path.name}: cannot read: {err.strerror}") from err
    if size > limits.max_file_bytes:
        raise _refuse_limit(path, f"file size {size:,} bytes", limits.max_file_bytes,
                            "max_file_bytes")


def check_zip_bounds(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a workbook whose zip directory promises too much before anything inflates it.

    zipfile stops inflating an entry at its declared size, so bounding the declared sizes
    bounds what openpyxl can ever read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise WorkbookFormatError(f"{path.name}: not a readable .xlsx workbook: {err}") from err
    except Exception as err:  # zipfile raises assorted errors on a corrupt directory
        raise WorkbookFormatError(f"{path.name}: corrupt .xlsx workbook: {err!r}") from err
    if len(entries) > limits.max_zip_entries:
        raise _refuse_limit(path, f"zip entry count {len(entries):,}", limits.max_zip_entries,
                            "max_zip_entries")
    total = sum(e.file_size for e in entries)
    if total > limits.max_uncompressed_bytes:
        raise _refuse_limit(path, f"uncompressed size {total:,} bytes",
                            limits.max_uncompressed_bytes, "max_uncompressed_bytes")
    for entry in entries:
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise _refuse_limit(path, f"compression ratio {ratio:,}:1 of {entry.filename}",
                                limits.max_compression_ratio, "max_compression_ratio")


def _csv_rows(path: Path, encoding: str | None) -> Iterator[Sequence[object]]:
    data = _read_bytes(path)
    text = _decode(path, data, encoding)
    if "\x00" in text:
        raise WorkbookFormatError(f"{path.name}: contains NUL bytes; not a CSV file")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as err:
        raise WorkbookFormatError(f"{path.name}: malformed CSV: {err}") from err


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    if encoding is None and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise WorkbookFormatError(f"{path.name}: is UTF-16 (byte-order mark); save it as "
                                  "UTF-8 CSV or declare encoding utf-16")
    codec = encoding or "utf-8-sig"
    try:
        return data.decode(codec)
    except LookupError as err:
        raise WorkbookFormatError(f"{path.name}: unknown encoding {codec!r}") from err
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise WorkbookFormatError(
            f"{path.name}: line {line}: byte {data[err.start]:#04x} is not valid {codec}; "
            "save the file as UTF-8 or declare its encoding") from err


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise WorkbookFormatError(f"{path.name}: cannot read: {err.strerror}") from err


def _xlsx_sheets(path: Path) -> Iterator[tuple[str, Iterable[Sequence[object]]]]:
    import openpyxl  # imported here: the CSV path needs no workbook library

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as err:
        raise WorkbookFormatError(f"{path.name}: not a readable .xlsx workbook: {err}") from err
    except Exception as err:  # openpyxl raises assorted internal errors on corrupt parts
        raise WorkbookFormatError(f"{path.name}: corrupt .xlsx workbook: {err!r}") from err
    try:
        for sheet in book.worksheets:
            # The declared <dimension> is never trusted: without it openpyxl yields each row
            # at its real width instead of padding every row to (say) 16,384 columns.
            reset = getattr(sheet, "reset_dimensions", None)
            if reset is not None:
                reset()
            yield sheet.title, _guarded(path, sheet.iter_rows(values_only=True))
    finally:
        book.close()


def _guarded(path: Path, rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
    try:
        yield from rows
    except WorkbookFormatError:
        raise
    except Exception as err:  # a corrupt sheet part fails lazily, mid-iteration
        raise WorkbookFormatError(f"{path.name}: corrupt worksheet data: {err!r}") from err


def _locate(file: str, sheet: str | None, rows: Iterable[Sequence[object]],
            spec: TableSpec, limits: Limits, deadline: _Deadline) -> Table | None:
    lookup = spec.lookup()
    iterator = iter(rows)
    for index, row in enumerate(iterator, start=1):
        deadline.check(index)
        if index > HEADER_SEARCH_ROWS:
            return None
        mapping = _match_header(row, lookup)
        if mapping is not None and all(c.field in mapping for c in spec.required):
            return _build_table(file, sheet, index, row, mapping,
                                _bounded(file, iterator, index, limits, deadline))
    return None


def _bounded(file: str, rows: Iterator[Sequence[object]], header_row: int,
             limits: Limits, deadline: _Deadline) -> Iterator[Sequence[object]]:
    """Rows after the header, refused as soon as a real row or column passes the limits
    or the table has been read for longer than allowed."""
    for number, row in enumerate(rows, start=header_row + 1):
        deadline.check(number)
        if number > limits.max_rows:
            raise WorkbookFormatError(
                f"{file}: row {number:,} exceeds the limit of {limits.max_rows:,} rows "
                f"(raise {_setting('max_rows')} if the file is genuine)")
        if len(row) > limits.max_columns:
            width = max((i + 1 for i, v in enumerate(row) if v is not None), default=0)
            if width > limits.max_columns:
                raise WorkbookFormatError(
                    f"{file}: row {number:,} has {width:,} columns, over the limit of "
                    f"{limits.max_columns:,} (raise {_setting('max_columns')} if the file is "
                    "genuine)")
            row = row[:width]
        yield row


def _match_header(row: Sequence[object], lookup: dict[str, Column]) -> dict[str, int] | None:
    mapping: dict[str, int] = {}
    for position, value in enumerate(row):
        column = lookup.get(normalise_header(cell_text(value)))
        if column is not None and column.field not in mapping:
            mapping[column.field] = position
    return mapping or None


def _build_table(file: str, sheet: str | None, header_row: int, header: Sequence[object],
                 mapping: dict[str, int], rows: Iterator[Sequence[object]]) -> Table:
    texts = [cell_text(v) for v in header]
    mapped = set(mapping.values())
    extras = {i: t for i, t in enumerate(texts) if i not in mapped and t}
    table = Table(file, sheet, header_row, {f: texts[i] for f, i in mapping.items()})
    digest = hashlib.sha256()
    _hash_row(digest, texts)
    for number, raw in enumerate(rows, start=header_row + 1):
        values = [cell_text(v) for v in raw]
        if not any(values):
            continue
        _hash_row(digest, values)
        table.rows.append(_make_row(number, raw, values, mapping, extras))
    table.content_sha256 = digest.hexdigest()
    return table


def _make_row(number: int, raw: Sequence[object], values: list[str],
              mapping: dict[str, int], extras: dict[int, str]) -> Row:
    def at(i: int) -> str:
        return values[i] if i < len(values) else ""

    formulas = tuple(f for f, i in mapping.items() if i < len(raw) and is_formula(raw[i]))
    formulas += tuple(extras[i] for i in extras if i < len(raw) and is_formula(raw[i]))
    return Row(number, {f: at(i) for f, i in mapping.items()},
               {name: at(i) for i, name in extras.items() if at(i)}, formulas)


def _hash_row(digest: hashlib._Hash, values: list[str]) -> None:
    while values and not values[-1]:
        values = values[:-1]
    digest.update(("\x1f".join(values) + "\x1e").encode("utf-8"))
