"""Response and alert models the DSP sends (unsigned; the engine signs them on delivery)."""
from __future__ import annotations

from datetime import datetime

from duis import respond
from duis.codes import DCC_ALERT_NAMES, SCHEMA_VERSION
from duis.models import (
    DccAlert,
    DccAlertDetail,
    FirmwareDeliveryStatus,
    QuarantinedRequest,
    Response,
    ResponseHeader,
    ResponseMessage,
)
from duis.requestid import RequestId

USER_BREACH = "ADUserThresholdBreach"


def response_id(request_id: RequestId, responder: str) -> RequestId:
    """The ResponseID answering `request_id`: responder -> originator, same counter."""
    return RequestId(responder, request_id.originator, request_id.counter)


def service_response(request_id: RequestId | None, responder: str, code: str, at: datetime,
                     reference: str, **body: object) -> Response:
    """A ResponseMessage for a request (synchronous, or a device's asynchronous answer)."""
    rid = response_id(request_id, responder) if request_id is not None else None
    message = ResponseMessage(reference, reference, **body)  # type: ignore[arg-type]
    return Response(SCHEMA_VERSION, ResponseHeader(request_id, rid, code, at), message)


def device_answer(request_id: RequestId, device_id: str, at: datetime, counter: int,
                  item: bytes | int, reference: str) -> Response:
    """A device's successful answer (11.2 version, 11.3 result) with its GBCS payload."""
    payload = respond.device_response_payload(device_id, request_id, counter, item,
                                              recipient=request_id.originator)
    return service_response(request_id, device_id, "I0", at, reference, gbcs_payload=payload)


def device_alert(code: int, device_id: str, user: str, counter: int, at: datetime,
                 firmware_hash: bytes | None = None) -> Response:
    """A device alert (0x8F72, 0x8F1C, 0x8F66, ...) addressed to `user`."""
    alert = respond.device_alert(code, device_id, user, counter, at, firmware_hash)
    header = ResponseHeader(None, RequestId(device_id, user, counter), "I0", at)
    return Response(SCHEMA_VERSION, header, alert)


def dcc_alert(code: str, detail: DccAlertDetail, dcc_eui: str, user: str, counter: int,
              at: datetime) -> Response:
    """A DCC alert (N60, N61, AD1) addressed to `user`."""
    header = ResponseHeader(None, RequestId(dcc_eui, user, counter), "I0", at)
    return Response(SCHEMA_VERSION, header, DccAlert(code, DCC_ALERT_NAMES.get(code, code),
                                                     detail))


def delivery_status(request_id: RequestId, hub_id: str, device_id: str, version: str,
                    success: bool, dcc_eui: str, counter: int, at: datetime) -> Response:
    """N60 (delivered) or N61 (failed) CSPFirmwareDeliveryStatus."""
    detail = FirmwareDeliveryStatus(request_id, hub_id, device_id, version, at, success)
    return dcc_alert("N60" if success else "N61", detail, dcc_eui, request_id.originator,
                     counter, at)


def quarantined(request_id: RequestId, dcc_eui: str, counter: int, at: datetime) -> Response:
    """AD1: the request breached the User's anomaly detection threshold."""
    detail = QuarantinedRequest(USER_BREACH, request_id, counter)
    return dcc_alert("AD1", detail, dcc_eui, request_id.originator, counter, at)
