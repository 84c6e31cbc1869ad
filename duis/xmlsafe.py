"""Hardened parsing of untrusted XML: no DTDs, entities, network or huge trees."""

from __future__ import annotations

from lxml import etree

from duis.errors import XmlFormatError

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def parse_xml(data: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse bytes into a root element, refusing DOCTYPEs, entities and oversized input."""
    if not isinstance(data, bytes):
        raise XmlFormatError(f"XML input must be bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise XmlFormatError(f"document is {len(data)} bytes, over the {max_bytes} byte limit")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise XmlFormatError(f"not well-formed XML: {err}") from err
    if root is None:
        raise XmlFormatError("empty XML document")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlFormatError("DOCTYPE declarations are not allowed")
    for node in root.iter(etree.Entity):
        raise XmlFormatError(f"entity reference &{node.name}; is not allowed")
    return root
