"""Writers: the CPL and FIR workbooks (openpyxl write-only) and the fleet CSV.

Both workbooks look like published ones: a title row and a blank row above the header row on
the first sheet, and a second "Notes" sheet. CPL Entry IDs are written as numbers.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from simulators.generate.catalogue import Catalogue, CplEntry
from simulators.generate.fir import FirRow
from simulators.generate.fleet import FLEET_COLUMNS

CPL_COLUMNS = (
    "CPL Entry ID", "Device Type", "Manufacturer", "Model", "Hardware Version",
    "Firmware Version", "Manufacturer Image Hash", "GBCS Version", "HAN Variant", "Status",
)
FIR_COLUMNS = (
    "CPL Entry ID", "Contact Email", "Contact Telephone", "Contact Address", "Release Notes",
    "Previous CPL Entry IDs", "ZigBee Chipset Vendor", "ZigBee Stack Version",
    "ZigBee Band Join Option",
)
# The CPL's HAN Variant as MP231 writes it, by the generator's short band name.
CPL_HAN_SPELLINGS = {"2.4GHz": "Single Band (2.4GHz)", "Sub-GHz": "Single Band (Sub-GHz)",
                     "Dual Band": "Dual Band"}
CPL_SHEET, FIR_SHEET, NOTES_SHEET = "CPL", "FIR", "Notes"
TITLE_ROWS = 2  # rows above the header row on the first sheet
_BOLD = Font(bold=True)


def write_cpl(catalogue: Catalogue, path: Path) -> None:
    """Write the Central Products List workbook."""
    title = f"Central Products List - generated {catalogue.published.isoformat()}"
    _write_workbook(path, CPL_SHEET, title, CPL_COLUMNS, map(cpl_row, catalogue.entries))


def write_fir(catalogue: Catalogue, path: Path) -> None:
    """Write the Firmware Information Repository workbook."""
    title = f"Firmware Information Repository - generated {catalogue.published.isoformat()}"
    _write_workbook(path, FIR_SHEET, title, FIR_COLUMNS, map(fir_row, catalogue.fir_rows))


def cpl_row(e: CplEntry) -> tuple[object, ...]:
    """Return the cell values of one CPL row, in CPL_COLUMNS order."""
    return (e.entry_id, e.device_type, e.manufacturer, e.model, e.hardware_version,
            e.firmware_version, e.image_hash, e.gbcs_version,
            CPL_HAN_SPELLINGS.get(e.han_variant, e.han_variant), e.status)


def fir_row(r: FirRow) -> tuple[object, ...]:
    """Return the cell values of one FIR row, in FIR_COLUMNS order (None = empty cell)."""
    return (r.cpl_entry_id, r.contact_email, r.contact_telephone, r.contact_address,
            r.release_notes, r.previous_cell, r.zigbee_chipset_vendor, r.zigbee_stack_version,
            r.zigbee_band_join_option)


def write_fleet_csv(rows: Iterable[Sequence[str]], path: Path) -> int:
    """Write fleet.csv (header FLEET_COLUMNS, LF line ends); return the number of rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FLEET_COLUMNS)
        for chunk in _chunks(rows, 10_000):
            writer.writerows(chunk)
            count += len(chunk)
    return count


def _chunks(rows: Iterable[Sequence[str]], size: int) -> Iterable[list[Sequence[str]]]:
    chunk: list[Sequence[str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_workbook(
    path: Path, sheet: str, title: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet)
    ws.append([_bold(ws, title)])
    ws.append([])
    ws.append([_bold(ws, name) for name in header])
    for row in rows:
        ws.append(row)
    _write_notes(workbook.create_sheet(NOTES_SHEET), sheet)
    workbook.save(path)


def _write_notes(ws: WriteOnlyWorksheet, sheet: str) -> None:
    ws.append(["Synthetic data produced by simulators.generate; not a real SECAS publication."])
    ws.append([f"The header row of sheet '{sheet}' is row {TITLE_ROWS + 1}."])


def _bold(ws: WriteOnlyWorksheet, value: str) -> Cell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = _BOLD
    return cell
