"""XML signatures: round trips and every tampering that must fail."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from lxml import etree

from duis import build, respond
from duis.codes import DS_NS
from duis.errors import (
    KeyMaterialError,
    SignatureMismatchError,
    SignatureMissingError,
    UnsupportedSignatureError,
    UntrustedCertificateError,
)
from duis.keys import TrustStore
from duis.models import ReadFirmwareVersion
from duis.requestid import RequestId
from duis.sign import SigningIdentity, sign_document, verify_document
from duis.testing.pki import Pki
from duis.testing.samples import DCC, DEVICE, SUPPLIER, sample_responses

D = f"{{{DS_NS}}}"


def _signed(pki: Pki) -> bytes:
    request = build.update_firmware(
        RequestId(SUPPLIER, DCC, 9), b"image-bytes" * 30, "0102", [DEVICE]
    )
    return build.sign_request(request, pki.supplier_xml.identity)


def _trust(pki: Pki) -> TrustStore:
    return TrustStore.of([pki.supplier_xml.certificate])


def _edit(data: bytes, path: str, **attrs: str) -> bytes:
    root = etree.fromstring(data)
    node = root.find(path)
    for key, value in attrs.items():
        node.set(key, value)
    return etree.tostring(root)


def test_signed_request_verifies_with_the_signing_certificate(pki: Pki) -> None:
    """A request we sign verifies and names the certificate that signed it."""
    result = verify_document(_signed(pki), _trust(pki))
    assert result.certificate == pki.supplier_xml.certificate


def test_verification_leaves_the_tree_unchanged(pki: Pki) -> None:
    """Verifying an element keeps its signature and text (same canonical form, verifies again)."""
    root = etree.fromstring(_signed(pki))
    before = etree.tostring(root, method="c14n")
    verify_document(root, _trust(pki))
    assert etree.tostring(root, method="c14n") == before
    verify_document(root, _trust(pki))


def test_whitespace_is_signed_and_added_whitespace_is_detected(pki: Pki) -> None:
    """Whitespace in the document is covered by the digest; adding some later fails."""
    root = build.to_element(ReadFirmwareVersion(RequestId(SUPPLIER, DEVICE, 1)))
    root.text, root[-1].tail = "\n  ", "\n"
    signed = sign_document(root, pki.supplier_xml.identity)
    pretty = signed.replace(b"<ds:Signature ", b"\n <ds:Signature ").replace(
        b"</ds:Signature>", b"</ds:Signature>\n"
    )
    with pytest.raises(SignatureMismatchError):
        verify_document(pretty, _trust(pki))
    verify_document(signed, _trust(pki))


def test_changed_body_fails(pki: Pki) -> None:
    """Changing the firmware version breaks the digest."""
    tampered = _signed(pki).replace(b">0102<", b">0103<")
    with pytest.raises(SignatureMismatchError, match="digest"):
        verify_document(tampered, _trust(pki))


def test_changed_signature_value_fails(pki: Pki) -> None:
    """A different SignatureValue does not verify."""
    root = etree.fromstring(_signed(pki))
    node = root.find(f"{D}Signature/{D}SignatureValue")
    raw = bytearray(base64.b64decode(node.text))
    raw[5] ^= 1
    node.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureMismatchError):
        verify_document(etree.tostring(root), _trust(pki))


def test_swapped_certificate_fails(pki: Pki, other_pki: Pki) -> None:
    """Naming another trusted certificate in KeyInfo does not verify."""
    other = other_pki.supplier_xml.certificate
    root = etree.fromstring(_signed(pki))
    issuer_serial = root.find(f".//{D}X509IssuerSerial")
    issuer_serial[0].text = other.issuer.rfc4514_string()
    issuer_serial[1].text = str(other.serial_number)
    with pytest.raises(SignatureMismatchError):
        verify_document(etree.tostring(root), TrustStore.of([pki.supplier_xml.certificate, other]))


def test_untrusted_signer_fails(pki: Pki, other_pki: Pki) -> None:
    """A signature by a certificate outside the trust set is refused."""
    with pytest.raises(UntrustedCertificateError):
        verify_document(_signed(pki), _trust(other_pki))


def test_certificate_outside_its_validity_fails(pki: Pki) -> None:
    """A verification time after expiry is refused; one inside is accepted."""
    with pytest.raises(UntrustedCertificateError, match="not valid"):
        verify_document(_signed(pki), _trust(pki), at=datetime(2101, 1, 1, tzinfo=UTC))
    verify_document(_signed(pki), _trust(pki), at=datetime(2024, 1, 1, tzinfo=UTC))


def test_extra_reference_is_refused(pki: Pki) -> None:
    """Two references are refused, whatever they point to."""
    root = etree.fromstring(_signed(pki))
    signed_info = root.find(f"{D}Signature/{D}SignedInfo")
    signed_info.append(etree.fromstring(etree.tostring(signed_info.find(f"{D}Reference"))))
    with pytest.raises(UnsupportedSignatureError, match="Reference"):
        verify_document(etree.tostring(root), _trust(pki))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("SignedInfo/{d}SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        ("SignedInfo/{d}CanonicalizationMethod", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
        ("SignedInfo/{d}Reference/{d}DigestMethod", "http://www.w3.org/2000/09/xmldsig#sha1"),
        (
            "SignedInfo/{d}Reference/{d}Transforms/{d}Transform",
            "http://www.w3.org/TR/1999/REC-xslt-19991116",
        ),
    ],
)
def test_other_algorithms_are_refused(pki: Pki, path: str, value: str) -> None:
    """Any algorithm but the DUIS set is refused before any crypto."""
    tampered = _edit(_signed(pki), f"{D}Signature/{D}" + path.format(d=D), Algorithm=value)
    with pytest.raises(UnsupportedSignatureError):
        verify_document(tampered, _trust(pki))


def test_reference_to_part_of_the_document_is_refused(pki: Pki) -> None:
    """Only URI="" (the whole document) is accepted."""
    tampered = _edit(_signed(pki), f"{D}Signature/{D}SignedInfo/{D}Reference", URI="#body")
    with pytest.raises(UnsupportedSignatureError, match="URI"):
        verify_document(tampered, _trust(pki))


def test_missing_signature_is_refused(pki: Pki) -> None:
    """An unsigned document fails when a signature is required."""
    unsigned = build.to_xml(ReadFirmwareVersion(RequestId(SUPPLIER, DEVICE, 1)))
    with pytest.raises(SignatureMissingError):
        verify_document(unsigned, _trust(pki))


def test_nested_or_duplicate_signatures_are_refused(pki: Pki) -> None:
    """A second ds:Signature anywhere is refused."""
    root = etree.fromstring(_signed(pki))
    root[1].append(etree.fromstring(etree.tostring(root.find(f"{D}Signature"))))
    with pytest.raises(UnsupportedSignatureError):
        verify_document(etree.tostring(root), _trust(pki))


def test_mismatched_key_and_certificate_are_refused(pki: Pki) -> None:
    """An identity whose key is not the certificate's is refused up front."""
    with pytest.raises(KeyMaterialError):
        SigningIdentity(pki.supplier_ds.key, pki.supplier_xml.certificate)


