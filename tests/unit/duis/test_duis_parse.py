"""Parsing responses, alerts and requests; hostile and malformed input gives typed errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from duis import build, respond
from duis.codes import ActivationResult, ResponseKind
from duis.errors import (
    DuisError,
    MessageStructureError,
    SignatureMissingError,
    XmlFormatError,
)
from duis.keys import TrustStore
from duis.models import (
    DccAlert,
    FirmwareDeliveryStatus,
    FirmwareDistributionFailure,
    FirmwareVersionMismatch,
    FirmwareWarnings,
    InventoryDevice,
    PreCommand,
    QuarantinedRequest,
    ReadInventory,
    Response,
    ResponseHeader,
    ResponseMessage,
)
from duis.parse import parse_request, parse_response, verify_request, verify_response
from duis.requestid import RequestId
from duis.testing.pki import Pki
from duis.testing.samples import COMMS_HUB, DCC, DEVICE, SUPPLIER

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RID = RequestId(SUPPLIER, DCC, 77)
HEADER = ResponseHeader(RID, RequestId(DCC, SUPPLIER, 77), "I0", NOW)
D2 = "00-DB-12-34-56-78-90-A1"


def _round_trip(pki: Pki, response: Response) -> Response:
    signed = respond.sign_response(response, pki.dcc_xml.identity)
    return verify_response(signed, TrustStore.of([pki.dcc_xml.certificate]))


def test_warning_lists_are_read_back(pki: Pki) -> None:
    """Every 11.1 warning list survives building, signing and parsing."""
    warnings = FirmwareWarnings((DEVICE,), (D2,), (), (COMMS_HUB,), ())
    got = _round_trip(
        pki,
        Response(
            "5.4",
            ResponseHeader(RID, None, "W110101", NOW),
            ResponseMessage("11.1", "11.1", warnings=warnings),
        ),
    )
    assert got.body == ResponseMessage("11.1", "11.1", warnings=warnings)
    assert got.header.kind is ResponseKind.WARNING and got.signed
    assert got.body.warnings.rejected == {DEVICE, D2, COMMS_HUB}


def test_ppmid_warning_list_uses_its_own_element(pki: Pki) -> None:
    """11.4 warnings are written as DSPUpdatePPMIDFirmwareWarning and read back."""
    response = Response(
        "5.4", HEADER, ResponseMessage("11.4", "11.4", warnings=FirmwareWarnings((DEVICE,)))
    )
    assert b"DSPUpdatePPMIDFirmwareWarning" in respond.sign_response(response, pki.dcc_xml.identity)
    assert _round_trip(pki, response).body.warnings == FirmwareWarnings((DEVICE,))


def test_inventory_devices_are_read_back(pki: Pki) -> None:
    """8.2 devices keep type, status, versions and CPL status."""
    device = InventoryDevice(
        DEVICE,
        "ESME",
        "106C",
        "433100AC",
        "Commissioned",
        "0002012F",
        "Active",
        "Active",
        "4.2",
        "2.4 GHz Only",
        "5",
    )
    got = _round_trip(
        pki, Response("5.4", HEADER, ResponseMessage("8.2", "8.2", inventory=(device,)))
    )
    assert got.body.inventory == (device,)


def test_firmware_version_and_activation_result_are_decoded(pki: Pki) -> None:
    """11.2 responses yield the version; 11.3 responses the activation result."""
    read = respond.device_response_payload(DEVICE, RID, 5, b"\x00\x02\x01\x2f")
    act = respond.device_response_payload(DEVICE, RID, 6, 2)
    got = _round_trip(
        pki, Response("5.4", HEADER, ResponseMessage("11.2", "11.2", gbcs_payload=read))
    )
    assert got.body.firmware_version == "0002012F"
    got = _round_trip(
        pki, Response("5.4", HEADER, ResponseMessage("11.3", "11.3", gbcs_payload=act))
    )
    assert got.body.activation_result is ActivationResult.HASH_MISMATCH


def test_pre_command_is_read_back(pki: Pki) -> None:
    """An 11.3 CV4 response carries the pre-command to sign."""
    pre = PreCommand("4.2", b"\xdf\x01\x02")
    got = _round_trip(
        pki, Response("5.4", HEADER, ResponseMessage("11.3", "11.3", pre_command=pre))
    )
    assert got.body.pre_command == pre


def test_device_alert_carries_the_computed_hash(pki: Pki) -> None:
    """A 0x8F72 alert gives the device, time and the hash it computed."""
    alert = respond.device_alert(0x8F72, DEVICE, SUPPLIER, 12, NOW, b"\x42" * 32)
    got = _round_trip(
        pki,
        Response("5.4", ResponseHeader(None, RequestId(DEVICE, SUPPLIER, 12), "I0", NOW), alert),
    )
    assert got.body == alert and got.body.name == "FirmwareVerificationSuccessful"


@pytest.mark.parametrize("code", [0x8F1C, 0x8F66, 0x8F67, 0x8F8A, 0x8F89, 0x8F8B])
def test_other_firmware_alerts_are_named(pki: Pki, code: int) -> None:
    """Each firmware device alert code parses with its name."""
    alert = respond.device_alert(
        code, DEVICE, SUPPLIER, 1, NOW, b"\x01" * 32 if code == 0x8F1C else None
    )
    got = _round_trip(pki, Response("5.4", HEADER, alert))
    assert got.body.alert_code == code and not got.body.name.startswith("Alert")


@pytest.mark.parametrize(
    "alert",
    [
        DccAlert(
            "N60",
            "FirmwareDeliveredToDevice",
            FirmwareDeliveryStatus(RID, COMMS_HUB, DEVICE, "0102", NOW, True),
        ),
        DccAlert(
            "N61",
            "FirmwareDeliveryToDeviceFailed",
            FirmwareDeliveryStatus(RID, COMMS_HUB, DEVICE, "0102", NOW, False),
        ),
        DccAlert(
            "N61", "FirmwareDeliveryToDeviceFailed", FirmwareDistributionFailure(RID, (DEVICE, D2))
        ),
        DccAlert("AD1", "QuarantinedRequest", QuarantinedRequest("ADUserThresholdBreach", RID, 99)),
        DccAlert("N999", "N999", FirmwareVersionMismatch(DEVICE, "ESME", "0101", "0102")),
    ],
)
def test_dcc_alerts_round_trip(pki: Pki, alert: DccAlert) -> None:
    """DCC alerts come back with their typed detail."""
    assert _round_trip(pki, Response("5.4", HEADER, alert)).body == alert


def test_unsigned_response_is_refused_when_verifying(pki: Pki) -> None:
    """verify_response requires the DCC signature."""
    unsigned = etree.tostring(
        respond.response_element(Response("5.4", HEADER, ResponseMessage("8.2", "8.2")))
    )
    assert parse_response(unsigned).signed is False
    with pytest.raises(SignatureMissingError):
        verify_response(unsigned, TrustStore.of([pki.dcc_xml.certificate]))


def test_request_round_trip_through_the_dsp_view(pki: Pki) -> None:
    """The simulator's verify_request returns the request we built."""
    request = ReadInventory(RequestId(SUPPLIER, DCC, 3), DEVICE)
    parsed = verify_request(
        build.sign_request(request, pki.supplier_xml.identity),
        TrustStore.of([pki.supplier_xml.certificate]),
    )
    assert parsed.request == request and parsed.command_variant == 8 and parsed.signed


