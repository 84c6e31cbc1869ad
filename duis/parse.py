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


def _update(body: etree._Element, rid: RequestId, _: datetime | None) -> Request:
    return UpdateFirmware(
        rid,
        x.b64(x.text(body, "FirmwareImage"), "FirmwareImage"),
        x.text(body, "FirmwareVersion"),
        x.eui_list(x.text(body, "DeviceIDList"), "DeviceIDList"),
        x.local(body) == "UpdatePPMIDFirmware",
    )


def _activate(body: etree._Element, rid: RequestId, when: datetime | None) -> Request:
    return ActivateFirmware(rid, x.hex_bytes(x.text(body, "FirmwareHash"), "FirmwareHash"), when)


def _signed(body: etree._Element, rid: RequestId, when: datetime | None) -> Request:
    return SignedPreCommand(rid, x.b64(x.text(body, "GBCSPayload"), "GBCSPayload"), when)


_REQUEST_READERS: dict[str, Callable[[etree._Element, RequestId, datetime | None], Request]] = {
    "UpdateFirmware": _update,
    "UpdatePPMIDFirmware": _update,
    "ActivateFirmware": _activate,
    "SignedPreCommand": _signed,
    "ReadInventory": lambda body, rid, _: ReadInventory(rid, x.eui(body, "DeviceID")),
    "ReadFirmwareVersion": lambda body, rid, _: ReadFirmwareVersion(rid),
}


def _request_body(body: etree._Element, rid: RequestId) -> Request:
    at = body.findtext(x.q("ExecutionDateTime"))
    when = x.timestamp(at.strip(), "ExecutionDateTime") if at is not None else None
    return _REQUEST_READERS[x.local(body)](body, rid, when)


def parse_request(
    data: bytes | etree._Element, max_bytes: int = MAX_DOCUMENT_BYTES
) -> ParsedRequest:
    """Parse an sr:Request for one of the firmware service requests."""
    root = _root(data, "Request", max_bytes)
    header = x.child(root, "Header")
    body = x.only_child(x.child(root, "Body"))
    sr = SR_BY_BODY.get(x.local(body))
    if sr is None:
        raise MessageStructureError(f"unsupported request body sr:{x.local(body)}")
    reference, variant = (
        x.text(header, "ServiceReference"),
        x.text(header, "ServiceReferenceVariant"),
    )
    cv = x.integer(x.text(header, "CommandVariant"), "CommandVariant")
    if (reference, variant, cv) != (sr.service_reference, sr.variant, int(sr.command_variant)):
        raise MessageStructureError(
            f"sr:{sr.body_element} needs SR {sr.service_reference} variant {sr.variant} "
            f"CommandVariant {int(sr.command_variant)}, got {reference} {variant} {cv}"
        )
    rid = x.request_id(x.text(header, "RequestID"), "RequestID")
    request = _request_body(body, rid)
    return ParsedRequest(
        root.get("schemaVersion", ""), cv, request, find_signature(root) is not None
    )


def _header(header: etree._Element) -> ResponseHeader:
    rid, resp = x.opt_text(header, "RequestID"), x.opt_text(header, "ResponseID")
    return ResponseHeader(
        x.request_id(rid, "RequestID") if rid else None,
        x.request_id(resp, "ResponseID") if resp else None,
        x.text(header, "ResponseCode"),
        x.timestamp(x.text(header, "ResponseDateTime"), "ResponseDateTime"),
    )


def _warnings(element: etree._Element) -> FirmwareWarnings:
    lists = [x.eui_list(x.opt_text(element, name), name) for name in WARNING_LISTS]
    return FirmwareWarnings(*lists)


def _inventory_device(d: etree._Element) -> InventoryDevice:
    o = x.opt_text
    return InventoryDevice(
        x.eui(d, "DeviceID"),
        x.text(d, "DeviceType"),
        x.text(d, "DeviceManufacturer"),
        x.text(d, "DeviceModel"),
        o(d, "DeviceStatus"),
        o(d, "DeviceFirmwareVersion"),
        o(d, "DeviceFirmwareVersionStatus"),
        o(d, "CPLStatus"),
        o(d, "DeviceGBCSVersion"),
        o(d, "HANVariant"),
        o(d, "SMETSCHTSVersion"),
    )