def test_the_usual_signed_info_is_recognised_without_element_checks(
        pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one SignedInfo shape DUIS signers use is recognised from its canonical bytes (the
    fast path); any other shape still goes through every element check."""
    from duis import sign

    signed = _signed(pki)
    calls: list[object] = []
    real = sign._check_signed_info
    monkeypatch.setattr(sign, "_check_signed_info",
                        lambda si: calls.append(si) or real(si))
    verify_document(signed, _trust(pki))
    assert calls == []
    root = etree.fromstring(signed)
    method = root.find(f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
    method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    with pytest.raises(UnsupportedSignatureError, match="SignatureMethod"):
        verify_document(etree.tostring(root), _trust(pki))
    assert len(calls) == 1


def _reworded(signed: bytes, how: str) -> bytes:
    """The same signed request written another way (none of them the usual shape)."""
    root = etree.fromstring(signed)
    if how == "wrapped_value":  # base64 in lines, as many XML signers write it
        node = root.find(f"{D}Signature/{D}SignatureValue")
        node.text = "\n" + node.text[:60] + "\n" + node.text[60:] + "\n"
    elif how == "indented_key_info":  # whitespace outside SignedInfo is signed by nothing
        root.find(f"{D}Signature/{D}KeyInfo").text = "\n  "
    return etree.tostring(root)


@pytest.mark.parametrize("how", ["wrapped_value", "indented_key_info"])
def test_the_usual_signature_and_its_other_spellings_verify_alike(
        pki: Pki, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual signature is checked from two canonical forms, without taking the document
    apart; written any other way it takes the element-by-element path, to the same result,
    and with that path alone the usual one verifies the same (signer and signed content)."""
    from duis import sign

    signed, trust = _signed(pki), _trust(pki)
    parted: list[object] = []
    real = sign._document_digest
    monkeypatch.setattr(sign, "_document_digest",
                        lambda *a: parted.append(a) or real(*a))
    usual = verify_document(signed, trust)
    assert parted == []
    other = verify_document(_reworded(signed, how), trust)
    assert len(parted) == 1 and other == usual
    monkeypatch.setattr(sign, "_verify_usual", lambda *a: None)
    assert verify_document(signed, trust) == usual


def test_a_namespace_declared_where_the_signature_is_is_signed_content(pki: Pki) -> None:
    """Our requests declare the signature's namespace on the root, DCC responses on the
    signature: both verify by the usual path, and moving the declaration from one place to
    the other changes the signed content (the digest fails)."""
    from duis import sign

    request = _signed(pki)
    response = respond.sign_response(sample_responses()["warnings"], pki.dcc_xml.identity)
    for signed, trust in ((request, _trust(pki)), (response, TrustStore.of(
            [pki.dcc_xml.certificate]))):
        root = etree.fromstring(signed)
        assert sign._verify_usual(root, sign.find_signature(root), trust, None) is not None
    moved = request.replace(f' xmlns:ds="{DS_NS}"'.encode(), b"", 1).replace(
        b"<ds:Signature>", f'<ds:Signature xmlns:ds="{DS_NS}">'.encode())
    assert "ds" not in etree.fromstring(moved).nsmap
    with pytest.raises(SignatureMismatchError, match="digest"):
        verify_document(moved, _trust(pki))
