"""Parse untrusted DUIS requests, responses and alerts into typed models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from duis import xmlread as x
from duis.codes import (
    DCC_ALERT_NAMES,
    SR_BY_BODY,
    WARNING_ELEMENTS,
    WARNING_LISTS,
)
from duis.errors import DuisError, MessageStructureError
from duis.facts import device_alert, response_facts
from duis.keys import TrustStore
from duis.models import (
    ActivateFirmware,
    DccAlert,
    DccAlertDetail,
    DeviceAlert,
    FirmwareDeliveryStatus,
    FirmwareDistributionFailure,
    FirmwareVersionMismatch,
    FirmwareWarnings,
    InventoryDevice,
    OtherDccAlert,
    ParsedRequest,
    PreCommand,
    QuarantinedRequest,
    ReadFirmwareVersion,
    ReadInventory,
    Request,
    Response,
    ResponseHeader,
    ResponseMessage,
    SignedPreCommand,
    UpdateFirmware,
)
from duis.requestid import RequestId
from duis.sign import VerifiedSignature, find_signature, verify_document
from duis.xmlsafe import MAX_DOCUMENT_BYTES, parse_xml


def _root(data: bytes | etree._Element, name: str, max_bytes: int) -> etree._Element:
    root = parse_xml(data, max_bytes) if isinstance(data, bytes) else data
    x.expect(root, name)
    if not root.get("schemaVersion"):
        raise MessageStructureError(f"sr:{name} lacks schemaVersion")
    return root


def _update(body: x.Fields, rid: RequestId, _: datetime | None) -> Request:
    return UpdateFirmware(
        rid,
        x.b64(body.text("FirmwareImage"), "FirmwareImage"),
        body.text("FirmwareVersion"),
        x.eui_list(body.text("DeviceIDList"), "DeviceIDList"),
        x.local(body.element) == "UpdatePPMIDFirmware",
    )


def _activate(body: x.Fields, rid: RequestId, when: datetime | None) -> Request:
    return ActivateFirmware(rid, x.hex_bytes(body.text("FirmwareHash"), "FirmwareHash"), when)


def _signed(body: x.Fields, rid: RequestId, when: datetime | None) -> Request:
    return SignedPreCommand(rid, x.b64(body.text("GBCSPayload"), "GBCSPayload"), when)


_REQUEST_READERS: dict[str, Callable[[x.Fields, RequestId, datetime | None], Request]] = {
    "UpdateFirmware": _update,
    "UpdatePPMIDFirmware": _update,
    "ActivateFirmware": _activate,
    "SignedPreCommand": _signed,
    "ReadInventory": lambda body, rid, _: ReadInventory(rid, body.eui("DeviceID")),
    "ReadFirmwareVersion": lambda body, rid, _: ReadFirmwareVersion(rid),
}


def _request_body(body: etree._Element, rid: RequestId) -> Request:
    fields = x.Fields(body)
    at = fields.opt("ExecutionDateTime")
    when = (x.timestamp((at.text or "").strip(), "ExecutionDateTime") if at is not None
            else None)
    return _REQUEST_READERS[x.local(body)](fields, rid, when)


def parse_request(
    data: bytes | etree._Element, max_bytes: int = MAX_DOCUMENT_BYTES
) -> ParsedRequest:
    """Parse an sr:Request for one of the firmware service requests."""
    root = _root(data, "Request", max_bytes)
    parts = x.Fields(root)
    header = x.Fields(parts.child("Header"))
    body = x.only_child(parts.child("Body"))
    sr = SR_BY_BODY.get(x.local(body))
    if sr is None:
        raise MessageStructureError(f"unsupported request body sr:{x.local(body)}")
    reference, variant = header.text("ServiceReference"), header.text("ServiceReferenceVariant")
    cv = x.integer(header.text("CommandVariant"), "CommandVariant")
    if (reference, variant, cv) != (sr.service_reference, sr.variant, int(sr.command_variant)):
        raise MessageStructureError(
            f"sr:{sr.body_element} needs SR {sr.service_reference} variant {sr.variant} "
            f"CommandVariant {int(sr.command_variant)}, got {reference} {variant} {cv}"
        )
    rid = x.request_id(header.text("RequestID"), "RequestID")
    request = _request_body(body, rid)
    return ParsedRequest(
        root.get("schemaVersion", ""), cv, request, find_signature(root) is not None
    )


def _header(header: x.Fields) -> ResponseHeader:
    rid, resp = header.opt_text("RequestID"), header.opt_text("ResponseID")
    return ResponseHeader(
        x.request_id(rid, "RequestID") if rid else None,
        x.request_id(resp, "ResponseID") if resp else None,
        header.text("ResponseCode"),
        x.timestamp(header.text("ResponseDateTime"), "ResponseDateTime"),
    )


def _warnings(element: etree._Element) -> FirmwareWarnings:
    fields = x.Fields(element)
    return FirmwareWarnings(*(x.eui_list(fields.opt_text(name), name) for name in WARNING_LISTS))


def _inventory_device(d: x.Fields) -> InventoryDevice:
    o = d.opt_text
    return InventoryDevice(
        d.eui("DeviceID"),
        d.text("DeviceType"),
        d.text("DeviceManufacturer"),
        d.text("DeviceModel"),
        o("DeviceStatus"),
        o("DeviceFirmwareVersion"),
        o("DeviceFirmwareVersionStatus"),
        o("CPLStatus"),
        o("DeviceGBCSVersion"),
        o("HANVariant"),
        o("SMETSCHTSVersion"),
    )


def _response_message(element: etree._Element) -> ResponseMessage:
    m = x.Fields(element)
    reference, variant = m.text("ServiceReference"), m.text("ServiceReferenceVariant")
    extra: dict[str, object] = {}
    if (payload := m.opt_text("GBCSPayload")) is not None:
        extra["gbcs_payload"] = raw = x.b64(payload, "GBCSPayload")
        extra.update(response_facts(reference, raw))
    if (w := m.opt(WARNING_ELEMENTS.get(reference, "-"))) is not None:
        extra["warnings"] = _warnings(w)
    if (inv := m.opt("DSPInventory")) is not None:
        extra["inventory"] = tuple(_inventory_device(x.Fields(d))
                                   for d in inv.iterchildren(x.q("Device")))
    if (pre_element := m.opt("PreCommand")) is not None:
        pre = x.Fields(pre_element)
        extra["pre_command"] = PreCommand(
            pre.text("GBCSVersion"), x.b64(pre.text("GBCSPayload"), "GBCSPayload")
        )
    if (future := m.opt("FutureDatedDeviceAlertMessage")) is not None:
        extra["future_dated_alert"] = _device_alert(future, "FutureDatedAlertCode")
    # each optional field by name, with its field's type (built above); mypy cannot see it
    return ResponseMessage(reference, variant, **extra)  # type: ignore[arg-type]


def _device_alert(element: etree._Element, code_element: str = "AlertCode") -> DeviceAlert:
    m = x.Fields(element)
    code = int.from_bytes(x.hex_bytes(m.text(code_element), code_element), "big")
    return device_alert(code, x.b64(m.text("GBCSPayload"), "GBCSPayload"))


def _delivery(e: etree._Element) -> FirmwareDeliveryStatus:
    f = x.Fields(e)
    return FirmwareDeliveryStatus(
        x.request_id(f.text("UpdateFirmwareRequestID"), "UpdateFirmwareRequestID"),
        f.eui("CommsHubDeviceID"),
        f.eui("TargetDeviceID"),
        f.text("FirmwareVersion"),
        x.timestamp(f.text("TimeStamp"), "TimeStamp"),
        f.text("CommsHubTransferStatus") == "Success",
    )


def _distribution(e: etree._Element) -> FirmwareDistributionFailure:
    f = x.Fields(e)
    return FirmwareDistributionFailure(
        x.request_id(f.text("UpdateFirmwareRequestID"), "UpdateFirmwareRequestID"),
        x.eui_list(f.text("MeterIDs"), "MeterIDs"),
    )


def _quarantine(e: etree._Element) -> QuarantinedRequest:
    breach = x.only_child(e)
    f = x.Fields(breach)
    return QuarantinedRequest(
        x.local(breach),
        x.request_id(f.text("RequestID"), "RequestID"),
        x.integer(f.text("QuarantineEventRef"), "QuarantineEventRef"),
    )


def _mismatch(e: etree._Element) -> FirmwareVersionMismatch:
    f = x.Fields(e)
    return FirmwareVersionMismatch(
        f.eui("DeviceID"),
        f.text("DeviceType"),
        f.text("FirmwareVersionSMI"),
        f.text("FirmwareVersionDevice"),
    )


_DCC_DETAILS: dict[str, Callable[[etree._Element], DccAlertDetail]] = {
    "CSPFirmwareDeliveryStatus": _delivery,
    "FirmwareDistributionFailure": _distribution,
    "QuarantinedRequest": _quarantine,
    "FirmwareVersionMismatch": _mismatch,
}


def _dcc_alert(element: etree._Element) -> DccAlert:
    m = x.Fields(element)
    code = m.text("DCCAlertCode")
    detail = x.only_child(m.child("DCCAlert"))
    reader = _DCC_DETAILS.get(x.local(detail), _other_dcc_alert)
    return DccAlert(code, DCC_ALERT_NAMES.get(code, code), reader(detail))


def _other_dcc_alert(detail: etree._Element) -> DccAlertDetail:
    return OtherDccAlert(x.local(detail))


_BODIES: dict[str, Callable[[etree._Element], ResponseMessage | DeviceAlert | DccAlert]] = {
    "ResponseMessage": _response_message,
    "DeviceAlertMessage": _device_alert,
    "DCCAlertMessage": _dcc_alert,
}


def parse_response(data: bytes | etree._Element, max_bytes: int = MAX_DOCUMENT_BYTES,
                   signed: bool | None = None) -> Response:
    """Parse an sr:Response (service response, device alert or DCC alert); no signature check.
    `signed`: whether it carries a signature, when the caller knows (it verified one)."""
    root = _root(data, "Response", max_bytes)
    parts = x.Fields(root)
    body = x.only_child(parts.child("Body"))
    reader = _BODIES.get(x.local(body))
    if reader is None:
        raise MessageStructureError(f"unsupported response body sr:{x.local(body)}")
    return Response(
        root.get("schemaVersion", ""),
        _header(x.Fields(parts.child("Header"))),
        reader(body),
        find_signature(root) is not None if signed is None else signed,
    )


def verify_response(
    data: bytes | etree._Element, trust: TrustStore, at: datetime | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Response:
    """Verify the DCC signature (required) and parse the response; one parse of the input
    (none when given the parsed document)."""
    return verify_signed_response(data, trust, at, max_bytes)[0]


def verify_signed_response(
    data: bytes | etree._Element, trust: TrustStore, at: datetime | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> tuple[Response, VerifiedSignature]:
    """`verify_response`, with the verified signature (signer, signed-content digest)."""
    root = parse_xml(data, max_bytes) if isinstance(data, bytes) else data
    signature = verify_document(root, trust, at)
    return parse_response(root, signed=True), signature


def verify_request(
    data: bytes, trust: TrustStore, at: datetime | None = None, max_bytes: int = MAX_DOCUMENT_BYTES
) -> ParsedRequest:
    """Verify a User's signature (required) and parse the request (the DSP's view)."""
    root = parse_xml(data, max_bytes)
    verify_document(root, trust, at)
    return parse_request(root)


__all__ = ["DuisError", "parse_request", "parse_response", "verify_request", "verify_response",
           "verify_signed_response"]
