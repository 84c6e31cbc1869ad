"""Response and alert models the DSP sends (unsigned; the engine signs them on delivery)."""
from __future__ import annotations

from datetime import datetime

from duis import respond
from duis.codes import DCC_ALERT_NAMES, SCHEMA_VERSION
from duis.models import (
    DccAlert,
    DccAlertDetail,
    DeviceAlert,
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
    # callers pass ResponseMessage's optional fields by name (see the builders in this module)
    message = ResponseMessage(reference, reference, **body)  # type: ignore[arg-type]
    return Response(SCHEMA_VERSION, ResponseHeader(request_id, rid, code, at), message)


def device_answer(request_id: RequestId, device_id: str, at: datetime, payload: bytes,
                  reference: str) -> Response:
    """A device's answer (11.2 version, 11.3 result) carrying its GBCS payload."""
    return service_response(request_id, device_id, "I0", at, reference, gbcs_payload=payload)


def device_alert(code: int, device_id: str, user: str, counter: int, at: datetime,
                 firmware_hash: bytes | None = None) -> Response:
    """A device alert (0x8F72, 0x8F1C, 0x8F66, ...) with generic facts, addressed to `user`."""
    return alert_response(respond.device_alert(code, device_id, user, counter, at,
                                               firmware_hash), device_id, user, counter, at)


def alert_response(alert: DeviceAlert, raised_by: str, user: str, counter: int,
                   at: datetime) -> Response:
    """A DeviceAlertMessage addressed to `user`."""
    header = ResponseHeader(None, RequestId(raised_by, user, counter), "I0", at)
    return Response(SCHEMA_VERSION, header, alert)


def future_dated_response(request_id: RequestId, alert: DeviceAlert, at: datetime) -> Response:
    """0x8F66/0x8F67 where the XSD puts it: a ResponseMessage to the 11.3 that set it up,
    with the alert in FutureDatedDeviceAlertMessage."""
    return service_response(request_id, request_id.target, "I0", at, "11.3",
                            future_dated_alert=alert)


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
