"""GBCS facts for the DUIS models: what a response's or an alert's GBCS payload says.

The bridge between `duis.gbcs` (bytes) and `duis.models` (DeviceAlert, ResponseMessage):
`device_alert` reads any supported alert payload, `response_facts` the 11.2 / 11.3 payloads.
"""

from __future__ import annotations

from duis.codes import DEVICE_ALERTS, ActivationResult
from duis.errors import GbcsPayloadError
from duis.gbcs import (
    ActivationResponse,
    FirmwareDistributionReceipt,
    FirmwareTransferAlert,
    FirmwareVersionResponse,
    FutureDatedActivationAlert,
    GbcsMessage,
    PpmidActivationAlert,
    decode_message,
)
from duis.models import DeviceAlert

READ_CASES = {"11.2": FirmwareVersionResponse, "11.3": ActivationResponse}


def alert_name(code: int) -> str:
    """The alert's name (`Alert8F99` for codes outside the firmware table)."""
    kind = DEVICE_ALERTS.get(code)
    return kind.name if kind else f"Alert{code:04X}"


def _alert_facts(message: GbcsMessage) -> dict[str, object]:
    body = message.body
    if isinstance(body, FirmwareDistributionReceipt):
        return {"timestamp": body.time, "firmware_hash": body.image_hash}
    if isinstance(body, FutureDatedActivationAlert):
        return {"timestamp": body.execution_time, "result": body.result,
                "firmware_version": body.firmware_version,
                "command_counter": body.originator_counter}
    if isinstance(body, FirmwareTransferAlert):
        return {"timestamp": body.time, "result": body.status,
                "firmware_version": body.firmware_version, "target_device_id": body.target_device}
    if isinstance(body, PpmidActivationAlert):
        return {"timestamp": body.time, "result": body.result,
                "firmware_version": body.firmware_version}
    raise GbcsPayloadError(f"message code 0x{message.message_code:04X} is not an alert")


def device_alert(code: int, payload: bytes) -> DeviceAlert:
    """A DeviceAlert from its AlertCode and GBCS payload (decode_error set when unreadable)."""
    try:
        message = decode_message(payload)
        facts = _alert_facts(message)
        carried = getattr(message.body, "alert_code", None)
        if carried != code:
            raise GbcsPayloadError(f"payload carries alert 0x{carried:04X}, not 0x{code:04X}")
    except GbcsPayloadError as err:
        return DeviceAlert(code, alert_name(code), payload, decode_error=str(err))
    # _alert_facts returns the alert-specific fields by name, each with its field's type
    return DeviceAlert(code, alert_name(code), payload, message.originator,
                       message_code=message.message_code, **facts)  # type: ignore[arg-type]


def response_facts(reference: str, payload: bytes) -> dict[str, object]:
    """ResponseMessage fields from an 11.2 or 11.3 device response payload."""
    expected = READ_CASES.get(reference)
    if expected is None:
        return {}
    body = decode_message(payload).body
    if not isinstance(body, expected):
        raise GbcsPayloadError(f"an {reference} response cannot carry {type(body).__name__}")
    if isinstance(body, FirmwareVersionResponse):
        if body.success:
            return {"firmware_version": body.firmware_version}
        return {"read_result": body.result}
    assert isinstance(body, ActivationResponse)
    if body.result is None:
        return {"activation_accepted": True}
    try:
        result = ActivationResult(body.result)
    except ValueError as err:
        raise GbcsPayloadError(f"unknown activation result {body.result}") from err
    return {"activation_result": result, "firmware_version": body.firmware_version}
