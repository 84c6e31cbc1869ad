"""Check before you sign: the CV5 is built only from the pre-command of the 11.3 we sent."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from duis import gbcs
from duis.errors import PreCommandMismatchError
from duis.keys import raw_ecdsa_verify
from duis.models import PreCommand, Response, ResponseHeader, ResponseMessage, SignedPreCommand
from duis.parse import parse_request
from duis.requestid import RequestId
from duis.testing.pki import Pki
from orchestrator.domain.jobs import DeviceJob
from orchestrator.errors import DspUnavailableError
from orchestrator.service import outbound
from orchestrator.service.outbound import CANCEL_AT, Send
from orchestrator.service.wiring import SupplierIdentity

SUPPLIER, DEVICE = "90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0"
OTHER = "00-DB-12-34-56-78-90-A1"
CV4 = RequestId(SUPPLIER, DEVICE, 1_700_000_000_123)
HASH = "aa758690730934ff0685aa758690730934ff0685657788990011223344556677"
AT = dt.datetime(2030, 1, 15, 9, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def identity() -> SupplierIdentity:
    pki = Pki.generate()
    return SupplierIdentity(SUPPLIER, pki.supplier_xml.identity, pki.supplier_ds.key)


def _send(execute_at: dt.datetime | None = None) -> Send:
    job = DeviceJob(1, DEVICE, ("E1",))
    return Send("11.3", "E1", [job], [CV4, CV4], execute_at, image_hash=HASH)


def _answer(payload: bytes) -> Response:
    header = ResponseHeader(CV4, RequestId(DEVICE, SUPPLIER, CV4.counter), "I0", AT)
    return Response("5.4", header, ResponseMessage("11.3", "11.3",
                                                   pre_command=PreCommand("4.0", payload)))


def _pre(**change: Any) -> bytes:
    fields: dict[str, Any] = {"counter": CV4.counter, "originator": SUPPLIER, "device": DEVICE,
                              "code": gbcs.CS06, "hash": bytes.fromhex(HASH), "at": None}
    fields.update(change)
    return gbcs.encode_pre_command(fields["counter"], fields["originator"], fields["device"],
                                   fields["code"], fields["hash"], fields["at"])


@pytest.mark.parametrize("at", [None, AT, CANCEL_AT], ids=["now", "future", "cancel"])
def test_a_matching_pre_command_is_signed_over_all_but_its_first_byte(
        identity: SupplierIdentity, at: dt.datetime | None) -> None:
    """The CV5 carries pre-command | 0x40 | r||s over pre-command[1:], under the CV4's RequestID."""
    pre = _pre(at=at)
    xml = outbound.sign_pre_command(None, _send(at), _answer(pre), identity)  # type: ignore[arg-type]
    request = parse_request(xml).request
    assert isinstance(request, SignedPreCommand) and request.request_id == CV4
    payload = request.gbcs_payload
    assert payload[: len(pre)] == pre and payload[len(pre)] == 0x40
    public = identity.digital_signing_key.public_key()
    assert raw_ecdsa_verify(public, payload[len(pre) + 1 :], pre[1:])
    assert not raw_ecdsa_verify(public, payload[len(pre) + 1 :], pre)


@pytest.mark.parametrize("change,field", [
    ({"device": OTHER}, "target device"),
    ({"hash": bytes(32)}, "image hash"),
    ({"counter": CV4.counter + 1}, "counter"),
    ({"at": AT}, "execution time"),
    ({"originator": "90-B3-D5-1F-30-01-00-01"}, "originator"),
    ({"code": 0x005A}, "not a CS06 pre-command"),
])
def test_a_pre_command_we_did_not_ask_for_is_refused_with_the_reason(
        identity: SupplierIdentity, change: dict[str, Any], field: str) -> None:
    """Another device, hash, counter, time, originator or message code: never signed."""
    with pytest.raises(PreCommandMismatchError, match=field):
        outbound.sign_pre_command(None, _send(), _answer(_pre(**change)), identity)  # type: ignore[arg-type]


def test_the_old_dlms_shape_and_garbage_are_refused(identity: SupplierIdentity) -> None:
    """A pre-command that is not CS06 ASN.1 (a trailing 0x00, random bytes) is refused."""
    for payload in (_pre() + b"\x00", b"\xdf\x09\x01", b"not gbcs"):
        with pytest.raises(PreCommandMismatchError):
            outbound.sign_pre_command(None, _send(), _answer(payload), identity)  # type: ignore[arg-type]


def test_an_answer_without_a_pre_command_is_transient(identity: SupplierIdentity) -> None:
    """An I0 with no PreCommand is the DSP misbehaving: retried, not signed."""
    header = ResponseHeader(CV4, None, "I0", AT)
    answer = Response("5.4", header, ResponseMessage("11.3", "11.3"))
    with pytest.raises(DspUnavailableError):
        outbound.sign_pre_command(None, _send(), answer, identity)  # type: ignore[arg-type]
