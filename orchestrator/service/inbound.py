"""Inbound DUIS messages: stored raw first, deduplicated, verified, parsed, applied once.

Deduplication goes by what the DCC means, not by bytes: a message is stored under the
digest of its canonical form (a replay with a comment, another XML declaration or none is
the same message), and once verified, a message whose signed content (the document without
its signature: ResponseID, header and body) an applied message already carried is a
`duplicate` (a re-signed copy). A verified message about a RequestID this deployment never
sent, or a device it does not know, is quarantined with that reason, never applied.
Whatever cannot be verified, parsed or matched is quarantined with a reason; nothing is
dropped silently and nothing here raises on bad input.

Two ways in: `receive_many` stores, verifies and applies a batch before returning (what the
receiver answers with in `inline` mode, and what the dry run calls); `store_many` only stores
a batch durably and acknowledges it (`received`, or `duplicate` of bytes stored before), and
`apply_stored` / `apply_pending` verify and apply stored messages later, in batches, on any
worker. Applying claims its messages first (`claim`: still `received`, applying serialised
across processes), so a message is applied once however many workers, retries and
reconcilers reach it, and a message stored but never applied (a crash) stays `received`
until one does.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from duis.codes import ActivationResult
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
from duis.parse import verify_signed_response
from duis.sign import canonical_sha256
from duis.xmlsafe import parse_xml
from orchestrator.domain.jobs import O, Outcome, OutcomeKind
from orchestrator.errors import AnswerRejectedError
from orchestrator.service.applying import REQUEST_SCOPE, apply_in_uow
from orchestrator.service.fleet_facts import InboundFacts, apply_inbound_facts, inbound_facts
from orchestrator.service.outbound import COMMS_CODES
from orchestrator.service.unit_of_work import UnitOfWork
from orchestrator.service.wiring import Execution

# N60 only says the hub passed the image on; the device's own verdict (0x8F72 with the hash
# it computed, or 0x8F8A from the hub for a PPMID) is what makes a step "delivered".
# Alerts that carry a result (0x8F66/0x8F67, CCS08, CS09) go by it: 0 is success.
DEVICE_ALERTS: dict[int, OutcomeKind] = {
    0x8F72: O.DELIVERED, 0x8F8A: O.DELIVERED, 0x8F1C: O.IMAGE_VERIFICATION_FAILED,
    0x8F89: O.DELIVERY_FAILED, 0x8F66: O.ACTIVATED, 0x8F8B: O.ACTIVATED,
    0x8F67: O.ACTIVATION_FAILED}
FAILED_RESULT = {O.DELIVERED: O.DELIVERY_FAILED, O.ACTIVATED: O.ACTIVATION_FAILED}
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class InboundResult:
    """What became of one received message."""

    message_id: int
    status: str
    reason: str = ""
    moved: int = 0
    sha256: str = ""  # the stored message's digest (of its canonical form)


def receive(ex: Execution, raw: bytes) -> InboundResult:
    """Store, then process one message from the DSP (idempotent on the same message)."""
    return receive_many(ex, [raw])[0]


def message_digest(raw: bytes) -> str:
    """The key a message is stored under: SHA-256 of its canonical form (C14N without
    comments), or of the bytes when they are not well-formed XML."""
    try:
        return canonical_sha256(parse_xml(raw))
    except DuisError:
        return hashlib.sha256(raw).hexdigest()


def quarantine_answers(uow: UnitOfWork, answers: Sequence[AnswerRejectedError],
                       at: dt.datetime) -> list[int]:
    """Keep the DSP's synchronous answers that failed verification with the inbound
    messages, quarantined with their reason (a security event to look at, never applied);
    the ids of those stored. An answer whose canonical form is stored already keeps its
    status."""
    if not answers:
        return []
    stored = uow.inbound.store_many([(message_digest(a.answer), a.answer) for a in answers], at)
    marks = [(mid, "quarantined", _reason(a), {"kind": "synchronous_answer"})
             for (mid, new), a in zip(stored, answers) if new]
    uow.inbound.mark_many(marks, at)
    for mid, _, reason, _ in marks:
        log.warning("dsp_answer_quarantined", message_id=mid, reason=reason)
    return [mid for mid, _, _, _ in marks]


def _store(ex: Execution, raws: list[bytes]) -> tuple[list[str], list[tuple[int, bool]]]:
    digests = [message_digest(raw) for raw in raws]
    with ex.uow() as uow:
        stored = uow.inbound.store_many(list(zip(digests, raws)), ex.clock.now())
        uow.commit()
    return digests, stored


def store_many(ex: Execution, raws: list[bytes]) -> list[InboundResult]:
    """Store a batch raw (one transaction) and acknowledge it, applying nothing yet: each
    message is `received` (verified and applied later by `apply_stored`/`apply_pending`) or
    a `duplicate` of bytes stored before."""
    digests, stored = _store(ex, raws)
    return [InboundResult(mid, "received" if new else "duplicate", sha256=digest)
            for (mid, new), digest in zip(stored, digests)]


def apply_stored(ex: Execution, message_ids: list[int]) -> list[InboundResult]:
    """Verify and apply these stored messages (those still `received`) as one batch."""
    with ex.uow() as uow:
        raws = uow.inbound.raw_messages(message_ids)
    return process_many(ex, raws) if raws else []


def apply_pending(ex: Execution, batch: int = 500, limit: int | None = None,
                  received_before: dt.datetime | None = None) -> int:
    """Verify and apply every stored message still `received` (received before
    `received_before`, when given), oldest first, `batch` at a time (at most `limit`); how
    many were processed."""
    done = 0
    while limit is None or done < limit:
        with ex.uow() as uow:
            pending = uow.inbound.pending_messages(
                batch if limit is None else min(batch, limit - done), received_before)
        if not pending:
            break
        process_many(ex, pending)
        done += len(pending)
    return done


def receive_many(ex: Execution, raws: list[bytes]) -> list[InboundResult]:
    """Store a batch raw (one transaction), then verify, parse and apply it in order."""
    digests, stored = _store(ex, raws)
    fresh = [(mid, raw) for (mid, new), raw in zip(stored, raws) if new]
    results = {mid: r for mid, r in zip((m for m, _ in fresh), process_many(ex, fresh))}
    return [replace(results.get(mid, InboundResult(mid, "duplicate")) if new
                    else InboundResult(mid, "duplicate"), sha256=digest)
            for (mid, new), digest in zip(stored, digests)]


def process(ex: Execution, message_id: int, raw: bytes) -> InboundResult:
    """Verify, parse and apply one stored message (quarantined with a reason if it fails)."""
    return process_many(ex, [(message_id, raw)])[0]


@dataclass(frozen=True)
class _Verified:
    """A message whose DCC signature verified, with what it stands for."""

    message_id: int
    response: Response
    content: str  # the signed content's digest
    outcomes: list[tuple[str, Outcome]]
    facts: list[InboundFacts]

    @property
    def fields(self) -> dict[str, str | None]:
        rid = self.response.header.response_id
        return {"kind": _kind(self.response), "request_id": _request_id(self.response),
                "content_sha256": self.content, "response_id": None if rid is None else str(rid)}


def process_many(ex: Execution, messages: list[tuple[int, bytes]]) -> list[InboundResult]:
    """Verify and parse each stored message, then judge and apply all in one transaction.

    Only the messages this transaction claims (still `received`) are marked and applied; one
    another worker processed meanwhile is answered `duplicate` and left as it is."""
    marks: list[tuple[int, str, str, dict[str, str | None]]] = []
    verified: list[_Verified] = []
    for message_id, raw in messages:
        try:
            response, signature = verify_signed_response(raw, ex.trust, ex.verify_at)
            verified.append(_Verified(message_id, response, signature.content_digest.hex(),
                                      outcomes_of(response), inbound_facts(response, message_id)))
        except (DuisError, UnknownMessageError) as err:
            marks.append((message_id, "quarantined", _reason(err), {}))
    outcomes: list[tuple[str, Outcome]] = []
    owners: list[int | None] = []
    facts: list[InboundFacts] = []
    with ex.uow() as uow:
        claimed = uow.inbound.claim([mid for mid, _ in messages])
        marks = [m for m in marks if m[0] in claimed]
        verified = [v for v in verified if v.message_id in claimed]
        for message, status, reason in _judge(uow, verified):
            marks.append((message.message_id, status, reason, message.fields))
            if status == "applied":
                outcomes += message.outcomes
                owners += [message.message_id] * len(message.outcomes)
                facts += message.facts
        moved = apply_in_uow(ex, uow, outcomes, owners) if outcomes else 0
        apply_inbound_facts(uow, facts, ex.clock.now())
        uow.inbound.mark_many(marks, ex.clock.now())
        uow.commit()
    done = {mid: InboundResult(mid, status, reason, moved) for mid, status, reason, _ in marks}
    return [done.get(mid) or InboundResult(mid, "duplicate", "already processed")
            for mid, _ in messages]


def _judge(uow: UnitOfWork, verified: list[_Verified]) -> list[tuple[_Verified, str, str]]:
    """Each verified message: applied, a duplicate of an applied one, or quarantined because
    it names a RequestID never sent or a device not in the fleet."""
    applied = uow.inbound.applied_contents([v.content for v in verified])
    rids, devices = zip(*(references(v.response) for v in verified)) if verified else ((), ())
    sent = uow.requests.sent_request_ids(sorted(set().union(*rids)))
    known = uow.fleet.known(set().union(*devices))
    judged = []
    for message, asked, about in zip(verified, rids, devices):
        status, reason = _verdict(message, applied, asked - sent, about - known)
        if status == "applied":
            applied[message.content] = message.message_id
        judged.append((message, status, reason))
    return judged


def _verdict(message: _Verified, applied: dict[str, int], unsent: set[str],
             unknown: set[str]) -> tuple[str, str]:
    if message.content in applied:
        first = applied[message.content]
        return "duplicate", f"the DCC's message {_rid(message)} was applied as message {first}"
    if unsent:
        return "quarantined", (f"UnknownRequestError: RequestID {min(unsent)} was never sent "
                               "by this deployment")
    if unknown:
        return "quarantined", f"UnknownDeviceError: device {min(unknown)} is not in the fleet"
    return "applied", ""


def references(response: Response) -> tuple[set[str], set[str]]:
    """The RequestIDs a verified message answers or names, and the devices it is about."""
    body, rid = response.body, _request_id(response)
    if isinstance(body, DeviceAlert):
        return set(), {body.subject_device_id} if body.subject_device_id else set()
    if isinstance(body, DccAlert):
        detail = body.detail
        if isinstance(detail, FirmwareDeliveryStatus | FirmwareDistributionFailure):
            return {str(detail.update_firmware_request_id)}, set()
        if isinstance(detail, QuarantinedRequest):
            return {str(detail.request_id)}, set()
        if isinstance(detail, FirmwareVersionMismatch):
            return set(), {detail.device_id}
        return set(), set()
    return ({rid} if rid else set()), set()


def _rid(message: _Verified) -> str:
    found = message.response.header.response_id
    return f"ResponseID {found}" if found else "(no ResponseID)"


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:2000]


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
    if alert.result is not None and alert.alert_code in (0x8F66, 0x8F67):
        detail += f" ({_activation_reason(alert.result)})"  # 0x8F67: the failure's reason
    if alert.result == 1 and alert.alert_code in (0x8F66, 0x8F67):
        kind = O.NO_IMAGE_HELD
    elif alert.result:
        kind = FAILED_RESULT.get(kind, kind)
    computed = alert.firmware_hash.hex() if alert.firmware_hash else None
    return [(device, Outcome(kind, None, detail, firmware_hash=computed))]


def _activation_reason(result: int) -> str:
    try:
        return ActivationResult(result).name.lower()
    except ValueError:
        return f"unknown result {result}"


def _device_results(target: str, body: ResponseMessage,
                    rid: str | None) -> list[tuple[str, Outcome]] | None:
    """Outcomes of a device's 11.3 / 11.2 answer (None when the body carries neither)."""
    if body.activation_result is not None:
        code_value = int(body.activation_result)
        kind = {0: O.ACTIVATED, 1: O.NO_IMAGE_HELD}.get(code_value, O.ACTIVATION_FAILED)
        return [(target, Outcome(kind, rid, f"activation response {code_value}"))]
    if body.activation_accepted:
        return []  # future-dated or cancellation accepted: 0x8F66/0x8F67 tells the outcome
    if body.read_result is not None:
        return [(target, Outcome(O.COMMS_FAILURE, rid, f"11.2 device result {body.read_result}"))]
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
        kind = O.COMMS_FAILURE if code in COMMS_CODES else O.REFUSED
        return [(target, Outcome(kind, rid, f"response code {code}"))]
    if (found := _device_results(target, body, rid)) is not None:
        return found
    if body.firmware_version is not None:
        return [(target, Outcome(O.VERSION_READ, rid, firmware_version=body.firmware_version,
                                 observed_at=response.header.response_datetime))]
    return []


def _dcc_alert(alert: DccAlert) -> list[tuple[str, Outcome]]:
    detail = alert.detail
    if isinstance(detail, FirmwareDeliveryStatus):
        kind = O.TRANSFERRED if detail.success else O.DELIVERY_FAILED
        return [(detail.target_device_id,
                 Outcome(kind, str(detail.update_firmware_request_id), alert.code))]
    if isinstance(detail, FirmwareDistributionFailure):
        rid = str(detail.update_firmware_request_id)
        return [(d, Outcome(O.DELIVERY_FAILED, rid, alert.code)) for d in detail.device_ids]
    if isinstance(detail, QuarantinedRequest):
        return [(REQUEST_SCOPE, Outcome(O.QUARANTINED, str(detail.request_id), detail.breach))]
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
