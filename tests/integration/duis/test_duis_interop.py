"""Every signature we make verifies with signxml and with xmlsec1; tampered ones do not."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidSignature

from duis import build, respond
from duis.models import PreCommand, ReadInventory, Response, ResponseHeader, ResponseMessage
from duis.requestid import RequestId
from duis.testing.pki import Credential, Pki
from duis.testing.samples import sample_requests, sample_responses
from orchestrator.adapters.keystore import KeyStore
from orchestrator.domain.jobs import DeviceJob
from orchestrator.service import outbound
from orchestrator.service.outbound import CANCEL_AT, Send

from .dcc_tool import DccTool

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


# ---- the DCC's own tool ------------------------------------------------------------------
RTDS_PRE = "gbcs-rtds/11.3_CS06/CS06_11.3_{}_PRECOMMAND_GBCS.HEX"
BOXED_SUPPLIER, BOXED_DCC = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
RTDS_ESME, RTDS_GSME, RTDS_PPMID = ("00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1",
                                    "00-DB-12-34-56-78-90-A4")
RTDS_HASH = "AA758690730934FF0685AA758690730934FF0685657788990011223344556677"


def _send(sr: str, device: str, counter: int, at: datetime | None = None) -> Send:
    job = DeviceJob(1, device, ("1",))
    send = Send(sr, "1", [job], execute_at=at)
    target = BOXED_DCC if sr in ("11.1", "11.4") else device
    send.assign(RequestId(BOXED_SUPPLIER, target, counter))
    return send


def _product_requests(keys: KeyStore, reference: Path) -> dict[str, bytes]:
    """Every request kind the product sends, built and signed by its own code paths."""
    image = (b"\x1e\xf1\xee\x0b" + bytes(60)) * 8
    esme, gas = keys.identity_for("ESME"), keys.identity_for("GSME")
    future = datetime(2030, 1, 15, 9, tzinfo=UTC)
    out = {
        "11.1": outbound.request_xml(_send("11.1", RTDS_ESME, 1), image, "0123ABCE", "", esme),
        "11.4": outbound.request_xml(_send("11.4", RTDS_PPMID, 2), image, "0123ABCE", "", esme),
        "11.3 CV4 now": outbound.request_xml(_send("11.3", RTDS_ESME, 3), None, "",
                                             RTDS_HASH, esme),
        "11.3 CV4 future": outbound.request_xml(_send("11.3", RTDS_ESME, 4, future), None,
                                                "", RTDS_HASH, esme),
        "11.3 CV4 cancel": outbound.request_xml(_send("11.3", RTDS_ESME, 5, CANCEL_AT), None,
                                                "", RTDS_HASH, esme),
        "11.2 ESME": outbound.request_xml(_send("11.2", RTDS_ESME, 6), None, "", "", esme),
        "11.2 GSME (gas role)": outbound.request_xml(_send("11.2", RTDS_GSME, 7), None, "",
                                                     "", gas),
        "8.2": build.sign_request(ReadInventory(RequestId(BOXED_SUPPLIER, BOXED_DCC, 8),
                                                RTDS_ESME), esme.xml),
    }
    for name, counter, at in (("IMMEDIATE_SUCCESS", 1000, None),
                              ("FUTURE_DATED_SUCCESS", 1001, future)):
        send = _send("11.3", RTDS_ESME, counter, at)
        outbound.request_xml(send, None, "", RTDS_HASH, esme)
        payload = bytes.fromhex("".join((reference / RTDS_PRE.format(name)).read_text().split()))
        cv4 = Response("5.4", ResponseHeader(send.request_ids[0], None, "I0", future),
                       ResponseMessage("11.3", "11.3", pre_command=PreCommand("4.0", payload)))
        out[f"11.3 CV5 {name.lower()}"] = outbound.sign_pre_command(None, send, cv4, esme)  # type: ignore[arg-type]
    return out


def test_the_dcc_tool_validates_every_request_kind_we_send(dcc_tool: DccTool, boxed_keys: Path,
                                                           reference: Path,
                                                           tmp_path: Path) -> None:
    """Signed with the DCC Boxed test Supplier identities, each request kind (CV5 with the
    RTDS pre-command included) passes the DCC tool's XSD and signature check."""
    keys = KeyStore(boxed_keys, BOXED_SUPPLIER, BOXED_SUPPLIER)
    failures = {}
    for kind, xml in _product_requests(keys, reference).items():
        path = tmp_path / f"{kind.replace(' ', '_')}.xml"
        path.write_bytes(xml)
        done = dcc_tool.validate(path)
        if done.returncode != 0:
            failures[kind] = done.stderr.decode(errors="replace")[-300:]
    assert failures == {}


def test_the_dcc_tool_rejects_a_changed_request(dcc_tool: DccTool, boxed_keys: Path,
                                                reference: Path, tmp_path: Path) -> None:
    """The tool's check can fail: one changed DeviceID breaks the signature (exit 10)."""
    keys = KeyStore(boxed_keys, BOXED_SUPPLIER, BOXED_SUPPLIER)
    xml = _product_requests(keys, reference)["11.2 ESME"]
    (tmp_path / "changed.xml").write_bytes(xml.replace(b"90-A0", b"90-A9", 1))
    assert dcc_tool.validate(tmp_path / "changed.xml").returncode == 10
