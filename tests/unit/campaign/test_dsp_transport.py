"""DCC Boxed transport: service routing, HTTP status handling, reading synchronous answers."""
from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from lxml import etree

from duis import build, respond
from duis.models import Response, ResponseHeader, ResponseMessage
from duis.requestid import RequestId
from duis.testing.pki import Pki
from duis.testing.samples import sample_requests
from orchestrator.adapters.http_gateway import HttpDspGateway, command_variant, service_url
from orchestrator.domain.jobs import DeviceJob
from orchestrator.errors import (
    AnswerRejectedError,
    DspRefusedError,
    DspUnavailableError,
    TransientError,
)
from orchestrator.service import outbound
from orchestrator.service.outbound import Send

SUPPLIER, DCC, DEVICE = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02", "00-DB-12-34-56-78-90-A0"
OURS = RequestId(SUPPLIER, DEVICE, 1_700_000_000_001)
NOW = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
EXPECTED = {"11.1": "serviceD", "11.4": "serviceD", "8.2": "serviceD", "11.2": "serviceS",
            "11.3_now": "serviceT", "11.3_future": "serviceT", "11.3_cancel": "serviceT",
            "11.3_signed": "serviceS"}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.generate()


def _gateway(handler: Any) -> HttpDspGateway:
    return HttpDspGateway("https://boxed.example:8079/", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_request_goes_to_the_service_its_command_variant_needs(pki: Pki, kind: str) -> None:
    """CV 8 to serviceD, CV 1 and 5 to serviceS, CV 4 to serviceT, under the base URL."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"<answer/>")

    xml = build.sign_request(sample_requests(pki)[kind], pki.supplier_xml.identity)
    assert _gateway(handler).send(xml) == b"<answer/>"
    assert str(seen[0].url) == f"https://boxed.example:8079/api/v1/{EXPECTED[kind]}"
    assert seen[0].content == xml and seen[0].headers["content-type"] == "application/xml"


def test_unknown_or_missing_command_variants_are_refused_before_sending() -> None:
    """A variant with no DCC service, or none at all, is a refusal, not a retry."""
    with pytest.raises(DspRefusedError):
        service_url("https://x", 6)
    with pytest.raises(DspRefusedError):
        command_variant(b"<sr:Request><sr:Header/></sr:Request>")


@pytest.mark.parametrize(("status", "error"), [(400, DspRefusedError), (403, DspRefusedError),
                                               (404, DspRefusedError), (429, DspUnavailableError),
                                               (500, DspUnavailableError),
                                               (503, DspUnavailableError)])
def test_http_status_decides_between_refusal_and_retry(pki: Pki, status: int,
                                                       error: type[Exception]) -> None:
    """4xx is a refusal carrying the status; 5xx (and 429 throttling) are transient."""
    gateway = _gateway(lambda _: httpx.Response(status, text="nope"))
    xml = build.sign_request(sample_requests(pki)["11.2"], pki.supplier_xml.identity)
    with pytest.raises(error) as caught:
        gateway.send(xml)
    if error is DspRefusedError:
        assert caught.value.code == f"HTTP {status}"  # type: ignore[attr-defined]


def test_connection_errors_are_transient(pki: Pki) -> None:
    """A DSP that cannot be reached is retried later."""
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    xml = build.sign_request(sample_requests(pki)["11.2"], pki.supplier_xml.identity)
    with pytest.raises(DspUnavailableError):
        _gateway(handler).send(xml)


class _Ex:
    """The parts of an Execution `outbound.read_answer` uses."""

    def __init__(self, pki: Pki, answer: bytes = b"") -> None:
        from duis.keys import TrustStore

        self.trust = TrustStore.of([pki.dcc_xml.certificate])
        self.verify_at: dt.datetime | None = None
        self.answer = answer
        self.gateway = self

    def send(self, xml: bytes) -> bytes:
        return self.answer


def _response(rid: RequestId | None, code: str) -> Response:
    header = ResponseHeader(rid, None, code, NOW)
    return Response("5.4", header, ResponseMessage("11.2", "11.2"))


def _unsigned(response: Response) -> bytes:
    return etree.tostring(respond.response_element(response), xml_declaration=True,
                          encoding="UTF-8")


def test_an_unsigned_e_code_to_our_request_ends_the_job_rejected_with_its_code(pki: Pki) -> None:
    """DCC Boxed answers E-codes unsigned: read, and every device of the send is refused."""
    ex = _Ex(pki, _unsigned(_response(OURS, "E65")))
    response = outbound.transmit(ex, b"<request/>", OURS)  # type: ignore[arg-type]
    send = Send("11.2", "1", [DeviceJob(1, DEVICE, ("1",))], [OURS])
    outcomes = outbound.sync_outcomes(send, str(OURS), response)
    assert [(d, o.kind, o.detail) for d, o in outcomes] == [
        (DEVICE, "refused", "response code E65")]


def test_an_unsigned_answer_to_another_request_is_not_accepted(pki: Pki) -> None:
    """Unsigned is accepted only as the answer to the very request we sent; anything else
    is rejected with its bytes (to be quarantined), not retried as a DSP outage."""
    other = RequestId(SUPPLIER, DEVICE, OURS.counter + 1)
    answer = _unsigned(_response(other, "I0"))
    with pytest.raises(AnswerRejectedError, match="not for our request") as caught:
        outbound.transmit(_Ex(pki, answer), b"<request/>", OURS)  # type: ignore[arg-type]
    assert caught.value.answer == answer and not isinstance(caught.value, TransientError)


def test_a_non_xml_answer_is_a_refusal_not_an_endless_retry(pki: Pki) -> None:
    """An HTML error page with status 200 refuses the request, with the reason."""
    ex = _Ex(pki, b"<html><body>Service down")
    with pytest.raises(DspRefusedError) as caught:
        outbound.exchange(ex, b"<request/>", OURS, codes := {})  # type: ignore[arg-type]
    assert caught.value.code == "unreadable" and codes == {str(OURS): "unreadable"}


def test_signed_answers_must_verify_and_are_read_when_they_do(pki: Pki) -> None:
    """A DCC-signed answer verifies; one signed by anybody else is not trusted."""
    good = respond.sign_response(_response(OURS, "I99"), pki.dcc_xml.identity)
    codes: dict[str, str] = {}
    read = outbound.exchange(_Ex(pki, good), b"<r/>", OURS, codes)  # type: ignore[arg-type]
    assert read.header.response_code == "I99" and codes == {str(OURS): "I99"}
    forged = respond.sign_response(_response(OURS, "I99"), pki.supplier_xml.identity)
    with pytest.raises(AnswerRejectedError, match="answer rejected") as caught:
        outbound.transmit(_Ex(pki, forged), b"<r/>", OURS)  # type: ignore[arg-type]
    assert caught.value.answer == forged and not isinstance(caught.value, TransientError)


def test_an_activation_uses_one_request_id_for_cv4_and_cv5() -> None:
    """11.3 takes one counter; the CV5 repeats the CV4's RequestID; one sent-request row."""
    send = Send("11.3", "1", [DeviceJob(1, DEVICE, ("1",))])
    assert send.counters_needed == 1
    send.assign(OURS)
    assert send.request_ids == [OURS, OURS] and send.variants == (4, 5)
    row = send.sent_row(7, NOW)
    assert (row["request_id"], row["command_variant"], row["sr_type"]) == (str(OURS), 5, "11.3")


def test_what_passes_by_itself_is_transient_and_only_that_is_retried_by_the_task(
        pki: Pki) -> None:
    """Sender lock or pacing store unreachable, DSP unreachable: `TransientError`s, which the
    dispatch task retries with backoff; a rejected answer is not one of them."""
    import redis

    from orchestrator.adapters.locks import RedisSendLock
    from orchestrator.adapters.redis_pacer import RedisPacer
    from orchestrator.domain.policy import Budget
    from orchestrator.entrypoints.tasks import dispatch_campaign
    from orchestrator.errors import PacingUnavailableError, SenderBusyError

    nowhere = redis.Redis(port=1, socket_connect_timeout=0.2)
    with pytest.raises(SenderBusyError), RedisSendLock(nowhere)():
        pass
    with pytest.raises(PacingUnavailableError):
        RedisPacer(nowhere).acquire(Budget("11.1", 5, 3600.0), 1, NOW)
    with pytest.raises(DspUnavailableError):
        _gateway(lambda request: httpx.Response(503)).send(
            build.sign_request(sample_requests(pki)["11.2"], pki.supplier_xml.identity))
    assert dispatch_campaign.autoretry_for == (TransientError,)
    assert all(issubclass(e, TransientError)
               for e in (SenderBusyError, PacingUnavailableError, DspUnavailableError))
    assert not issubclass(AnswerRejectedError, TransientError)
