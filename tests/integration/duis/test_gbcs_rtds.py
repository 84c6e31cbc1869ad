"""Golden tests: every GBCS vector of the DCC's RTDS 4.5.0 decodes to the documented fields.

A vector in `reference/gbcs-rtds/` that this table does not cover fails the suite. Device
and Supplier signatures are verified with the RTDS keystore; the encoders reproduce each
vector byte for byte apart from signatures (randomised ECDSA, or device keys we lack).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from duis import gbcs
from duis.errors import GbcsPayloadError
from duis.gbcs import (
    ActivationCommand as Cmd,
)
from duis.gbcs import (
    ActivationResponse as Resp,
)
from duis.gbcs import (
    FirmwareDistributionReceipt as Fdra,
)
from duis.gbcs import (
    FirmwareTransferAlert as Transfer,
)
from duis.gbcs import (
    FirmwareVersionResponse as Version,
)
from duis.gbcs import (
    FutureDatedActivationAlert as Dated,
)
from duis.gbcs import (
    PpmidActivationAlert as Ppmid,
)
from duis.gbcs import (
    ReadFirmwareVersionCommand as Read,
)
from duis.keys import load_certificate, load_private_key, public_p256

SUP, DCC = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
A0, A1, A2, A4, A5 = (f"00-DB-12-34-56-78-90-{x}" for x in ("A0", "A1", "A2", "A4", "A5"))
H = bytes.fromhex("AA758690730934FF0685AA758690730934FF0685657788990011223344556677")
AT, ERR_AT = datetime(2030, 1, 15, 9, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
Y2015 = datetime(2015, 1, 1, tzinfo=UTC)
C, R, A = gbcs.CRA_COMMAND, gbcs.CRA_RESPONSE, gbcs.CRA_ALERT
DLMS_READ, ZCL_READ = "1/0000000201FF/2", "0702/0206"

# file -> (message code, CRA, originator, recipient, counter, relayed for, body)
VECTORS: dict[str, tuple[int, int, str, str, int, tuple[str, int] | None, Any]] = {
    "11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX": (0x59, C, SUP, A0, 1000, None, Read("ECS52", DLMS_READ)),
    "11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX": (0x59, R, A0, SUP, 1000, None, Version("ECS52", "0123ABCD", 0)),
    "11.2_ECS52/ECS52_11.2_ERROR_COMMAND_GBCS.HEX": (0x59, C, SUP, A0, 1002, None, Read("ECS52", DLMS_READ)),
    "11.2_ECS52/ECS52_11.2_ERROR_RESPONSE_GBCS.HEX": (0x59, R, A0, SUP, 1002, None, Version("ECS52", None, 1)),
    "11.2_GCS38/GCS38_11.2_SUCCESS_COMMAND_GBCS.HEX": (0x84, C, SUP, A1, 1000, None, Read("GCS38", ZCL_READ)),
    "11.2_GCS38/GCS38_11.2_SUCCESS_RESPONSE_GBCS.HEX": (0x84, R, A1, SUP, 1000, None, Version("GCS38", "0123ABCD", 0)),
    "11.2_GCS38/GCS38_11.2_ERROR_COMMAND_GBCS.HEX": (0x84, C, SUP, A1, 1002, None, Read("GCS38", ZCL_READ)),
    "11.2_GCS38/GCS38_11.2_ERROR_RESPONSE_GBCS.HEX": (0x84, R, A1, SUP, 1002, None, Version("GCS38", None, 0xC0)),
    "11.2_CS08/CS08_11.2_SUCCESS_COMMAND_GBCS.HEX": (0x129, C, DCC, A4, 1300, (SUP, 1000), Read("CS08")),
    "11.2_CS08/CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX": (0x129, R, A4, DCC, 1300, (SUP, 1000), Version("CS08", "0123ABCD", 0)),
    "11.2_CS08/CS08_11.2_ERROR_COMMAND_GBCS.HEX": (0x129, C, DCC, A5, 1301, (SUP, 1001), Read("CS08")),
    "11.2_CS08/CS08_11.2_ERROR_RESPONSE_GBCS.HEX": (0x129, R, A5, DCC, 1301, (SUP, 1001), Version("CS08", None, 1)),
    "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1000, None, Cmd(H, 1000)),
    "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1000, None, Cmd(H, 1000)),
    "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX": (0x12, R, A0, SUP, 1000, None, Resp(0, "0123ABCE")),
    "11.3_CS06/CS06_11.3_IMMEDIATE_ERROR_PRECOMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1005, None, Cmd(H, 1005)),
    "11.3_CS06/CS06_11.3_IMMEDIATE_ERROR_COMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1005, None, Cmd(H, 1005)),
    "11.3_CS06/CS06_11.3_IMMEDIATE_ERROR_RESPONSE_GBCS.HEX": (0x12, R, A0, SUP, 1005, None, Resp(1, "0123ABCF")),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1001, None, Cmd(H, 1001, AT)),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1001, None, Cmd(H, 1001, AT)),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX": (0x12, R, A0, SUP, 1001, None, Resp(None)),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_ERROR_PRECOMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1004, None, Cmd(H, 1004, ERR_AT)),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_ERROR_COMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1004, None, Cmd(H, 1004, ERR_AT)),
    "11.3_CS06/CS06_11.3_FUTURE_DATED_ERROR_RESPONSE_GBCS.HEX": (0x12, R, A0, SUP, 1004, None, Resp(None)),
    "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_PRECOMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1002, None, Cmd(H, 1002, gbcs.CANCEL_TIME)),
    "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_COMMAND_GBCS.HEX": (0x12, C, SUP, A0, 1002, None, Cmd(H, 1002, gbcs.CANCEL_TIME)),
    "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_RESPONSE_GBCS.HEX": (0x12, R, A0, SUP, 1002, None, Resp(None)),
    "11.3_CS06/CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX": (0xCA, A, A0, SUP, 2000, None, Dated(0x8F66, AT, 1001, 0, "0123ABCF")),
    "11.3_CS06/CS06_11.3_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX": (0xCA, A, A0, SUP, 2001, None, Dated(0x8F67, ERR_AT, 1004, 2, "0123ABCF")),
    "NA_FDRA-DLMS/FDRA-DLMS_NA_8F72_ALERT_GBCS.HEX": (0xCE, A, A0, SUP, 2000, None, Fdra(0x8F72, Y2015, b"\x01" * 32)),
    "NA_FDRA-ZigBee/FDRA-ZigBee_NA_8F72_ALERT_GBCS.HEX": (0xCF, A, A1, SUP, 3000, None, Fdra(0x8F72, Y2015, b"\xa1" * 32)),
    "NA_CCS08/CCS08_NA_NA_ALERT_GBCS.HEX": (0x128, A, A2, DCC, 4000, None, Transfer(0x8F8A, Y2015, A4, "0123ABCD", 0)),
    "NA_CS09/CS09_NA_8F8B_ALERT_GBCS.HEX": (0x12B, A, A4, DCC, 5000, None, Ppmid(0x8F8B, Y2015, "1234ABCD", 0)),
}


@pytest.fixture(scope="module")
def rtds(reference: Path) -> Path:
    """The RTDS GBCS vectors."""
    folder = reference / "gbcs-rtds"
    if not (folder / "keystore").is_dir():
        message = f"RTDS GBCS vectors {folder} are absent (not shipped with the project)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires them")
        pytest.skip(message)
    return folder


def _raw(rtds: Path, name: str) -> bytes:
    return bytes.fromhex((rtds / name).read_text().strip())


def test_every_vector_in_the_folder_is_covered(rtds: Path) -> None:
    """A GBCS vector file the golden table does not decode fails the suite."""
    files = {p.relative_to(rtds).as_posix() for p in rtds.rglob("*.HEX")}
    assert files, "no RTDS vectors found"
    assert files - set(VECTORS) == set(), "vectors without golden fields"
    assert set(VECTORS) - files == set(), "golden fields for vectors that are gone"


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_each_vector_decodes_to_its_fields(rtds: Path, name: str) -> None:
    """Message code, CRA flag, parties, counter, relayed User and the decoded body match."""
    code, cra, originator, recipient, counter, relayed, body = VECTORS[name]
    message = gbcs.decode_message(_raw(rtds, name))
    frame = message.frame
    assert (message.message_code, message.cra_flag) == (code, cra)
    assert (message.originator, message.recipient, message.originator_counter) == (
        originator, recipient, counter)
    assert frame.relayed_for == relayed
    assert message.body == body
    assert (frame.mac is not None) == (name.startswith("11.2") or "_COMMAND_" in name)
    if cra == R and code == 0x12:
        assert message.date_time == Y2015


def _signer(rtds: Path, eui: str) -> Any:
    pem = (rtds / "keystore" / f"{eui.replace('-', '').lower()}-ds.pem").read_bytes()
    return public_p256(load_certificate(pem))


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_signatures_verify_with_the_keystore(rtds: Path, name: str) -> None:
    """Signed vectors verify with the originator's certificate; unsigned ones carry none."""
    message = gbcs.decode_message(_raw(rtds, name))
    frame = message.frame
    if "PRECOMMAND" in name:
        assert frame.signature is None
        return
    if name.startswith("11.2"):
        assert frame.signature == b""
        return
    gbcs.verify_frame(frame, _signer(rtds, message.originator))
    with pytest.raises(GbcsPayloadError):
        gbcs.verify_frame(frame, _signer(rtds, A5))


