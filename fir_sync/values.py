"""Normalisers for single cell values: hashes, IDs, codes, statuses, predecessor lists."""
from __future__ import annotations

import re

from fir_sync.records import DEVICE_TYPES, CplStatus

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_SEPARATORS = re.compile(r"[,;/\r\n]+")
_NO_PREVIOUS = {"n/a", "na", "n.a.", "n/a."}
_DEVICE_TYPE_ALIASES = {
    "ELECTRICITYSMARTMETER": "ESME", "GASSMARTMETER": "GSME",
    "COMMSHUBFUNCTION": "CHF", "COMMUNICATIONSHUBFUNCTION": "CHF",
    "GASPROXYFUNCTION": "GPF", "PREPAYMENTMETERINTERFACEDEVICE": "PPMID",
    "INHOMEDISPLAY": "IHD", "CONSUMERACCESSDEVICE": "CAD",
}
_STATUSES = {s.value.lower(): s for s in CplStatus}


class ValueProblem(ValueError):
    """A cell value that cannot be normalised; the message says why."""


def entry_id(text: str) -> str:
    """A CPL Entry ID: letters, digits and . _ - ; integer-looking numbers already trimmed."""
    if not text:
        raise ValueProblem("CPL Entry ID is empty")
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not _ID.fullmatch(text):
        raise ValueProblem("CPL Entry ID has characters other than letters, digits, '.', '_', '-'")
    return text


def image_hash(text: str) -> str:
    """A Manufacturer Image hash as 64 lower-case hex characters."""
    cleaned = re.sub(r"[\s:\-]", "", text).lower()
    cleaned = cleaned.removeprefix("0x")
    if not cleaned:
        raise ValueProblem("image hash is empty")
    if not _HEX64.fullmatch(cleaned):
        raise ValueProblem(f"image hash must be 64 hexadecimal characters (SHA-256), "
                           f"got {len(cleaned)} characters")
    return cleaned


def code(text: str) -> str:
    """A manufacturer, model or hardware code: upper-case when hexadecimal, else as written."""
    return text.upper() if _HEX.fullmatch(text) else text


def status(text: str) -> CplStatus:
    """A CPL status, any case."""
    found = _STATUSES.get(text.strip().lower())
    if found is None:
        allowed = ", ".join(s.value for s in CplStatus)
        raise ValueProblem(f"unknown status; expected one of {allowed}")
    return found


def device_type(text: str) -> str:
    """A DUIS device type code (ESME, GSME, ...), any case, a few long names accepted."""
    key = re.sub(r"[^A-Z0-9]", "", text.upper())
    key = _DEVICE_TYPE_ALIASES.get(key, key)
    if key not in DEVICE_TYPES:
        raise ValueProblem(f"unknown device type; expected one of {', '.join(sorted(DEVICE_TYPES))}")
    return key


def predecessor_list(text: str) -> tuple[str, ...] | None:
    """Previous CPL Entry IDs: () for N/A, None for an empty (unknown) cell."""
    if not text.strip():
        return None
    if text.strip().lower().replace(" ", "") in _NO_PREVIOUS:
        return ()
    items = [item.strip() for item in _SEPARATORS.split(text)]
    items = [item for item in items if item]
    if any(item.lower().replace(" ", "") in _NO_PREVIOUS for item in items):
        raise ValueProblem("N/A mixed with entry IDs; N/A must stand alone")
    try:
        ids = tuple(dict.fromkeys(entry_id(item) for item in items))
    except ValueProblem as err:
        raise ValueProblem(f"previous-ID list: {err}") from err
    return ids
