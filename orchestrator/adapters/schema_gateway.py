"""Outgoing requests checked against the DCC's DUIS XSD (`FWO_DUIS_XSD`) before sending."""
from __future__ import annotations

from pathlib import Path

from duis import schema
from orchestrator.domain.ports import DspGateway


class SchemaCheckedGateway:
    """Validates each request against the official schema, then hands it to `inner`.

    An invalid request raises `duis.errors.SchemaValidationError` and is never sent; the
    dispatcher records it as refused with the schema's reason.
    """

    def __init__(self, inner: DspGateway, xsd: Path):
        self.inner, self.xsd = inner, xsd
        schema.load_schema(xsd)  # a missing or broken schema is reported at start-up

    def send(self, xml: bytes) -> bytes:
        """Validate, then send."""
        schema.validate(xml, self.xsd)
        return self.inner.send(xml)
