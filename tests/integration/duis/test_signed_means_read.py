"""What is signed is what is read: genuine messages signed by the DCC's own tool, with a
comment injected into each field afterwards (the signature still verifies, since it covers
the comment-free canonical form), are read exactly as signed; a processing instruction, which
the canonical form keeps, refuses the message even when the DCC tool signed it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from duis import respond
from duis.errors import DuisError, XmlFormatError
from duis.keys import TrustStore
from duis.models import (
    DccAlert,
    FirmwareDeliveryStatus,
    InventoryDevice,
    Response,
    ResponseHeader,
    ResponseMessage,
)
from duis.parse import verify_response
from duis.requestid import RequestId
from duis.testing.samples import COMMS_HUB, DCC, DEVICE, SUPPLIER

from .dcc_tool import DccTool

BOXED = "dcc/boxed"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DS = "{http://www.w3.org/2000/09/xmldsig#}Signature"
RID = RequestId(SUPPLIER, DEVICE, 1772366400000)


def _alert_8f72() -> bytes:
    alert = respond.device_alert(0x8F72, DEVICE, SUPPLIER, 12, NOW, b"\x42" * 32)
    header = ResponseHeader(None, RequestId(DEVICE, SUPPLIER, 12), "I0", NOW)
    return etree.tostring(respond.response_element(Response("5.4", header, alert)))


def _future_dated_8f66() -> bytes:
    alert = respond.device_alert(0x8F66, DEVICE, SUPPLIER, 13, NOW)
    body = ResponseMessage("11.3", "11.3", future_dated_alert=alert)
    header = ResponseHeader(RID, RequestId(DEVICE, SUPPLIER, 13), "I0", NOW)
    return etree.tostring(respond.response_element(Response("5.4", header, body)))


def _n60() -> bytes:
    detail = FirmwareDeliveryStatus(RequestId(SUPPLIER, DCC, 1772366400001), COMMS_HUB,
                                    DEVICE, "0102", NOW, True)
    header = ResponseHeader(None, RequestId(DCC, SUPPLIER, 14), "I0", NOW)
    alert = DccAlert("N60", "FirmwareDeliveredToDevice", detail)
    return etree.tostring(respond.response_element(Response("5.4", header, alert)))


def _inventory() -> bytes:
    devices = (InventoryDevice(DEVICE, "ESME", "106C", "433100AC", "Commissioned", "00020130",
                               "Active", "Active", "4.2", "2.4GHz"),
               InventoryDevice(COMMS_HUB, "CHF", "106C", "0001", "Commissioned", "00010001"))
    body = ResponseMessage("8.2", "8.2", inventory=devices)
    header = ResponseHeader(RequestId(SUPPLIER, DCC, 1772366400002),
                            RequestId(DCC, SUPPLIER, 15), "I0", NOW)
    return etree.tostring(respond.response_element(Response("5.4", header, body)))


def _reference(name: str) -> Callable[[Path], bytes]:
    return lambda reference: (reference / BOXED / name).read_bytes()


MESSAGES: dict[str, Callable[[Path], bytes]] = {
    "0x8F72 device alert": lambda _: _alert_8f72(),
    "0x8F66 future-dated alert": lambda _: _future_dated_8f66(),
    "N60 DCC alert": lambda _: _n60(),
    "DCC Boxed 11.2 response": _reference("readfw-response.xml"),
    "8.2 inventory": lambda _: _inventory(),
}


def _unsigned(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    for signature in root.findall(DS):
        root.remove(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _sign(tool: DccTool, reference: Path, tmp_path: Path, name: str, xml: bytes) -> bytes:
    path = tmp_path / f"{name.replace(' ', '-')}.xml"
    path.write_bytes(_unsigned(xml))
    return tool.sign(path, reference / BOXED / "Z1-accessControlBroker-dSPXmlSign.pem",
                     reference / BOXED / "dsp-xml-sign-90B3D51F30000002-ds.key.pem")


def _fields(signed: bytes) -> int:
    """How many elements carry text (each a place to inject into)."""
    root = etree.fromstring(signed)
    return sum(1 for e in root.iter() if isinstance(e.tag, str) and (e.text or "").strip())


def _injected(signed: bytes, index: int, node: Callable[[], etree._Element],
              at_start: bool) -> tuple[str, bytes]:
    """The signed bytes with `node` inside the text of the index-th text-bearing element."""
    root = etree.fromstring(signed)
    element = [e for e in root.iter() if isinstance(e.tag, str) and (e.text or "").strip()][index]
    text = element.text or ""
    cut = 0 if at_start else len(text) // 2
    element.text, inserted = text[:cut], node()
    inserted.tail = text[cut:]
    element.insert(0, inserted)
    name = etree.QName(element).localname
    return name, etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def genuine(dcc_tool: DccTool, reference: Path,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Each message signed by the DCC Boxed tool with the DCC Boxed key."""
    out = tmp_path_factory.mktemp("signed")
    return {name: _sign(dcc_tool, reference, out, name, make(reference))
            for name, make in MESSAGES.items()}


