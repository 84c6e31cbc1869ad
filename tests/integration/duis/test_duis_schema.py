"""Every request and response we build validates against the official DUIS 5.4 XSD."""

from __future__ import annotations

from pathlib import Path

import pytest

from duis import build, respond, schema
from duis.errors import SchemaLoadError, SchemaValidationError
from duis.models import ReadFirmwareVersion
from duis.requestid import RequestId
from duis.testing.pki import Pki
from duis.testing.samples import DEVICE, SUPPLIER, sample_requests, sample_responses


@pytest.mark.parametrize(
    "kind", ["11.1", "11.4", "11.3_now", "11.3_future", "11.3_cancel", "11.3_signed", "11.2", "8.2"]
)
def test_signed_requests_validate(xsd: Path, pki: Pki, kind: str) -> None:
    """Each builder's signed output is valid DUIS 5.4."""
    schema.validate(build.sign_request(sample_requests(pki)[kind], pki.supplier_xml.identity), xsd)


@pytest.mark.parametrize("kind", sorted(sample_responses()))
def test_signed_responses_validate(xsd: Path, pki: Pki, kind: str) -> None:
    """Each response and alert the simulator can send is valid DUIS 5.4."""
    schema.validate(respond.sign_response(sample_responses()[kind], pki.dcc_xml.identity), xsd)


def test_invalid_document_is_reported_with_the_reason(xsd: Path, pki: Pki) -> None:
    """A CommandVariant outside the enumeration fails validation with a message."""
    xml = build.to_xml(ReadFirmwareVersion(RequestId(SUPPLIER, DEVICE, 2))).replace(
        b"<sr:CommandVariant>1<", b"<sr:CommandVariant>12<"
    )
    with pytest.raises(SchemaValidationError, match="CommandVariant"):
        schema.validate(xml, xsd)


def test_schema_is_compiled_once(xsd: Path) -> None:
    """Loading the same schema twice returns the cached compiled object."""
    assert schema.load_schema(xsd) is schema.load_schema(str(xsd))


def test_missing_schema_is_a_typed_error(tmp_path: Path) -> None:
    """A wrong path gives SchemaLoadError."""
    with pytest.raises(SchemaLoadError):
        schema.load_schema(tmp_path / "absent.xsd")
