"""Inbound: RTDS-shaped GBCS payloads in every placement become the right job outcomes."""
from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from duis import gbcs, respond
from duis.facts import device_alert
from duis.models import Response, ResponseHeader, ResponseMessage
from duis.parse import parse_response
from duis.requestid import RequestId
from orchestrator.service.inbound import UnknownMessageError, outcomes_of

SUP, DCC = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
ESME, GSME, HUB, PPMID = (f"00-DB-12-34-56-78-90-{x}" for x in ("A0", "A1", "A2", "A4"))
AT = dt.datetime(2030, 1, 15, 9, tzinfo=dt.UTC)
RID = RequestId(SUP, ESME, 1000)


def _through_xml(body: object, rid: RequestId | None = None) -> Response:
    header = ResponseHeader(rid, RequestId(DCC, SUP, 7), "I0", AT)
    xml = etree.tostring(respond.response_element(Response("5.4", header, body)))  # type: ignore[arg-type]
    return parse_response(xml)


def _alert(code: int, payload: bytes) -> Response:
    return _through_xml(device_alert(code, payload))


def _kinds(response: Response) -> list[tuple[str, str, str | None]]:
    return [(d, o.kind, o.firmware_hash) for d, o in outcomes_of(response)]


def _dated(code: int, result: int) -> bytes:
    alert = gbcs.FutureDatedActivationAlert(code, AT, 1000, result, "0123ABCF")
    return gbcs.encode_future_dated_alert(2000, ESME, SUP, alert)


def test_fdra_dlms_and_gbz_deliver_with_the_hash_after_the_time() -> None:
    """0x00CE and 0x00CF: the step is delivered with the hash the device computed."""
    dlms = gbcs.encode_fdra(1, ESME, SUP, gbcs.FirmwareDistributionReceipt(0x8F72, AT, b"\x01" * 32))
    zigbee = gbcs.encode_fdra(2, GSME, SUP, gbcs.FirmwareDistributionReceipt(0x8F72, AT, b"\xa1" * 32),
                              gbz_format=True)
    assert _kinds(_alert(0x8F72, dlms)) == [(ESME, "delivered", "01" * 32)]
    assert _kinds(_alert(0x8F72, zigbee)) == [(GSME, "delivered", "a1" * 32)]


@pytest.mark.parametrize("code,result,kind", [(0x8F66, 0, "activated"),
                                              (0x8F67, 2, "activation_failed"),
                                              (0x8F67, 1, "no_image_held")])
def test_future_dated_alerts_apply_in_both_placements(code: int, result: int, kind: str) -> None:
    """0x8F66/0x8F67 as DeviceAlertMessage and as ResponseMessage/FutureDatedDeviceAlertMessage."""
    payload = _dated(code, result)
    as_alert = _alert(code, payload)
    in_response = _through_xml(ResponseMessage("11.3", "11.3",
                                               future_dated_alert=device_alert(code, payload)), RID)
    assert isinstance(in_response.body, ResponseMessage)
    assert in_response.body.future_dated_alert is not None
    assert _kinds(as_alert) == _kinds(in_response) == [(ESME, kind, None)]
    without_rid = _through_xml(ResponseMessage("11.3", "11.3",
                                               future_dated_alert=device_alert(code, payload)))
    assert _kinds(without_rid) == [(ESME, kind, None)]


def test_ccs08_applies_to_the_ppmid_not_the_hub() -> None:
    """0x8F8A from the hub delivers the PPMID's step; a non-zero status is a failed delivery."""
    ok = gbcs.FirmwareTransferAlert(0x8F8A, AT, PPMID, "0123ABCD", 0)
    bad = gbcs.FirmwareTransferAlert(0x8F8A, AT, PPMID, "0123ABCD", 1)
    assert _kinds(_alert(0x8F8A, gbcs.encode_transfer_alert(1, HUB, DCC, ok))) == [
        (PPMID, "delivered", None)]
    assert _kinds(_alert(0x8F8A, gbcs.encode_transfer_alert(2, HUB, DCC, bad))) == [
        (PPMID, "delivery_failed", None)]


def test_cs09_activates_the_ppmid() -> None:
    """0x8F8B result 0 is an activation; another result is a failed one."""
    for result, kind in ((0, "activated"), (3, "activation_failed")):
        alert = gbcs.PpmidActivationAlert(0x8F8B, AT, "1234ABCD", result)
        payload = gbcs.encode_ppmid_activation_alert(5, PPMID, DCC, alert)
        assert _kinds(_alert(0x8F8B, payload)) == [(PPMID, kind, None)]


def test_cs06_responses_activate_or_wait_for_the_alert() -> None:
    """Immediate result 0 activates, result 1 is no image; NULL (future-dated) waits for 0x8F66."""
    def answer(result: int | None) -> Response:
        payload = gbcs.encode_activation_response(1000, ESME, SUP, AT, result, "0123ABCE")
        return _through_xml(ResponseMessage("11.3", "11.3", gbcs_payload=payload), RID)
    assert _kinds(answer(0)) == [(ESME, "activated", None)]
    assert _kinds(answer(1)) == [(ESME, "no_image_held", None)]
    assert _kinds(answer(None)) == []


@pytest.mark.parametrize("use_case", ["ECS52", "GCS38", "CS08"])
def test_read_backs_of_every_device_kind_report_the_version(use_case: str) -> None:
    """11.2 for ESME/CH, GSME and PPMID/HCALCS: the version, or a device error that retries."""
    def answer(version: str | None, result: int) -> Response:
        payload = gbcs.encode_firmware_version_response(use_case, 1000, ESME, SUP, version, result)
        return _through_xml(ResponseMessage("11.2", "11.2", gbcs_payload=payload), RID)
    [(device, read)] = outcomes_of(answer("0123ABCD", 0))
    assert (device, read.kind, read.firmware_version) == (ESME, "version_read", "0123ABCD")
    assert _kinds(answer(None, 1)) == [(ESME, "comms_failure", None)]


def test_an_undecodable_alert_is_quarantined_with_the_reason() -> None:
    """A payload that does not decode, or names another alert code, is not applied."""
    with pytest.raises(UnknownMessageError, match="truncated|GBCS"):
        outcomes_of(_alert(0x8F72, b"\xdf\x09\x03"))
    with pytest.raises(UnknownMessageError, match="carries alert"):
        outcomes_of(_alert(0x8F66, _dated(0x8F67, 2)))
