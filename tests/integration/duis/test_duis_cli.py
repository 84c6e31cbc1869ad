"""`fwo image` and `fwo duis` through Typer's CliRunner."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from lxml import etree
from typer.testing import CliRunner

from duis import gbcs, respond
from duis.keys import raw_ecdsa_verify
from duis.models import PreCommand, Response, ResponseHeader, ResponseMessage, SignedPreCommand
from duis.parse import parse_request
from duis.requestid import RequestId
from duis.testing.pki import Pki
from duis.testing.samples import DEVICE, SUPPLIER
from orchestrator.entrypoints.cli import duis_cmds


def _app() -> typer.Typer:
    """The real `fwo` app when it imports, else the two duis sub-apps mounted the same way."""
    try:
        from orchestrator.entrypoints.cli.main import app
    except ImportError:
        app = typer.Typer()
        app.add_typer(duis_cmds.image_app, name="image")
        app.add_typer(duis_cmds.duis_app, name="duis")
    return app


APP = _app()
runner = CliRunner()


@pytest.fixture()
def files(tmp_path: Path, pki: Pki) -> dict[str, Path]:
    """PKI files and a Manufacturer Image in a temporary directory."""
    paths = pki.write(tmp_path / "pki")
    paths["mi"] = tmp_path / "mi.bin"
    paths["mi"].write_bytes(b"manufacturer image " * 64)
    return paths


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(APP, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _image(files: dict[str, Path], tmp_path: Path) -> Path:
    out = tmp_path / "img.bin"
    code, output = _run(
        "image",
        "build",
        "--manufacturer-image",
        files["mi"],
        "--manufacturer-code",
        "121D",
        "--image-type",
        "0000",
        "--file-version",
        "ACDCACDC",
        "--min-hw",
        "1111",
        "--max-hw",
        "1211",
        "--sign-key",
        files["supplier_ds_key"],
        "--out",
        out,
    )
    assert code == 0, output
    return out


def test_image_build_inspect_and_verify(files: dict[str, Path], tmp_path: Path) -> None:
    """A built image inspects as JSON with upper-case hex and verifies with its certificate."""
    img = _image(files, tmp_path)
    code, output = _run("image", "inspect", img, "--json")
    info = json.loads(output)
    assert code == 0 and info["manufacturer_code"] == "121D" and info["file_version"] == "ACDCACDC"
    assert info["signed"] is True and len(info["manufacturer_image_hash"]) == 64
    assert set(info) == {
        "manufacturer_code",
        "image_type",
        "file_version",
        "stack_version",
        "header_string",
        "total_size",
        "min_hw",
        "max_hw",
        "manufacturer_image_hash",
        "signed",
    }
    assert _run("image", "verify", img, "--cert", files["supplier_ds_cert"])[0] == 0


def test_image_verify_with_wrong_certificate_fails_in_one_line(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """The wrong certificate exits non-zero with one line of reason."""
    code, output = _run("image", "verify", _image(files, tmp_path), "--cert", files["dcc_xml_cert"])
    assert code != 0 and output.strip().count("\n") == 0 and "does not verify" in output


def _sign_args(files: dict[str, Path]) -> list[str]:
    return [
        "--originator",
        SUPPLIER,
        "--counter",
        "1700000000000",
        "--sign-key",
        str(files["supplier_xml_key"]),
        "--sign-cert",
        str(files["supplier_xml_cert"]),
    ]


def test_update_firmware_build_verify_and_inspect(files: dict[str, Path], tmp_path: Path) -> None:
    """An 11.1 built by the CLI verifies and inspects with its devices and image hash."""
    out = tmp_path / "r.xml"
    code, output = _run(
        "duis",
        "build",
        "update-firmware",
        "--image",
        _image(files, tmp_path),
        "--firmware-version",
        "ACDCACDC",
        "--devices",
        f"{DEVICE},00-db-12-34-56-78-90-a1",
        *_sign_args(files),
        "--out",
        out,
    )
    assert code == 0, output
    assert _run("duis", "verify", out, "--trust", files["supplier_xml_cert"])[0] == 0
    view = json.loads(_run("duis", "inspect", out, "--json")[1])
    assert (view["service_reference"], view["command_variant"]) == ("11.1", 8)
    assert view["request_id"]["counter"] == 1700000000000
    assert view["body"]["device_ids"] == [DEVICE, "00-DB-12-34-56-78-90-A1"]
    assert view["body"]["image"]["signed"] is True


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], None),
        (["--at", "2030-01-15T09:00:00Z"], "2030-01-15T09:00:00Z"),
        (["--cancel"], "3000-12-31T00:00:00Z"),
    ],
)
def test_activate_firmware_variants(
    files: dict[str, Path], tmp_path: Path, extra: list[str], expected: str | None
) -> None:
    """11.3 immediate, future-dated and cancellation come out as CommandVariant 4."""
    out = tmp_path / "a.xml"
    code, output = _run(
        "duis",
        "build",
        "activate-firmware",
        "--target",
        DEVICE,
        "--hash",
        "ab" * 32,
        *extra,
        *_sign_args(files),
        "--out",
        out,
    )
    assert code == 0, output
    view = json.loads(_run("duis", "inspect", out, "--json")[1])
    assert view["command_variant"] == 4 and view["body"]["firmware_hash"] == "AB" * 32
    assert view["body"]["execution_datetime"] == expected


def test_read_requests_go_to_stdout(files: dict[str, Path]) -> None:
    """11.2 and 8.2 print signed XML on stdout; 8.2 targets the DCC."""
    code, output = _run(
        "duis", "build", "read-firmware-version", "--target", DEVICE, *_sign_args(files)
    )
    assert code == 0 and parse_request(output.encode()).request.sr.service_reference == "11.2"
    code, output = _run("duis", "build", "read-inventory", "--device", DEVICE, *_sign_args(files))
    parsed = parse_request(output.encode())
    assert code == 0 and parsed.request.request_id.target == "90-B3-D5-1F-30-00-00-02"


def test_dcc_response_verify_needs_the_fixed_time(dcc_dir: Path) -> None:
    """The expired DCC certificate verifies only with --at."""
    response = dcc_dir / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
    trust = dcc_dir / "certs_Z1-accessControlBroker-ds.pem"
    code, output = _run("duis", "verify", response, "--trust", trust)
    assert code != 0 and "not valid" in output
    assert (
        _run("duis", "verify", response, "--trust", trust, "--at", "2024-01-01T00:00:00Z")[0] == 0
    )


def test_inspect_response_shows_code_and_firmware_version(dcc_dir: Path) -> None:
    """Inspecting the DCC response shows I0 and the decoded 11.2 version."""
    code, output = _run(
        "duis", "inspect", dcc_dir / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML", "--json"
    )
    view = json.loads(output)
    assert code == 0 and view["header"]["response_code"] == "I0"
    assert view["body"]["firmware_version"] == "00020000"


@pytest.mark.parametrize(
    "args",
    [
        ["duis", "build", "read-inventory", "--device", "not-an-eui"],
        ["duis", "build", "activate-firmware", "--target", DEVICE, "--hash", "abc"],
        [
            "duis",
            "build",
            "activate-firmware",
            "--target",
            DEVICE,
            "--hash",
            "ab" * 32,
            "--at",
            "2030-01-01",
        ],
    ],
)
def test_user_errors_are_one_line(files: dict[str, Path], args: list[str]) -> None:
    """Bad input exits non-zero with a single line and no traceback."""
    code, output = _run(*args, *_sign_args(files))
    assert code != 0 and output.strip().startswith("error:") and "\n" not in output.strip()


def test_garbage_file_inspect_is_one_line(tmp_path: Path) -> None:
    """Inspecting a non-XML file is a one-line error."""
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")
    code, output = _run("duis", "inspect", bad, "--json")
    assert code != 0 and "DOCTYPE" in output


CV4_COUNTER = 1_700_000_000_000
PRE_HASH = bytes.fromhex("aa758690730934ff0685aa758690730934ff0685657788990011223344556677")
FUTURE = datetime(2030, 1, 15, 9, tzinfo=UTC)


def _cv4_response(tmp_path: Path, pre: bytes) -> Path:
    rid = RequestId(SUPPLIER, DEVICE, CV4_COUNTER)
    header = ResponseHeader(rid, RequestId(DEVICE, SUPPLIER, CV4_COUNTER), "I0", FUTURE)
    body = ResponseMessage("11.3", "11.3", pre_command=PreCommand("4.0", pre))
    path = tmp_path / "cv4.xml"
    path.write_bytes(etree.tostring(respond.response_element(Response("5.4", header, body))))
    return path


def _signed_pre_command_args(files: dict[str, Path], cv4: Path) -> list[str]:
    return ["duis", "build", "signed-pre-command", "--pre-command", str(cv4),
            "--ds-key", str(files["supplier_ds_key"]), "--originator", SUPPLIER,
            "--sign-key", str(files["supplier_xml_key"]),
            "--sign-cert", str(files["supplier_xml_cert"])]


def test_signed_pre_command_repeats_the_cv4_request_id_and_signs_without_the_tag(
    files: dict[str, Path], tmp_path: Path, pki: Pki
) -> None:
    """The CV5 keeps the CV4 RequestID and carries pre-command | 0x40 | r||s over [1:]."""
    pre = gbcs.encode_pre_command(CV4_COUNTER, SUPPLIER, DEVICE, gbcs.CS06, PRE_HASH, FUTURE)
    out = tmp_path / "cv5.xml"
    code, output = _run(*_signed_pre_command_args(files, _cv4_response(tmp_path, pre)),
                        "--at", "2030-01-15T09:00:00Z", "--hash", PRE_HASH.hex(), "--out", out)
    assert code == 0, output
    parsed = parse_request(out.read_bytes())
    request = parsed.request
    assert isinstance(request, SignedPreCommand) and parsed.command_variant == 5
    assert request.request_id == RequestId(SUPPLIER, DEVICE, CV4_COUNTER)
    assert request.gbcs_payload[: len(pre) + 1] == pre + b"\x40"
    signature = request.gbcs_payload[len(pre) + 1 :]
    assert raw_ecdsa_verify(pki.supplier_ds.key.public_key(), signature, pre[1:])
    view = json.loads(_run("duis", "inspect", out, "--json")[1])
    assert view["body"]["gbcs"]["message_code"] == "0012" and view["body"]["gbcs"]["signed"]
    assert view["body"]["gbcs"]["content"]["execution_time"] == "2030-01-15T09:00:00Z"


@pytest.mark.parametrize(("extra", "reason"), [
    (["--at", "2030-01-15T09:00:00Z", "--hash", "00" * 32], "image hash"),
    (["--at", "2031-01-15T09:00:00Z"], "execution time"),
    ([], "execution time"),
    (["--cancel"], "execution time"),
])
def test_signed_pre_command_refuses_what_we_did_not_ask_for(
    files: dict[str, Path], tmp_path: Path, extra: list[str], reason: str
) -> None:
    """Another hash or execution time than the 11.3's: one-line refusal, nothing written."""
    pre = gbcs.encode_pre_command(CV4_COUNTER, SUPPLIER, DEVICE, gbcs.CS06, PRE_HASH, FUTURE)
    out = tmp_path / "cv5.xml"
    code, output = _run(*_signed_pre_command_args(files, _cv4_response(tmp_path, pre)), *extra,
                        "--out", out)
    assert code != 0 and reason in output and output.strip().count("\n") == 0
    assert not out.exists()


