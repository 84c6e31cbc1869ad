"""The DCC side: turn Response models into (signed) sr:Response XML, for the DSP simulator."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable
from datetime import datetime

from lxml import etree

from duis.build import c14n_escape, format_datetime
from duis.codes import (
    DCC_EUI,
    SCHEMA_VERSION,
    SR_NS,
    WARNING_ELEMENTS,
    WARNING_LISTS,
    ActivationResult,
)
from duis.errors import RequestBuildError
from duis.facts import device_alert as alert_from_payload
from duis.gbcs import (
    FirmwareDistributionReceipt,
    FirmwareTransferAlert,
    FutureDatedActivationAlert,
    PpmidActivationAlert,
    encode_activation_response,
    encode_fdra,
    encode_firmware_version_response,
    encode_future_dated_alert,
    encode_ppmid_activation_alert,
    encode_transfer_alert,
)
from duis.models import (
    DccAlert,
    DeviceAlert,
    FirmwareDeliveryStatus,
    FirmwareDistributionFailure,
    FirmwareVersionMismatch,
    FirmwareWarnings,
    InventoryDevice,
    OtherDccAlert,
    QuarantinedRequest,
    Response,
    ResponseHeader,
    ResponseMessage,
)
from duis.requestid import RequestId
from duis.sign import SigningIdentity, sign_canonical

_ROOT_OPEN = f'<sr:Response xmlns:sr="{SR_NS}" schemaVersion="{{}}">'
# characters XML 1.0 cannot carry (lxml refuses them too)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Node:
    """One sr: element of a response being written: its text or its children."""

    __slots__ = ("children", "name", "text")

    def __init__(self, name: str, text: str | None = None) -> None:
        self.name, self.text = name, text
        self.children: list[_Node] = []

    def write(self, out: list[str]) -> None:
        """Append this element in inclusive C14N form (no attributes, no namespace of its
        own: the root declares sr)."""
        out.append(f"<sr:{self.name}>")
        if self.text:
            out.append(_c14n_text(self.text))
        for child in self.children:
            child.write(out)
        out.append(f"</sr:{self.name}>")


def _c14n_text(text: str) -> str:
    if _NOT_XML.search(text):
        raise RequestBuildError(f"text is not XML-compatible: {text[:40]!r}")
    return c14n_escape(text)


def _c14n_attribute(value: str) -> str:
    if _NOT_XML.search(value):
        raise RequestBuildError(f"attribute is not XML-compatible: {value[:40]!r}")
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), ('"', "&quot;"), ("\t", "&#x9;"),
                         ("\n", "&#xA;"), ("\r", "&#xD;")):
        value = value.replace(raw, escaped)
    return value


def _add(parent: _Node, name: str, text: str | None = None) -> _Node:
    child = _Node(name, text)
    parent.children.append(child)
    return child


def _add_opt(parent: _Node, pairs: Iterable[tuple[str, str | None]]) -> None:
    for name, value in pairs:
        if value is not None:
            _add(parent, name, value)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _header(parent: _Node, h: ResponseHeader) -> None:
    header = _add(parent, "Header")
    _add_opt(
        header,
        [
            ("RequestID", str(h.request_id) if h.request_id else None),
            ("ResponseID", str(h.response_id) if h.response_id else None),
            ("ResponseCode", h.response_code),
            ("ResponseDateTime", format_datetime(h.response_datetime)),
        ],
    )


def _warnings(parent: _Node, element: str, w: FirmwareWarnings) -> None:
    node = _add(parent, element)
    values = (
        w.invalid,
        w.not_commissioned,
        w.not_applicable_firmware,
        w.other_request_in_progress,
        w.invalid_gbcs_version,
    )
    _add_opt(node, [(name, ",".join(ids) or None) for name, ids in zip(WARNING_LISTS, values)])


def _device(parent: _Node, d: InventoryDevice) -> None:
    node = _add(parent, "Device")
    _add_opt(
        node,
        [
            ("DeviceID", d.device_id),
            ("DeviceType", d.device_type),
            ("DeviceStatus", d.status),
            ("DeviceManufacturer", d.manufacturer),
            ("DeviceModel", d.model),
            ("SMETSCHTSVersion", d.smets_chts_version),
            ("DeviceFirmwareVersion", d.firmware_version),
            ("DeviceFirmwareVersionStatus", d.firmware_version_status),
            ("CPLStatus", d.cpl_status),
            ("DeviceGBCSVersion", d.gbcs_version),
            ("HANVariant", d.han_variant),
        ],
    )


@functools.singledispatch
def _body(body: object, parent: _Node) -> None:
    raise RequestBuildError(f"no response body for {type(body).__name__}")


@_body.register
def _(m: ResponseMessage, parent: _Node) -> None:
    node = _add(parent, "ResponseMessage")
    _add(node, "ServiceReference", m.service_reference)
    _add(node, "ServiceReferenceVariant", m.variant)
    parts = [p for p in (m.gbcs_payload, m.warnings, m.inventory, m.pre_command,
                         m.future_dated_alert) if p is not None]
    if len(parts) > 1:
        raise RequestBuildError("a ResponseMessage carries at most one payload")
    if m.warnings is not None:
        _warnings(
            node, WARNING_ELEMENTS.get(m.service_reference, "DSPUpdateFirmwareWarning"), m.warnings
        )
    elif m.inventory is not None:
        inventory = _add(node, "DSPInventory")
        for device in m.inventory:
            _device(inventory, device)
    elif m.pre_command is not None:
        pre = _add(node, "PreCommand")
        _add(pre, "GBCSVersion", m.pre_command.gbcs_version)
        _add(pre, "GBCSPayload", _b64(m.pre_command.gbcs_payload))
    elif m.future_dated_alert is not None:
        alert = _add(node, "FutureDatedDeviceAlertMessage")
        _add(alert, "FutureDatedAlertCode", f"{m.future_dated_alert.alert_code:04X}")
        _add(alert, "GBCSPayload", _b64(m.future_dated_alert.gbcs_payload))
        _add(alert, "InstructionNumber", "1")
        _add(alert, "TotalCommandInstructions", "1")
    elif m.gbcs_payload is not None:
        _add(node, "GBCSPayload", _b64(m.gbcs_payload))


@_body.register
def _(a: DeviceAlert, parent: _Node) -> None:
    node = _add(parent, "DeviceAlertMessage")
    _add(node, "AlertCode", f"{a.alert_code:04X}")
    _add(node, "GBCSPayload", _b64(a.gbcs_payload))


@functools.singledispatch
def _detail(detail: object, parent: _Node) -> None:
    raise RequestBuildError(f"cannot write DCC alert detail {type(detail).__name__}")


@_detail.register
def _(d: FirmwareDeliveryStatus, parent: _Node) -> None:
    node = _add(parent, "CSPFirmwareDeliveryStatus")
    _add_opt(
        node,
        [
            ("UpdateFirmwareRequestID", str(d.update_firmware_request_id)),
            ("CommsHubDeviceID", d.comms_hub_id),
            ("TargetDeviceID", d.target_device_id),
            ("FirmwareVersion", d.firmware_version),
            ("TimeStamp", format_datetime(d.timestamp)),
            ("CommsHubTransferStatus", "Success" if d.success else "Failure"),
        ],
    )


@_detail.register
def _(d: FirmwareDistributionFailure, parent: _Node) -> None:
    node = _add(parent, "FirmwareDistributionFailure")
    _add(node, "UpdateFirmwareRequestID", str(d.update_firmware_request_id))
    _add(node, "MeterIDs", ",".join(d.device_ids))


@_detail.register
def _(d: QuarantinedRequest, parent: _Node) -> None:
    breach = _add(_add(parent, "QuarantinedRequest"), d.breach)
    _add(breach, "RequestID", str(d.request_id))
    _add(breach, "QuarantineEventRef", str(d.quarantine_event_ref))


@_detail.register
def _(d: FirmwareVersionMismatch, parent: _Node) -> None:
    node = _add(parent, "FirmwareVersionMismatch")
    _add_opt(
        node,
        [
            ("DeviceID", d.device_id),
            ("DeviceType", d.device_type),
            ("FirmwareVersionSMI", d.version_smi),
            ("FirmwareVersionDevice", d.version_device),
        ],
    )


@_detail.register
def _(d: OtherDccAlert, parent: _Node) -> None:
    raise RequestBuildError(f"cannot build DCC alert detail sr:{d.element}")


@_body.register
def _(a: DccAlert, parent: _Node) -> None:
    node = _add(parent, "DCCAlertMessage")
    _add(node, "DCCAlertCode", a.code)
    _detail(a.detail, _add(node, "DCCAlert"))


def canonical_response(response: Response) -> bytes:
    """The unsigned sr:Response in inclusive C14N form, written directly (as `duis.build`
    writes requests): what is signed and sent, without building and canonicalising a tree."""
    root = _Node("Response")
    _header(root, response.header)
    _body(response.body, _add(root, "Body"))
    out = [_ROOT_OPEN.format(_c14n_attribute(response.schema_version or SCHEMA_VERSION))]
    for child in root.children:
        child.write(out)
    out.append("</sr:Response>")
    return "".join(out).encode()


def response_element(response: Response) -> etree._Element:
    """The unsigned sr:Response element for a Response model."""
    return etree.fromstring(canonical_response(response))


def sign_response(response: Response, identity: SigningIdentity) -> bytes:
    """The response, signed by the DCC identity, as bytes."""
    return sign_canonical(canonical_response(response), identity)


def _alert_payload(alert_code: int, device_id: str, recipient: str, counter: int,
                   at: datetime, firmware_hash: bytes | None) -> bytes:
    if alert_code in (0x8F72, 0x8F1C):
        if firmware_hash is None:
            raise RequestBuildError(f"alert 0x{alert_code:04X} needs the computed image hash")
        receipt = FirmwareDistributionReceipt(alert_code, at, firmware_hash)
        return encode_fdra(counter, device_id, recipient, receipt)
    if alert_code in (0x8F66, 0x8F67):
        result = 0 if alert_code == 0x8F66 else ActivationResult.ACTIVATION_FAILURE
        done = FutureDatedActivationAlert(alert_code, at, counter, result, "00000000")
        return encode_future_dated_alert(counter, device_id, recipient, done)
    if alert_code in (0x8F8A, 0x8F89):
        status = 0 if alert_code == 0x8F8A else 1  # 0x8F89: the transfer failed
        moved = FirmwareTransferAlert(alert_code, at, device_id, "00000000", status)
        return encode_transfer_alert(counter, device_id, recipient, moved)
    if alert_code == 0x8F8B:
        ran = PpmidActivationAlert(alert_code, at, "00000000", 0)
        return encode_ppmid_activation_alert(counter, device_id, recipient, ran)
    raise RequestBuildError(f"no GBCS alert shape for 0x{alert_code:04X}")


def device_alert(
    alert_code: int,
    device_id: str,
    recipient: str,
    counter: int,
    at: datetime,
    firmware_hash: bytes | None = None,
) -> DeviceAlert:
    """A device alert model with an unsigned RTDS-shaped payload (generic facts).

    0x8F72/0x8F1C become FDRA DLMS (0x00CE) with the hash; 0x8F66/0x8F67 a 0x00CA alert
    (result 0 or 3, version 00000000); 0x8F8A/0x8F89 a CCS08 alert about `device_id`;
    0x8F8B a CS09 alert. Encode with `duis.gbcs` and use `alert_message` for exact facts.
    """
    return alert_message(alert_code, _alert_payload(alert_code, device_id, recipient, counter,
                                                    at, firmware_hash))


def alert_message(alert_code: int, payload: bytes) -> DeviceAlert:
    """The DeviceAlert model for an encoded GBCS alert payload."""
    alert = alert_from_payload(alert_code, payload)
    if alert.decode_error is not None:
        raise RequestBuildError(f"alert payload does not decode: {alert.decode_error}")
    return alert


def device_response_payload(
    device_id: str, request_id: RequestId, counter: int, item: bytes | int, recipient: str = DCC_EUI
) -> bytes:
    """GBCS payload of a device's answer: an ECS52 11.2 version, or a CS06 immediate result.

    The transaction counter is the request's (as the RTDS answers); `counter` is unused
    by these shapes and kept for callers. Other use cases: `duis.gbcs.encode`.
    """
    if isinstance(item, bytes):
        return encode_firmware_version_response(
            "ECS52", request_id.counter, device_id, recipient, item.hex().upper()
        )
    return encode_activation_response(request_id.counter, device_id, recipient, None, item,
                                      "00000000")
