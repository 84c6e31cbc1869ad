"""Typed accessors for reading DUIS elements; every defect is a MessageStructureError."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from lxml import etree

from duis.codes import SR_NS
from duis.errors import IdentifierError, MessageStructureError
from duis.requestid import RequestId, normalize_eui, parse_request_id

_SR_PREFIX = f"{{{SR_NS}}}"
_SR_CUT = len(_SR_PREFIX)


def q(name: str) -> str:
    """Qualified name in the DUIS namespace."""
    return f"{{{SR_NS}}}{name}"


def local(element: etree._Element) -> str:
    """Local name of an element (namespace stripped)."""
    tag = element.tag
    if isinstance(tag, str):
        return tag.rpartition("}")[2]
    return str(etree.QName(element).localname)


def expect(element: etree._Element, name: str) -> None:
    """Raise unless element is sr:name."""
    if element.tag != q(name):
        raise MessageStructureError(f"expected sr:{name}, found {element.tag!r}")


class Fields:
    """An element's children in the DUIS namespace by local name, read in one pass (the
    first of each name, as a schema-valid message has one): every look-up after that is a
    dictionary's, not another walk of the children."""

    __slots__ = ("_by_name", "element")

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        by_name: dict[str, etree._Element] = {}
        for kid in element.iterchildren():
            tag = kid.tag
            if isinstance(tag, str) and tag.startswith(_SR_PREFIX):
                by_name.setdefault(tag[_SR_CUT:], kid)
        self._by_name = by_name

    def opt(self, name: str) -> etree._Element | None:
        """The optional child sr:name."""
        return self._by_name.get(name)

    def child(self, name: str) -> etree._Element:
        """The required child sr:name."""
        found = self._by_name.get(name)
        if found is None:
            raise MessageStructureError(f"sr:{local(self.element)} lacks sr:{name}")
        return found

    def text(self, name: str) -> str:
        """Stripped text of the required child sr:name."""
        return (self.child(name).text or "").strip()

    def opt_text(self, name: str) -> str | None:
        """Stripped text of an optional child sr:name."""
        found = self._by_name.get(name)
        return None if found is None else (found.text or "").strip()

    def eui(self, name: str) -> str:
        """The EUI-64 in child sr:name."""
        return _wrap_id(self.text(name), f"sr:{name}")


def only_child(parent: etree._Element) -> etree._Element:
    """The single element child of parent."""
    kids = [k for k in parent if isinstance(k.tag, str)]
    if len(kids) != 1:
        raise MessageStructureError(f"sr:{local(parent)} must hold one element, found {len(kids)}")
    return kids[0]


def _wrap_id(value: str, what: str) -> str:
    try:
        return normalize_eui(value)
    except IdentifierError as err:
        raise MessageStructureError(f"{what}: {err}") from err


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
