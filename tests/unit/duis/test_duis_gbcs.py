"""The GBCS payload codec: responses, alerts and signed pre-commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duis import gbcs
from duis.errors import GbcsPayloadError
from duis.testing.pki import Pki
from duis.testing.samples import DEVICE, SUPPLIER

AT = datetime(2030, 1, 15, 9, 0, 0, tzinfo=UTC)


def _response(version: bytes = b"\x00\x02\x01\x2f") -> bytes:
    return gbcs.encode_firmware_version_response("ECS52", 7, DEVICE, SUPPLIER, version.hex())


def _version(message: gbcs.GbcsMessage) -> str | None:
    assert isinstance(message.body, gbcs.FirmwareVersionResponse)
    return message.body.firmware_version


def test_firmware_version_response_round_trips() -> None:
    """An encoded 11.2 answer decodes to the same version and parties."""
    message = gbcs.decode_message(_response())
    assert _version(message) == "0002012F"
    assert (message.originator, message.recipient, message.originator_counter) == (
        DEVICE,
        SUPPLIER,
        7,
    )


def test_alert_carries_time_and_hash() -> None:
    """A 0x8F72 alert keeps its timestamp and the device's computed hash."""
    receipt = gbcs.FirmwareDistributionReceipt(0x8F72, AT, b"\xab" * 32)
    message = gbcs.decode_message(gbcs.encode_fdra(3, DEVICE, SUPPLIER, receipt))
    assert message.cra_flag == gbcs.CRA_ALERT and message.body.time == AT
    assert (message.body.alert_code, message.body.image_hash) == (0x8F72, b"\xab" * 32)


def test_signed_pre_command_verifies_and_tamper_fails(pki: Pki, other_pki: Pki) -> None:
    """The Supplier's digital signature on a pre-command verifies only unchanged and with its key."""
    pre = gbcs.encode_pre_command(1, SUPPLIER, DEVICE, gbcs.CS06, b"\x11" * 32, AT)
    signed = gbcs.sign_pre_command(pre, pki.supplier_ds.key)
    verified = gbcs.verify_signed_pre_command(signed, pki.supplier_ds.key.public_key())
    assert verified.body.execution_time == AT
    with pytest.raises(GbcsPayloadError):
        gbcs.verify_signed_pre_command(signed, other_pki.supplier_ds.key.public_key())
    tampered = bytearray(signed)
    tampered[-70] ^= 1
    with pytest.raises(GbcsPayloadError):
        gbcs.verify_signed_pre_command(bytes(tampered), pki.supplier_ds.key.public_key())


def test_signing_an_already_signed_pre_command_is_refused(pki: Pki) -> None:
    """Only an unsigned pre-command can be signed."""
    pre = gbcs.encode_pre_command(1, SUPPLIER, DEVICE, gbcs.CS06, b"\x11" * 32, None)
    with pytest.raises(GbcsPayloadError):
        gbcs.sign_pre_command(gbcs.sign_pre_command(pre, pki.supplier_ds.key), pki.supplier_ds.key)


@given(st.integers(0, 120))
def test_truncated_payloads_raise_payload_errors(cut: int) -> None:
    """Every truncation of a valid payload gives GbcsPayloadError."""
    data = _response()
    if cut >= len(data):
        return
    with pytest.raises(GbcsPayloadError):
        _version(gbcs.decode_message(data[:cut]))


@given(st.binary(max_size=200))
def test_random_payloads_only_raise_payload_errors(data: bytes) -> None:
    """Garbage decodes or raises GbcsPayloadError, nothing else."""
    try:
        gbcs.decode_message(data)
    except GbcsPayloadError:
        pass
