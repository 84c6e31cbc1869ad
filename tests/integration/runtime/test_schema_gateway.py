"""FWO_DUIS_XSD: outgoing requests are checked against the DCC's DUIS schema before sending."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from duis import build
from duis.errors import SchemaLoadError, SchemaValidationError
from duis.models import ReadFirmwareVersion
from duis.requestid import RequestId
from duis.testing.pki import Pki
from orchestrator.adapters.schema_gateway import SchemaCheckedGateway

SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"


class RecordingGateway:
    """Stands in for the DSP: records what it was sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, xml: bytes) -> bytes:
        self.sent.append(xml)
        return b"<answer/>"


def _request() -> bytes:
    rid = RequestId("90-B3-D5-1F-30-01-00-00", "00-11-22-33-44-55-66-77", 1)
    return build.sign_request(ReadFirmwareVersion(rid), Pki.generate().supplier_xml.identity)


def test_valid_requests_are_sent_and_invalid_ones_never_leave(xsd: Path) -> None:
    """A schema-valid request reaches the DSP; one with a stray element is refused here."""
    inner = RecordingGateway()
    gateway = SchemaCheckedGateway(inner, xsd)
    good = _request()
    root = etree.fromstring(good)
    etree.SubElement(root[0], f"{SR}Extra")
    assert gateway.send(good) == b"<answer/>"
    with pytest.raises(SchemaValidationError, match=xsd.name):
        gateway.send(etree.tostring(root))
    assert inner.sent == [good]


def test_a_missing_schema_file_is_reported_at_start(tmp_path: Path) -> None:
    """A wrong FWO_DUIS_XSD fails when the gateway is built, not on the first send."""
    with pytest.raises(SchemaLoadError):
        SchemaCheckedGateway(RecordingGateway(), tmp_path / "nope.xsd")