def _response_message(m: etree._Element) -> ResponseMessage:
    reference, variant = x.text(m, "ServiceReference"), x.text(m, "ServiceReferenceVariant")
    extra: dict[str, object] = {}
    if (payload := x.opt_text(m, "GBCSPayload")) is not None:
        extra["gbcs_payload"] = raw = x.b64(payload, "GBCSPayload")
        extra.update(response_facts(reference, raw))
    if (w := m.find(x.q(WARNING_ELEMENTS.get(reference, "-")))) is not None:
        extra["warnings"] = _warnings(w)
    if (inv := m.find(x.q("DSPInventory"))) is not None:
        extra["inventory"] = tuple(_inventory_device(d) for d in inv.findall(x.q("Device")))
    if (pre := m.find(x.q("PreCommand"))) is not None:
        extra["pre_command"] = PreCommand(
            x.text(pre, "GBCSVersion"), x.b64(x.text(pre, "GBCSPayload"), "GBCSPayload")
        )
    if (future := m.find(x.q("FutureDatedDeviceAlertMessage"))) is not None:
        extra["future_dated_alert"] = _device_alert(future, "FutureDatedAlertCode")
    # each optional field by name, with its field's type (built above); mypy cannot see it
    return ResponseMessage(reference, variant, **extra)  # type: ignore[arg-type]


def _device_alert(m: etree._Element, code_element: str = "AlertCode") -> DeviceAlert:
    code = int.from_bytes(x.hex_bytes(x.text(m, code_element), code_element), "big")
    return device_alert(code, x.b64(x.text(m, "GBCSPayload"), "GBCSPayload"))


def _delivery(e: etree._Element) -> FirmwareDeliveryStatus:
    return FirmwareDeliveryStatus(
        x.request_id(x.text(e, "UpdateFirmwareRequestID"), "UpdateFirmwareRequestID"),
        x.eui(e, "CommsHubDeviceID"),
        x.eui(e, "TargetDeviceID"),
        x.text(e, "FirmwareVersion"),
        x.timestamp(x.text(e, "TimeStamp"), "TimeStamp"),
        x.text(e, "CommsHubTransferStatus") == "Success",
    )


def _distribution(e: etree._Element) -> FirmwareDistributionFailure:
    return FirmwareDistributionFailure(
        x.request_id(x.text(e, "UpdateFirmwareRequestID"), "UpdateFirmwareRequestID"),
        x.eui_list(x.text(e, "MeterIDs"), "MeterIDs"),
    )


def _quarantine(e: etree._Element) -> QuarantinedRequest:
    breach = x.only_child(e)
    return QuarantinedRequest(
        x.local(breach),
        x.request_id(x.text(breach, "RequestID"), "RequestID"),
        x.integer(x.text(breach, "QuarantineEventRef"), "QuarantineEventRef"),
    )


def _mismatch(e: etree._Element) -> FirmwareVersionMismatch:
    return FirmwareVersionMismatch(
        x.eui(e, "DeviceID"),
        x.text(e, "DeviceType"),
        x.text(e, "FirmwareVersionSMI"),
        x.text(e, "FirmwareVersionDevice"),
    )


_DCC_DETAILS: dict[str, Callable[[etree._Element], DccAlertDetail]] = {
    "CSPFirmwareDeliveryStatus": _delivery,
    "FirmwareDistributionFailure": _distribution,
    "QuarantinedRequest": _quarantine,
    "FirmwareVersionMismatch": _mismatch,
}


def _dcc_alert(m: etree._Element) -> DccAlert:
    code = x.text(m, "DCCAlertCode")
    detail = x.only_child(x.child(m, "DCCAlert"))
    reader = _DCC_DETAILS.get(x.local(detail), _other_dcc_alert)
    return DccAlert(code, DCC_ALERT_NAMES.get(code, code), reader(detail))


def _other_dcc_alert(detail: etree._Element) -> DccAlertDetail:
    return OtherDccAlert(x.local(detail))


_BODIES: dict[str, Callable[[etree._Element], ResponseMessage | DeviceAlert | DccAlert]] = {
    "ResponseMessage": _response_message,
    "DeviceAlertMessage": _device_alert,
    "DCCAlertMessage": _dcc_alert,
}


def parse_response(data: bytes | etree._Element, max_bytes: int = MAX_DOCUMENT_BYTES) -> Response:
    """Parse an sr:Response (service response, device alert or DCC alert); no signature check."""
    root = _root(data, "Response", max_bytes)
    body = x.only_child(x.child(root, "Body"))
    reader = _BODIES.get(x.local(body))
    if reader is None:
        raise MessageStructureError(f"unsupported response body sr:{x.local(body)}")
    return Response(
        root.get("schemaVersion", ""),
        _header(x.child(root, "Header")),
        reader(body),
        find_signature(root) is not None,
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
    return parse_response(root), signature


def verify_request(
    data: bytes, trust: TrustStore, at: datetime | None = None, max_bytes: int = MAX_DOCUMENT_BYTES
) -> ParsedRequest:
    """Verify a User's signature (required) and parse the request (the DSP's view)."""
    root = parse_xml(data, max_bytes)
    verify_document(root, trust, at)
    return parse_request(root)


__all__ = ["DuisError", "parse_request", "parse_response", "verify_request", "verify_response",
           "verify_signed_response"]
