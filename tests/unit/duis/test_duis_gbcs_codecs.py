"""The GBCS codecs: every encoder's output decodes back to its inputs; bad input is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duis import gbcs
from duis.errors import GbcsPayloadError, PreCommandMismatchError
from duis.gbcs import wire
from duis.testing.pki import Pki
from duis.testing.samples import DEVICE, SUPPLIER

DCC = "90-B3-D5-1F-30-00-00-02"
counters = st.integers(0, 2**64 - 1)
small = st.integers(0, 2**40)
hashes = st.binary(min_size=32, max_size=32)
versions = st.binary(min_size=4, max_size=4).map(lambda b: b.hex().upper())
times = st.datetimes(datetime(2001, 1, 1), datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC))
results = st.integers(0, 255)


@given(st.integers(-(2**70), 2**70))
def test_der_integers_round_trip(value: int) -> None:
    """Any INTEGER encodes minimally and decodes to itself."""
    raw = wire.der_integer(value)
    assert wire.decode_der(raw) == value
    assert len(raw) == 2 + max(1, (value + (value < 0)).bit_length() // 8 + 1)


@given(counters, hashes, st.one_of(st.none(), times))
def test_pre_commands_round_trip(counter: int, digest: bytes, at: datetime | None) -> None:
    """A CS06 pre-command decodes to the hash, counter and execution time it was built from."""
    message = gbcs.decode_message(gbcs.encode_pre_command(counter, SUPPLIER, DEVICE, gbcs.CS06,
                                                          digest, at))
    assert message.frame.signature is None and message.originator_counter == counter
    assert message.body == gbcs.ActivationCommand(digest, counter, at)


@given(st.sampled_from(["ECS52", "GCS38", "CS08"]), small, versions, results)
def test_version_responses_round_trip(use_case: str, counter: int, version: str,
                                      result: int) -> None:
    """ECS52, GCS38 and CS08 responses give back the version on success, the result on error."""
    raw = gbcs.encode_firmware_version_response(use_case, counter, DEVICE, SUPPLIER, version,
                                                result)
    body = gbcs.decode_message(raw).body
    expected = version if result == 0 else None
    assert body == gbcs.FirmwareVersionResponse(use_case, expected, result)


@given(small, times, st.one_of(st.none(), results), versions)
def test_activation_responses_round_trip(counter: int, at: datetime, result: int | None,
                                         version: str) -> None:
    """CS06 responses keep their date-time, result and version (NULL when accepted for later)."""
    message = gbcs.decode_message(
        gbcs.encode_activation_response(counter, DEVICE, SUPPLIER, at, result, version))
    assert message.date_time == at
    assert message.body == gbcs.ActivationResponse(result, None if result is None else version)


@given(small, times, small, results, versions, hashes, st.booleans())
def test_alerts_round_trip(counter: int, at: datetime, command: int, result: int, version: str,
                           digest: bytes, gbz: bool) -> None:
    """0x00CA, FDRA (DLMS and GBZ), CCS08 and CS09 alerts decode to their inputs."""
    dated = gbcs.FutureDatedActivationAlert(0x8F67, at, command, result, version)
    receipt = gbcs.FirmwareDistributionReceipt(0x8F1C, at, digest)
    moved = gbcs.FirmwareTransferAlert(0x8F89, at, DEVICE, version, result)
    ran = gbcs.PpmidActivationAlert(0x8F8B, at, version, result)
    for body, raw in (
        (dated, gbcs.encode_future_dated_alert(counter, DEVICE, SUPPLIER, dated)),
        (receipt, gbcs.encode_fdra(counter, DEVICE, SUPPLIER, receipt, gbz_format=gbz)),
        (moved, gbcs.encode_transfer_alert(counter, DEVICE, DCC, moved)),
        (ran, gbcs.encode_ppmid_activation_alert(counter, DEVICE, DCC, ran)),
    ):
        message = gbcs.decode_message(raw)
        assert message.cra_flag == gbcs.CRA_ALERT and message.body == body


def test_device_signatures_cover_the_message_without_its_tag(pki: Pki, other_pki: Pki) -> None:
    """A signed alert verifies with its key only, and not once a byte changes."""
    receipt = gbcs.FirmwareDistributionReceipt(0x8F72, datetime(2030, 1, 1, tzinfo=UTC),
                                               b"\x01" * 32)
    raw = gbcs.encode_fdra(1, DEVICE, SUPPLIER, receipt, key=pki.supplier_ds.key)
    frame = gbcs.decode_frame(raw)
    gbcs.verify_frame(frame, pki.supplier_ds.key.public_key())
    assert frame.signed_part == raw[1:-65]
    with pytest.raises(GbcsPayloadError):
        gbcs.verify_frame(frame, other_pki.supplier_ds.key.public_key())
    tampered = bytearray(raw)
    tampered[-70] ^= 1
    with pytest.raises(GbcsPayloadError):
        gbcs.verify_frame(gbcs.decode_frame(bytes(tampered)), pki.supplier_ds.key.public_key())


@pytest.mark.parametrize(("raw", "reason"), [
    (bytes.fromhex("DF0901000000000000000108") + bytes(8), "truncated"),
    (gbcs.encode_pre_command(1, SUPPLIER, DEVICE, 0x0999, b"\x01" * 32, None), "0x0999"),
    (gbcs.encode_pre_command(1, SUPPLIER, DEVICE, gbcs.ECS52, b"\x01" * 32, None), "expected DLMS"),
    (b"\xdd" + bytes(6) + b"\x06\x31" + bytes(5), "encrypted"),
])
def test_unsupported_or_broken_payloads_say_why(raw: bytes, reason: str) -> None:
    """Truncation, unknown message codes, wrong content and encrypted content are named."""
    with pytest.raises(GbcsPayloadError, match=reason):
        gbcs.decode_message(raw)


def test_cancellation_maps_to_the_gbcs_cancel_time() -> None:
    """DUIS 3000-12-31 becomes 99991231235959Z, and the check accepts exactly that."""
    cancel = datetime(3000, 12, 31, tzinfo=UTC)
    pre = gbcs.encode_pre_command(9, SUPPLIER, DEVICE, gbcs.CS06, b"\x02" * 32, cancel)
    assert b"99991231235959Z" in pre
    want = gbcs.ExpectedActivation(SUPPLIER, DEVICE, b"\x02" * 32, 9, cancel)
    assert gbcs.check_pre_command(pre, want).cancels
    with pytest.raises(PreCommandMismatchError, match="execution time"):
        gbcs.check_pre_command(pre, gbcs.ExpectedActivation(SUPPLIER, DEVICE, b"\x02" * 32, 9,
                                                            None))


def test_signing_refuses_anything_but_an_unsigned_cs06_pre_command(pki: Pki) -> None:
    """A signed command, an 11.2 command or a wrong hash length is never signed."""
    key = pki.supplier_ds.key
    pre = gbcs.encode_pre_command(1, SUPPLIER, DEVICE, gbcs.CS06, b"\x01" * 32, None)
    read = gbcs.encode_read_firmware_command("ECS52", 1, SUPPLIER, DEVICE)
    for payload in (gbcs.sign_pre_command(pre, key), read, read[9:-12]):
        with pytest.raises(GbcsPayloadError):
            gbcs.sign_pre_command(payload, key)
    with pytest.raises(GbcsPayloadError, match="32 bytes"):
        gbcs.encode_pre_command(1, SUPPLIER, DEVICE, gbcs.CS06, b"\x01" * 31, None)
    with pytest.raises(GbcsPayloadError, match="use case"):
        gbcs.encode_read_firmware_command("XYZ", 1, SUPPLIER, DEVICE)
