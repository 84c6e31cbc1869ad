"""Inbound DUIS messages: stored raw first, deduplicated, verified, parsed, applied once.

Whatever cannot be verified, parsed or matched is quarantined with a reason; nothing is
dropped silently and nothing here raises on bad input.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from duis.errors import DuisError
from duis.models import (
    DccAlert,
    DeviceAlert,
    FirmwareDeliveryStatus,
    FirmwareDistributionFailure,
    FirmwareVersionMismatch,
    QuarantinedRequest,
    Response,
    ResponseMessage,
)
from duis.parse import verify_response
from orchestrator.domain.jobs import Outcome
from orchestrator.service.applying import REQUEST_SCOPE, apply_in_uow
from orchestrator.service.fleet_facts import InboundFacts, apply_inbound_facts, inbound_facts
from orchestrator.service.outbound import COMMS_CODES
from orchestrator.service.wiring import Execution

# N60 only says the hub passed the image on; the device's own verdict (0x8F72 with the hash
# it computed, or 0x8F8A from the hub for a PPMID) is what makes a step "delivered".
# Alerts that carry a result (0x8F66/0x8F67, CCS08, CS09) go by it: 0 is success.
DEVICE_ALERTS = {0x8F72: "delivered", 0x8F8A: "delivered", 0x8F1C: "image_verification_failed",
                 0x8F89: "delivery_failed", 0x8F66: "activated", 0x8F8B: "activated",
                 0x8F67: "activation_failed"}
FAILED_RESULT = {"delivered": "delivery_failed", "activated": "activation_failed"}


@dataclass(frozen=True)
class InboundResult:
    """What became of one received message."""

    message_id: int
    status: str
    reason: str = ""
    moved: int = 0


def receive(ex: Execution, raw: bytes) -> InboundResult:
    """Store, then process one message from the DSP (idempotent on identical bytes)."""
    return receive_many(ex, [raw])[0]


def receive_many(ex: Execution, raws: list[bytes]) -> list[InboundResult]:
    """Store a batch raw (one transaction), then verify, parse and apply it in order."""
    digests = [hashlib.sha256(raw).hexdigest() for raw in raws]
    with ex.uow() as uow:
        stored = uow.requests.store_many(list(zip(digests, raws)), ex.clock.now())
        uow.commit()
    fresh = [(mid, raw) for (mid, new), raw in zip(stored, raws) if new]
    results = {mid: r for mid, r in zip((m for m, _ in fresh), process_many(ex, fresh))}
    return [results.get(mid, InboundResult(mid, "duplicate")) if new
            else InboundResult(mid, "duplicate") for mid, new in stored]


def process(ex: Execution, message_id: int, raw: bytes) -> InboundResult:
    """Verify, parse and apply one stored message (quarantined with a reason if it fails)."""
    return process_many(ex, [(message_id, raw)])[0]


def process_many(ex: Execution, messages: list[tuple[int, bytes]]) -> list[InboundResult]:
    """Verify and parse each stored message, then apply all outcomes in one transaction."""
    outcomes: list[tuple[str, Outcome]] = []
    owners: list[int | None] = []
    marks: list[tuple[int, str, str, dict[str, str | None]]] = []
    facts: list[InboundFacts] = []
    for message_id, raw in messages:
        try:
            response = verify_response(raw, ex.trust, ex.verify_at)
            found = outcomes_of(response)
            facts += inbound_facts(response, message_id)
        except (DuisError, UnknownMessageError) as err:
            marks.append((message_id, "quarantined", f"{type(err).__name__}: {err}"[:2000], {}))
            continue
        outcomes += found
        owners += [message_id] * len(found)
        marks.append((message_id, "applied", "", {"kind": _kind(response),
                                                  "request_id": _request_id(response)}))
    with ex.uow() as uow:
        moved = apply_in_uow(ex, uow, outcomes, owners) if outcomes else 0
        apply_inbound_facts(uow, facts, ex.clock.now())
        uow.requests.mark_many(marks, ex.clock.now())
        uow.commit()
    return [InboundResult(mid, status, reason, moved) for mid, status, reason, _ in marks]


class UnknownMessageError(Exception):
    """A verified message the orchestrator does not know how to apply."""


def outcomes_of(response: Response) -> list[tuple[str, Outcome]]:
    """The per-device outcomes a verified response or alert stands for."""
    body = response.body
    rid = _request_id(response)
    if isinstance(body, DeviceAlert):
        return alert_outcomes(body)
    if isinstance(body, DccAlert):
        return _dcc_alert(body)
    return _response_message(response, body, rid)


def alert_outcomes(alert: DeviceAlert) -> list[tuple[str, Outcome]]:
    """A device alert (DeviceAlertMessage or FutureDatedDeviceAlertMessage) as an outcome."""
    kind, device = DEVICE_ALERTS.get(alert.alert_code), alert.subject_device_id
    if alert.decode_error is not None:
        raise UnknownMessageError(f"device alert 0x{alert.alert_code:04X}: {alert.decode_error}")
    if kind is None or device is None:
        raise UnknownMessageError(f"device alert 0x{alert.alert_code:04X} is not handled")
    detail = alert.name if alert.result is None else f"{alert.name} result {alert.result}"
    if alert.result == 1 and alert.alert_code in (0x8F66, 0x8F67):
        kind = "no_image_held"
    elif alert.result:
        kind = FAILED_RESULT.get(kind, kind)
    computed = alert.firmware_hash.hex() if alert.firmware_hash else None
    return [(device, Outcome(kind, None, detail, firmware_hash=computed))]


def _device_results(target: str, body: ResponseMessage,
                    rid: str | None) -> list[tuple[str, Outcome]] | None:
    """Outcomes of a device's 11.3 / 11.2 answer (None when the body carries neither)."""
    if body.activation_result is not None:
        code_value = int(body.activation_result)
        kind = {0: "activated", 1: "no_image_held"}.get(code_value, "activation_failed")
        return [(target, Outcome(kind, rid, f"activation response {code_value}"))]
    if body.activation_accepted:
        return []  # future-dated or cancellation accepted: 0x8F66/0x8F67 tells the outcome
    if body.read_result is not None:
        return [(target, Outcome("comms_failure", rid, f"11.2 device result {body.read_result}"))]
    return None


