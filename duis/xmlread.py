"""Typed accessors for reading DUIS elements; every defect is a MessageStructureError."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from lxml import etree

from duis.codes import SR_NS
from duis.errors import IdentifierError, MessageStructureError
from duis.requestid import RequestId, normalize_eui, parse_request_id


def q(name: str) -> str:
    """Qualified name in the DUIS namespace."""
    return f"{{{SR_NS}}}{name}"


def local(element: etree._Element) -> str:
    """Local name of an element (namespace stripped)."""
    return str(etree.QName(element).localname)


def expect(element: etree._Element, name: str) -> None:
    """Raise unless element is sr:name."""
    if element.tag != q(name):
        raise MessageStructureError(f"expected sr:{name}, found {element.tag!r}")


def child(parent: etree._Element, name: str) -> etree._Element:
    """The single required child sr:name."""
    found = next(parent.iterchildren(f"{{{SR_NS}}}{name}"), None)
    if found is None:
        raise MessageStructureError(f"sr:{local(parent)} lacks sr:{name}")
    return found


def only_child(parent: etree._Element) -> etree._Element:
    """The single element child of parent."""
    kids = [k for k in parent if isinstance(k.tag, str)]
    if len(kids) != 1:
        raise MessageStructureError(f"sr:{local(parent)} must hold one element, found {len(kids)}")
    return kids[0]


def text(parent: etree._Element, name: str) -> str:
    """Stripped text of the required child sr:name."""
    return (child(parent, name).text or "").strip()


def opt_text(parent: etree._Element, name: str) -> str | None:
    """Stripped text of an optional child sr:name."""
    found = next(parent.iterchildren(f"{{{SR_NS}}}{name}"), None)
    return None if found is None else (found.text or "").strip()


def _wrap_id(value: str, what: str) -> str:
    try:
        return normalize_eui(value)
    except IdentifierError as err:
        raise MessageStructureError(f"{what}: {err}") from err


def eui(parent: etree._Element, name: str) -> str:
    """The EUI-64 in child sr:name."""
    return _wrap_id(text(parent, name), f"sr:{name}")


def eui_list(value: str | None, what: str) -> tuple[str, ...]:
    """A comma-separated list of EUI-64s."""
    if not value:
        return ()
    return tuple(_wrap_id(v, what) for v in value.split(","))


def request_id(value: str, what: str) -> RequestId:
    """A RequestID or ResponseID."""
    try:
        return parse_request_id(value)
    except IdentifierError as err:
        raise MessageStructureError(f"sr:{what}: {err}") from err


def timestamp(value: str, what: str) -> datetime:
    """An xs:dateTime; naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise MessageStructureError(f"sr:{what} is not a date-time: {value[:40]!r}") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def b64(value: str, what: str) -> bytes:
    """Decoded xs:base64Binary."""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as err:
        raise MessageStructureError(f"sr:{what} is not valid base64") from err


def hex_bytes(value: str, what: str) -> bytes:
    """Decoded xs:hexBinary."""
    try:
        return bytes.fromhex(value)
    except ValueError as err:
        raise MessageStructureError(f"sr:{what} is not valid hex: {value[:70]!r}") from err


def integer(value: str, what: str) -> int:
    """A decimal integer."""
    if not value.isdigit():
        raise MessageStructureError(f"sr:{what} is not a number: {value[:30]!r}")
    return int(value)