HOSTILE = {
    "doctype": b"<!DOCTYPE r [<!ELEMENT r ANY>]><r/>",
    "billion_laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<lolz>&lol3;</lolz>",
    "external_entity": b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "undeclared_entity": b"<r>&x;</r>",
    "not_xml": b"hello",
    "empty": b"",
    "wrong_namespace": b'<sr:Response xmlns:sr="urn:other" schemaVersion="5.4"/>',
    "wrong_root": b'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"'
    b' schemaVersion="5.4"/>',
    "no_body": b'<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"'
    b' schemaVersion="5.4"><sr:Header><sr:ResponseCode>I0</sr:ResponseCode>'
    b"<sr:ResponseDateTime>2025-01-01T00:00:00Z</sr:ResponseDateTime></sr:Header>"
    b"</sr:Response>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_and_malformed_input_gives_typed_errors(name: str) -> None:
    """DOCTYPEs, entities, garbage and wrong structure raise XmlFormatError subclasses."""
    with pytest.raises(XmlFormatError) as info:
        parse_response(HOSTILE[name])
    assert str(info.value)


def test_missing_element_is_named_in_the_error() -> None:
    """The error says which element is missing."""
    with pytest.raises(MessageStructureError, match="sr:Body"):
        parse_response(HOSTILE["no_body"])


def test_oversized_input_is_refused_before_parsing() -> None:
    """Input over the size limit is refused."""
    with pytest.raises(XmlFormatError, match="limit"):
        parse_response(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)


def test_request_with_mismatched_command_variant_is_refused(pki: Pki) -> None:
    """An 11.3 ActivateFirmware claiming CommandVariant 1 is a structure error."""
    xml = build.to_xml(build.activate_firmware(RequestId(SUPPLIER, DEVICE, 1), "ab" * 32))
    with pytest.raises(MessageStructureError, match="CommandVariant"):
        parse_request(xml.replace(b"<sr:CommandVariant>4<", b"<sr:CommandVariant>1<"))


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_duis_errors(data: bytes) -> None:
    """Random bytes raise only DuisError subclasses."""
    for parse in (parse_response, parse_request):
        try:
            parse(data)
        except DuisError:
            pass


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_valid_responses_only_raise_duis_errors(pki: Pki, data: st.DataObject) -> None:
    """Deleting or rewriting any element of a valid response yields a model or a DuisError."""
    warnings = FirmwareWarnings((DEVICE,), (D2,))
    root = respond.response_element(
        Response("5.4", HEADER, ResponseMessage("11.1", "11.1", warnings=warnings))
    )
    nodes = list(root.iter())[1:]
    victim = data.draw(st.sampled_from(nodes))
    if data.draw(st.booleans()):
        victim.getparent().remove(victim)
    else:
        victim.text = data.draw(
            st.text(max_size=30).filter(
                lambda t: "\x00" not in t and all(c.isprintable() for c in t)
            )
        )
    try:
        parse_response(etree.tostring(root))
    except DuisError:
        pass