def _reencode(message: gbcs.GbcsMessage, key: Any) -> bytes:
    """The vector built again from its decoded facts (signed with `key` if a command)."""
    f, b = message.frame, message.body
    mac = f.mac or bytes(12)
    if isinstance(b, Read):
        return gbcs.encode_read_firmware_command(b.use_case, f.originator_counter, f.originator,
                                                 f.recipient, f.relayed_for, mac)
    if isinstance(b, Version):
        return gbcs.encode_firmware_version_response(
            b.use_case, f.originator_counter, f.originator, f.recipient, b.firmware_version,
            b.result, f.relayed_for, mac)
    if isinstance(b, Cmd):
        pre = gbcs.encode_pre_command(f.originator_counter, f.originator, f.recipient,
                                      f.message_code, b.image_hash, b.execution_time)
        return pre if f.signature is None else gbcs.encode_activation_command(pre, key, mac)
    if isinstance(b, Resp):
        return gbcs.encode_activation_response(f.originator_counter, f.originator, f.recipient,
                                               f.date_time, b.result, b.firmware_version)
    encoders = {Dated: gbcs.encode_future_dated_alert, Transfer: gbcs.encode_transfer_alert,
                Ppmid: gbcs.encode_ppmid_activation_alert}
    if isinstance(b, Fdra):
        return gbcs.encode_fdra(f.originator_counter, f.originator, f.recipient, b,
                                gbz_format=f.message_code == gbcs.FDRA_GBZ)
    return encoders[type(b)](f.originator_counter, f.originator, f.recipient, b)  # type: ignore[operator]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_encoders_reproduce_each_vector(rtds: Path, name: str) -> None:
    """Re-encoded from the decoded facts, every vector comes back byte for byte (bar signatures)."""
    raw = _raw(rtds, name)
    key = load_private_key((rtds / "keystore" / "90b3d51f30010000-ds.key").read_bytes())
    message = gbcs.decode_message(raw)
    again = _reencode(message, key)
    frame, rebuilt = message.frame, gbcs.decode_frame(again)
    if frame.signature:  # ECDSA is randomised, and devices' keys are not in the keystore
        assert rebuilt.signed_part == frame.signed_part
        if frame.mac is not None:  # a CS06 command: we signed it as the Supplier
            assert again[:-76] == raw[:-76] and again[-12:] == raw[-12:]
            gbcs.verify_frame(rebuilt, key.public_key())
        return
    assert again == raw


def test_the_supplier_key_made_the_command_signatures(rtds: Path) -> None:
    """A CS06 pre-command signed with the keystore key equals the vector's command but for r||s."""
    key = load_private_key((rtds / "keystore" / "90b3d51f30010000-ds.key").read_bytes())
    pre = _raw(rtds, "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX")
    command = _raw(rtds, "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX")
    signed = gbcs.sign_pre_command(pre, key)
    inner = gbcs.decode_frame(command)
    assert signed[: len(pre) + 1] == pre + b"\x40"
    assert inner.signed_part == pre[1:]
    gbcs.verify_frame(gbcs.decode_frame(signed), key.public_key())
