"""Validation against a DUIS XSD given by path; each schema is compiled once."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from duis.errors import SchemaLoadError, SchemaValidationError
from duis.xmlsafe import parse_xml


@functools.lru_cache(maxsize=8)
def _compile(resolved: str) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(resolved))
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as err:
        raise SchemaLoadError(f"cannot load DUIS schema {resolved}: {err}") from err


def load_schema(path: str | Path) -> etree.XMLSchema:
    """Return the compiled schema at path (cached per resolved path)."""
    return _compile(str(Path(path).resolve()))


def validate(document: bytes | etree._Element, schema_path: str | Path) -> None:
    """Raise SchemaValidationError naming the first problems if document is not valid."""
    validate_compiled(document, load_schema(schema_path), Path(schema_path).name)


def validate_compiled(document: bytes | etree._Element, schema: etree.XMLSchema,
                      name: str) -> None:
    """As validate, against a schema already compiled (no path resolved per call)."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    if schema.validate(root):
        return
    problems = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:3])
    raise SchemaValidationError(f"not valid against {name}: {problems}")