@pytest.fixture(scope="module")
def trust(reference: Path) -> TrustStore:
    """The current DCC Boxed signing certificate."""
    return TrustStore.from_files([reference / BOXED / "Z1-accessControlBroker-dSPXmlSign.pem"])


def test_a_comment_in_any_field_of_a_genuine_message_is_read_as_signed(
        genuine: dict[str, bytes], trust: TrustStore) -> None:
    """Every text field of five DCC-tool-signed messages (device alert, future-dated alert,
    N60, DCC Boxed 11.2 answer, 8.2 inventory), a comment at its start or in its middle: the
    signature verifies and every value reads exactly as in the message the DCC signed."""
    tried = 0
    for name, signed in genuine.items():
        expected = verify_response(signed, trust)
        for index in range(_fields(signed)):
            for at_start in (True, False):
                field, tampered = _injected(signed, index, lambda: etree.Comment("x"),
                                            at_start)
                try:
                    got = verify_response(tampered, trust)
                except DuisError as err:  # refusing is allowed; reading differently is not
                    pytest.fail(f"{name}: comment in {field} refused: {err}")
                assert got == expected, f"{name}: comment in {field} changed what is read"
                tried += 1
    assert tried >= 2 * 60


def test_the_alert_code_of_the_issue_reads_as_0x8f72(genuine: dict[str, bytes],
                                                      trust: TrustStore) -> None:
    """The attack in the report: `8F<!--x-->72` in AlertCode is 0x8F72, not 0x008F, and a
    comment in ResponseID does not shorten it."""
    signed = genuine["0x8F72 device alert"]
    tampered = signed.replace(b">8F72<", b">8F<!--x-->72<")
    assert tampered != signed
    assert verify_response(tampered, trust).body.alert_code == 0x8F72  # type: ignore[union-attr]
    root = etree.fromstring(signed)
    response_id = root.find(".//{*}ResponseID")
    assert response_id is not None and response_id.text
    cut = response_id.text.replace(":", ":<!--x-->", 1).encode()
    tampered = signed.replace(response_id.text.encode(), cut)
    assert str(verify_response(tampered, trust).header.response_id) == response_id.text


def test_a_processing_instruction_refuses_the_message_even_when_the_dcc_signed_it(
        dcc_tool: DccTool, reference: Path, tmp_path: Path, trust: TrustStore) -> None:
    """A processing instruction is part of the signed canonical form, so it cannot be read
    around: a DCC-tool-signed alert with one in AlertCode or ResponseID is refused, and so
    is one injected into a genuine message after signing."""
    unsigned = _alert_8f72()
    for field in ("AlertCode", "ResponseID"):
        root = etree.fromstring(unsigned)
        element = root.find(f".//{{*}}{field}")
        assert element is not None
        pi = etree.ProcessingInstruction("x", "y")
        pi.tail, element.text = element.text, ""
        element.insert(0, pi)
        signed = _sign(dcc_tool, reference, tmp_path, f"pi-{field}", etree.tostring(root))
        assert b"<?x y?>" in signed
        with pytest.raises(XmlFormatError, match="processing instruction"):
            verify_response(signed, trust)
    genuine = _sign(dcc_tool, reference, tmp_path, "plain", unsigned)
    _, tampered = _injected(genuine, 2, lambda: etree.ProcessingInstruction("x", "y"), False)
    with pytest.raises(XmlFormatError, match="processing instruction"):
        verify_response(tampered, trust)
