"""Every signature we make verifies with signxml and with xmlsec1; tampered ones do not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidSignature

from duis import build, respond
from duis.testing.pki import Credential, Pki
from duis.testing.samples import sample_requests, sample_responses

CONFIG = SignatureConfiguration(
    signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)
REQUESTS = ["11.1", "11.4", "11.3_now", "11.3_future", "11.3_cancel", "11.3_signed", "11.2", "8.2"]


def _signed(pki: Pki, kind: str) -> tuple[bytes, Credential]:
    if kind in REQUESTS:
        return build.sign_request(
            sample_requests(pki)[kind], pki.supplier_xml.identity
        ), pki.supplier_xml
    return respond.sign_response(sample_responses()[kind], pki.dcc_xml.identity), pki.dcc_xml


def _xmlsec1(
    binary: str, tmp_path: Path, document: bytes, cert: bytes
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "doc.xml").write_bytes(document)
    (tmp_path / "cert.pem").write_bytes(cert)
    return subprocess.run(
        [
            binary,
            "--verify",
            "--pubkey-cert-pem",
            str(tmp_path / "cert.pem"),
            str(tmp_path / "doc.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


ALL = REQUESTS + sorted(sample_responses())


@pytest.mark.parametrize("kind", ALL)
def test_signxml_verifies_our_signatures(pki: Pki, kind: str) -> None:
    """signxml accepts each signed request and response with the signing certificate."""
    document, cred = _signed(pki, kind)
    XMLVerifier().verify(document, x509_cert=cred.cert_pem.decode(), expect_config=CONFIG)


@pytest.mark.parametrize("kind", ALL)
def test_xmlsec1_verifies_our_signatures(xmlsec1: str, tmp_path: Path, pki: Pki, kind: str) -> None:
    """xmlsec1 accepts each signed request and response with the signing certificate."""
    document, cred = _signed(pki, kind)
    result = _xmlsec1(xmlsec1, tmp_path, document, cred.cert_pem)
    assert result.returncode == 0, result.stderr


def test_xmlsec1_rejects_a_changed_body(xmlsec1: str, tmp_path: Path, pki: Pki) -> None:
    """The xmlsec1 check can fail: a changed DeviceID does not verify."""
    document, cred = _signed(pki, "8.2")
    tampered = document.replace(b"00-DB-12-34-56-78-90-A0", b"00-DB-12-34-56-78-90-A1")
    assert tampered != document
    assert _xmlsec1(xmlsec1, tmp_path, tampered, cred.cert_pem).returncode != 0


def test_xmlsec1_rejects_another_key(xmlsec1: str, tmp_path: Path, pki: Pki) -> None:
    """xmlsec1 refuses the signature with an unrelated certificate."""
    document, _ = _signed(pki, "11.2")
    assert (
        _xmlsec1(xmlsec1, tmp_path, document, Pki.generate().supplier_xml.cert_pem).returncode != 0
    )


def test_signxml_rejects_a_changed_body(pki: Pki) -> None:
    """The signxml check can fail: a changed hash does not verify."""
    document, cred = _signed(pki, "11.3_now")
    tampered = document.replace(b"ABAB", b"ABAC", 1)
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(tampered, x509_cert=cred.cert_pem.decode(), expect_config=CONFIG)


def test_xmlsec1_verifies_the_dcc_response(xmlsec1: str, tmp_path: Path, dcc_dir: Path) -> None:
    """xmlsec1 agrees that the genuine DCC response is validly signed."""
    result = _xmlsec1(
        xmlsec1,
        tmp_path,
        (dcc_dir / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML").read_bytes(),
        (dcc_dir / "certs_Z1-accessControlBroker-ds.pem").read_bytes(),
    )
    assert result.returncode == 0, result.stderr