def _response_message(response: Response, body: ResponseMessage,
                      rid: str | None) -> list[tuple[str, Outcome]]:
    code = response.header.response_code
    if body.future_dated_alert is not None:  # names its device itself
        return alert_outcomes(body.future_dated_alert)
    target = response.header.request_id.target if response.header.request_id else None
    if target is None:
        raise UnknownMessageError("response without a RequestID")
    if code.startswith("E"):
        kind = "comms_failure" if code in COMMS_CODES else "refused"
        return [(target, Outcome(kind, rid, f"response code {code}"))]
    if (found := _device_results(target, body, rid)) is not None:
        return found
    if body.firmware_version is not None:
        return [(target, Outcome("version_read", rid, firmware_version=body.firmware_version,
                                 observed_at=response.header.response_datetime))]
    return []


def _dcc_alert(alert: DccAlert) -> list[tuple[str, Outcome]]:
    detail = alert.detail
    if isinstance(detail, FirmwareDeliveryStatus):
        kind = "transferred" if detail.success else "delivery_failed"
        return [(detail.target_device_id,
                 Outcome(kind, str(detail.update_firmware_request_id), alert.code))]
    if isinstance(detail, FirmwareDistributionFailure):
        rid = str(detail.update_firmware_request_id)
        return [(d, Outcome("delivery_failed", rid, alert.code)) for d in detail.device_ids]
    if isinstance(detail, QuarantinedRequest):
        return [(REQUEST_SCOPE, Outcome("quarantined", str(detail.request_id), detail.breach))]
    if isinstance(detail, FirmwareVersionMismatch):
        return []
    raise UnknownMessageError(f"DCC alert {alert.code} ({alert.name}) is not handled")


def _request_id(response: Response) -> str | None:
    rid = response.header.request_id
    return None if rid is None else str(rid)


def _kind(response: Response) -> str:
    body = response.body
    if isinstance(body, DeviceAlert):
        return f"device_alert:0x{body.alert_code:04X}"
    if isinstance(body, DccAlert):
        return f"dcc_alert:{body.code}"
    return f"response:{body.service_reference}"
