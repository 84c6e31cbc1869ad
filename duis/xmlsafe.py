"""Hardened parsing of untrusted XML: no DTDs, entities, network or huge trees.

What is read is what a DUIS signature covers: the reference (URI="") digests the document's
canonical form *without comments*, so comments are dropped while parsing (the text around a
comment joins up, `8F<!--x-->72` reads as `8F72`, as the signer meant), and a processing
instruction, which the canonical form keeps but no DUIS message carries, refuses the document.
"""

from __future__ import annotations

import threading

from lxml import etree

from duis.errors import XmlFormatError

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


_PARSERS = threading.local()  # lxml parsers are not shared between threads


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=False,
        )
    return parser


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
    for node in (*root.itersiblings(preceding=True), *root.itersiblings(),
                 *root.iter(etree.Entity, etree.ProcessingInstruction)):  # one walk for both
        if isinstance(node, etree._Entity):
            raise XmlFormatError(f"entity reference &{node.name}; is not allowed")
        if isinstance(node, etree._ProcessingInstruction):
            raise XmlFormatError(f"processing instruction <?{node.target} ...?> is not allowed")
    return root