def test_inspect_decodes_every_rtds_vector(reference: Path) -> None:
    """`fwo duis inspect --json` decodes each RTDS GBCS file to its message code and use case."""
    vectors = sorted((reference / "gbcs-rtds").rglob("*.HEX"))
    assert vectors
    for path in vectors:
        code, output = _run("duis", "inspect", path, "--json")
        assert code == 0, (path.name, output)
        view = json.loads(output)
        assert view["message"] == "gbcs" and len(view["message_code"]) == 4
        assert view["content_type"] and view["originator"]


def test_inspect_shows_the_gbcs_facts_of_an_alert_and_fails_on_garbage(tmp_path: Path) -> None:
    """A DeviceAlertMessage shows its decoded FDRA; an undecodable payload exits non-zero."""
    header = ResponseHeader(None, RequestId(DEVICE, SUPPLIER, 9), "I0", FUTURE)
    alert = respond.device_alert(0x8F72, DEVICE, SUPPLIER, 9, FUTURE, b"\x01" * 32)
    good = tmp_path / "alert.xml"
    good.write_bytes(etree.tostring(respond.response_element(Response("5.4", header, alert))))
    view = json.loads(_run("duis", "inspect", good, "--json")[1])
    assert view["body"]["gbcs"]["content"]["image_hash"] == "01" * 32
    assert view["body"]["gbcs"]["message_code"] == "00CE"
    broken = replace(alert, gbcs_payload=alert.gbcs_payload[:20])
    bad = tmp_path / "bad-alert.xml"
    bad.write_bytes(etree.tostring(respond.response_element(Response("5.4", header, broken))))
    code, output = _run("duis", "inspect", bad, "--json")
    assert code != 0 and output.startswith("error:") and "8F72" in output
