"""Golden tests against the public DCC material: templates, the signed response, the sample image."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier

from duis import build
from duis.codes import DS_NS, SR_NS
from duis.errors import SignatureMismatchError, UntrustedCertificateError
from duis.image import parse_image, verify_image
from duis.keys import TrustStore, load_certificate, public_p256
from duis.models import ActivateFirmware, ReadFirmwareVersion, ReadInventory, UpdateFirmware
from duis.parse import parse_request, verify_response
from duis.sign import SigningIdentity, verify_document

FIXED = datetime(2024, 1, 1, tzinfo=UTC)
RESPONSE = "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
TEMPLATES = {
    "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML": ("11.1", 8, UpdateFirmware),
    "11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML": ("11.4", 8, UpdateFirmware),
    "CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML": ("11.3", 4, ActivateFirmware),
    "CS06_11.3_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML": ("11.3", 4, ActivateFirmware),
    "CS06_11.3_CANCELLATION_SUCCESS_REQUEST_DUIS.XML": ("11.3", 4, ActivateFirmware),
    "CS08_11.2_SUCCESS_REQUEST_DUIS.XML": ("11.2", 1, ReadFirmwareVersion),
    "ECS52_11.2_SUCCESS_REQUEST_DUIS.XML": ("11.2", 1, ReadFirmwareVersion),
    "GCS38_11.2_SUCCESS_REQUEST_DUIS.XML": ("11.2", 1, ReadFirmwareVersion),
    "8.2_READ_INVENTORY_REQUEST_DUIS.XML": ("8.2", 8, ReadInventory),
}


def _shape(root: etree._Element) -> list[tuple[str, str]]:
    """Tags and texts of header and body, in document order (signature excluded)."""
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.startswith(f"{{{DS_NS}}}"):
            continue
        text = (el.text or "").strip()
        if el.tag == f"{{{SR_NS}}}ExecutionDateTime":
            text = datetime.fromisoformat(text).isoformat()
        out.append((el.tag, text))
    return out


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_parses_to_the_expected_request(dcc_dir: Path, name: str) -> None:
    """Each DCC template parses with its SR, CommandVariant and body type."""
    parsed = parse_request((dcc_dir / name).read_bytes())
    reference, cv, kind = TEMPLATES[name]
    assert (parsed.request.sr.service_reference, parsed.command_variant) == (reference, cv)
    assert isinstance(parsed.request, kind) and parsed.signed


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_builders_reproduce_each_template(dcc_dir: Path, name: str) -> None:
    """Rebuilding a template from its parsed values gives the same elements and values."""
    template = etree.fromstring((dcc_dir / name).read_bytes())
    parsed = parse_request(template)
    rebuilt = build.to_element(parsed.request, schema_version=template.get("schemaVersion"))
    assert _shape(rebuilt) == _shape(template)
    assert rebuilt.get("schemaVersion") == template.get("schemaVersion")


def test_cancellation_template_matches_the_cancel_builder(dcc_dir: Path) -> None:
    """build.activate_firmware(cancel=True) gives the template's far-future date."""
    template = parse_request(
        (dcc_dir / "CS06_11.3_CANCELLATION_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    )
    request = template.request
    assert isinstance(request, ActivateFirmware)
    built = build.activate_firmware(request.request_id, request.firmware_hash, cancel=True)
    assert built == request


def test_dcc_signed_response_verifies_at_a_fixed_time(dcc_dir: Path) -> None:
    """The genuine DCC response verifies with the access-control-broker certificate."""
    trust = TrustStore.from_files([dcc_dir / "certs_Z1-accessControlBroker-ds.pem"])
    response = verify_response((dcc_dir / RESPONSE).read_bytes(), trust, at=FIXED)
    assert response.header.response_code == "I0" and response.signed
    assert response.body.firmware_version == "00020000"
    assert response.header.request_id.counter == 1660286628923


def test_signxml_agrees_on_the_dcc_response(dcc_dir: Path) -> None:
    """signxml independently verifies the same response (the inclusive-digest trap)."""
    cert = (dcc_dir / "certs_Z1-accessControlBroker-ds.pem").read_text()
    config = SignatureConfiguration(
        signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        verification_time=FIXED,
    )
    XMLVerifier().verify((dcc_dir / RESPONSE).read_bytes(), x509_cert=cert, expect_config=config)


def test_dcc_response_fails_when_expired_untrusted_or_changed(dcc_dir: Path) -> None:
    """Now (expired), with the wrong certificate, or with one changed byte, it fails."""
    data = (dcc_dir / RESPONSE).read_bytes()
    trust = TrustStore.from_files([dcc_dir / "certs_Z1-accessControlBroker-ds.pem"])
    with pytest.raises(UntrustedCertificateError):
        verify_response(data, trust, at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(UntrustedCertificateError):
        verify_response(
            data, TrustStore.from_files([dcc_dir / "certs_Z1-supplier-ds.pem"]), at=FIXED
        )
    with pytest.raises(SignatureMismatchError):
        verify_response(data.replace(b">I0<", b">I99<"), trust, at=FIXED)


def _template_image(dcc_dir: Path, name: str) -> bytes:
    root = etree.fromstring((dcc_dir / name).read_bytes())
    return base64.b64decode(root.findtext(f".//{{{SR_NS}}}FirmwareImage"))


def test_sample_image_fields_hash_and_supplier_signature(dcc_dir: Path) -> None:
    """The 11.1 sample image decodes, its hash covers the Manufacturer Image only, and Z1 signed it."""
    data = _template_image(dcc_dir, "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML")
    image = parse_image(data)
    h = image.header
    assert (h.manufacturer_code, h.image_type, h.file_version, h.header_length) == (
        0x121D,
        0,
        0xACDCACDC,
        60,
    )
    assert image.signed and h.total_size == len(data) == 361
    assert image.manufacturer_image_hash == hashlib.sha256(data[60:-66]).digest()
    assert image.manufacturer_image_hash.hex() == (
        "7542f475e3f12eae887d81e32c46d313741d67076b13caec2f82e00ba5e1bb36"
    )
    cert = load_certificate((dcc_dir / "certs_Z1-supplier-ds.pem").read_bytes())
    verify_image(image, public_p256(cert))


def test_ppmid_sample_image_is_unsigned_with_the_same_manufacturer_image(dcc_dir: Path) -> None:
    """The 11.4 sample has no trailer and carries the same Manufacturer Image."""
    ppmid = parse_image(
        _template_image(dcc_dir, "11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML"), signed=False
    )
    esme = parse_image(_template_image(dcc_dir, "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML"))
    assert ppmid.header.image_type == 0x0084 and not ppmid.signed
    assert ppmid.manufacturer_image_hash == esme.manufacturer_image_hash


def test_dcc_test_supplier_key_signs_requests_that_verify(dcc_dir: Path) -> None:
    """The DER test key with its certificate signs an 11.2 that verifies against that certificate."""
    identity = SigningIdentity.load(
        (dcc_dir / "xml-sign-90B3D51F30010000-ds.key").read_bytes(),
        (dcc_dir / "certs_xml-sign-90B3D51F30010000-ds.pem").read_bytes(),
    )
    template = parse_request((dcc_dir / "ECS52_11.2_SUCCESS_REQUEST_DUIS.XML").read_bytes())
    signed = build.sign_request(template.request, identity)
    trust = TrustStore.from_files([dcc_dir / "certs_xml-sign-90B3D51F30010000-ds.pem"])
    assert verify_document(signed, trust).certificate == identity.certificate
