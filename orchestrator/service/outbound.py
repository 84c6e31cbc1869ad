"""Building, signing and sending the firmware SRs, and reading their synchronous answers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from duis import build, gbcs
from duis.codes import SR_SPECS, SrSpec
from duis.errors import DuisError
from duis.models import (
    ReadFirmwareVersion,
    Request,
    Response,
    ResponseMessage,
    SignedPreCommand,
)
from duis.parse import parse_response, verify_response
from duis.requestid import RequestId
from duis.sign import find_signature
from duis.xmlsafe import parse_xml
from orchestrator.domain.jobs import DeviceJob, O, Outcome
from orchestrator.errors import AnswerRejectedError, DspRefusedError, DspUnavailableError
from orchestrator.service.wiring import Execution, SupplierIdentity

CANCEL_AT = build.CANCEL_AT
WARNING_LISTS = ("invalid", "not_commissioned", "not_applicable_firmware",
                 "other_request_in_progress", "invalid_gbcs_version")
COMMS_CODES = frozenset({"E20", "E21"})


@dataclass
class Send:
    """One request to send: its SR type, the entry it applies, and the jobs it carries."""

    sr_type: str
    entry: str
    jobs: list[DeviceJob]
    request_ids: list[RequestId] = field(default_factory=list)
    execute_at: dt.datetime | None = None
    image_hash: str = ""  # an 11.3's FirmwareHash, recorded as its request is built

    @property
    def answered_by(self) -> RequestId:
        """The RequestID answers carry (for 11.3 the CV4's, which the CV5 repeats)."""
        return self.request_ids[-1]

    @property
    def spec(self) -> SrSpec:
        """What the send's SR is (`duis.codes.SR_SPECS`)."""
        return SR_SPECS[self.sr_type]

    @property
    def counters_needed(self) -> int:
        """One originator counter per send: an 11.3's CV5 repeats its CV4's RequestID."""
        return self.spec.counters

    @property
    def variants(self) -> tuple[int, ...]:
        """The CommandVariants sent, in order (11.3: CV4, then the signed pre-command)."""
        return self.spec.command_variants

    def assign(self, request_id: RequestId) -> None:
        """Use `request_id` for every request of the send (CV5 repeats the CV4's)."""
        self.request_ids = [request_id] * len(self.variants)

    def sent_row(self, campaign_id: int, at: dt.datetime) -> dict[str, object]:
        """The sent-request log row: one per RequestID, with the last variant it is sent as."""
        return {"request_id": str(self.answered_by), "campaign_id": campaign_id,
                "sr_type": self.sr_type, "command_variant": self.variants[-1],
                "entry": self.entry, "device_count": len(self.jobs), "sent_at": at}


def request_xml(send: Send, image: bytes | None, version: str,
                image_hash: str, identity: SupplierIdentity) -> bytes:
    """The signed XML of a send's first request."""
    rid = send.request_ids[0]
    request: Request
    if send.spec.batched:
        assert image is not None
        request = build.update_firmware(rid, image, version, [j.device_id for j in send.jobs],
                                        ppmid=send.sr_type == "11.4")
    elif send.spec.signs_pre_command:
        send.image_hash = image_hash  # the pre-command must carry it (sign_pre_command)
        request = build.activate_firmware(rid, image_hash, at=send.execute_at)
    else:
        request = ReadFirmwareVersion(rid)
    return build.sign_request(request, identity.xml)


def transmit(ex: Execution, xml: bytes, request_id: RequestId) -> Response:
    """Send one request and read the DSP's synchronous answer to it."""
    return read_answer(ex.gateway.send(xml), request_id, ex)


def exchange(ex: Execution, xml: bytes, request_id: RequestId,
             codes: dict[str, str] | None) -> Response:
    """`transmit`, noting the answer's response code (or the refusal's) in `codes`."""
    try:
        response = transmit(ex, xml, request_id)
    except DspRefusedError as err:
        if codes is not None:
            codes[str(request_id)] = err.code[:16]
        raise
    if codes is not None:
        codes[str(request_id)] = response.header.response_code
    return response


def read_answer(answer: bytes, request_id: RequestId, ex: Execution) -> Response:
    """A synchronous answer, signed or not (DCC Boxed sends E-codes unsigned).

    A signed answer must verify against the DCC's certificates, and an unsigned one is
    accepted only as the answer to `request_id`, the request this very HTTP exchange carried
    (the receiver never accepts unsigned messages); any other answer raises
    `AnswerRejectedError` with the answer's bytes, to be quarantined, never retried as if
    the DSP were down. An answer that is not a DUIS response at all is the DSP refusing the
    request.
    """
    try:
        root = parse_xml(answer)  # parsed once: checked for a signature, verified, read
        signed = find_signature(root) is not None
    except DuisError as err:
        raise DspRefusedError("unreadable", f"DSP answer is not DUIS XML: {err}") from err
    if signed:
        try:
            return verify_response(root, ex.trust, ex.verify_at)
        except DuisError as err:
            raise AnswerRejectedError(f"DSP answer rejected: {err}", answer) from err
    try:
        response = parse_response(root)
    except DuisError as err:
        raise DspRefusedError("unreadable", f"DSP answer is not a DUIS response: {err}") from err
    if response.header.request_id != request_id:
        raise AnswerRejectedError(f"DSP answer rejected: unsigned answer for "
                                  f"{response.header.request_id}, not for our request "
                                  f"{request_id}", answer)
    return response


def sign_pre_command(ex: Execution, send: Send, response: Response,
                     identity: SupplierIdentity) -> bytes:
    """CommandVariant 5: the DCC's pre-command, checked against the 11.3 sent, then signed.

    Never signs what we did not request: a pre-command whose message code, target device,
    image hash, originator counter or execution time differ from the 11.3 raises
    `PreCommandMismatchError` with the reason (the device's job is refused, not retried).
    """
    message = response.body
    if not isinstance(message, ResponseMessage) or message.pre_command is None:
        raise DspUnavailableError("11.3 answer carries no pre-command to sign")
    payload = message.pre_command.gbcs_payload
    gbcs.check_pre_command(payload, expected_activation(send))
    signed = gbcs.sign_pre_command(payload, identity.digital_signing_key)
    request = SignedPreCommand(send.request_ids[-1], signed, send.execute_at)
    return build.sign_request(request, identity.xml)


def expected_activation(send: Send) -> gbcs.ExpectedActivation:
    """What the DCC's pre-command for this 11.3 must say (the CV4 RequestID's counter)."""
    rid = send.request_ids[0]
    return gbcs.ExpectedActivation(rid.originator, rid.target, bytes.fromhex(send.image_hash),
                                   rid.counter, send.execute_at)


def sync_outcomes(send: Send, request_id: str, response: Response) -> list[tuple[str, Outcome]]:
    """Per-device outcomes of a synchronous answer (empty when simply acknowledged)."""
    code = response.header.response_code
    body = response.body
    has_warnings = isinstance(body, ResponseMessage) and body.warnings is not None
    if code.startswith("E") and not has_warnings:
        kind = O.COMMS_FAILURE if code in COMMS_CODES else O.REFUSED
        return [(j.device_id, Outcome(kind, request_id, f"response code {code}"))
                for j in send.jobs]
    if not has_warnings:
        return []
    assert isinstance(body, ResponseMessage)
    outcomes = []
    for name in WARNING_LISTS:
        kind = O.BUSY if name == "other_request_in_progress" else O.REJECTED
        for device in getattr(body.warnings, name):
            outcomes.append((device, Outcome(kind, request_id, name)))
    return outcomes


def rejected_answer(send: Send, request_id: str, err: AnswerRejectedError
                    ) -> list[tuple[str, Outcome]]:
    """The DSP's answer failed verification: every job of the send stops quarantined."""
    return [(j.device_id, Outcome(O.ANSWER_REJECTED, request_id, str(err)[:300]))
            for j in send.jobs]


def failed_sends(send: Send, request_id: str, err: Exception) -> list[tuple[str, Outcome]]:
    """The DSP could not be reached: every job of the send retries later."""
    return [(j.device_id, Outcome(O.DSP_UNAVAILABLE, request_id, str(err)[:200]))
            for j in send.jobs]
