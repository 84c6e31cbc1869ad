"""`fwo image ...` and `fwo duis ...`: GBCS images and DUIS requests from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duis import build
from duis.codes import DCC_EUI
from duis.image import build_image, parse_image, verify_image
from duis.keys import TrustStore, load_certificate, load_private_key, public_p256
from duis.models import ReadFirmwareVersion, ReadInventory, Request
from duis.parse import parse_request, parse_response
from duis.requestid import RequestId
from duis.sign import verify_document
from duis.xmlsafe import parse_xml
from orchestrator.entrypoints.cli import duis_support as s
from orchestrator.entrypoints.cli.errors import user_errors

image_app = typer.Typer(help="Build, inspect and verify GBCS Upgrade Images.", no_args_is_help=True)
duis_app = typer.Typer(help="Build, verify and inspect DUIS XML.", no_args_is_help=True)
build_app = typer.Typer(help="Build and sign a DUIS service request.", no_args_is_help=True)
duis_app.add_typer(build_app, name="build")

ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Input file.")]
Out = Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")]
Originator = Annotated[str, typer.Option(help="Your User EUI-64 (BusinessOriginatorID).")]
Counter = Annotated[int, typer.Option(min=0, help="Originator counter (strictly increasing).")]
SignKey = Annotated[Path, typer.Option(help="XML-signing key, PEM or DER.")]
SignCert = Annotated[Path, typer.Option(help="XML-signing certificate (PEM).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")]


@image_app.command("build")
@user_errors
def image_build(
    manufacturer_image: Annotated[Path, typer.Option(exists=True, dir_okay=False)],
    manufacturer_code: Annotated[str, typer.Option(help="Hex, e.g. 121D.")],
    image_type: Annotated[str, typer.Option(help="Hex, e.g. 0000.")],
    file_version: Annotated[str, typer.Option(help="Hex, e.g. ACDCACDC.")],
    min_hw: Annotated[str | None, typer.Option(help="Hex minimum hardware version.")] = None,
    max_hw: Annotated[str | None, typer.Option(help="Hex maximum hardware version.")] = None,
    stack_version: Annotated[str, typer.Option(help="Hex ZigBee stack version.")] = "0002",
    header_string: Annotated[str, typer.Option(help="Up to 32 characters.")] = "",
    sign_key: Annotated[
        Path | None,
        typer.Option(help="Supplier digital-signing key; without it the unsigned PPMID form."),
    ] = None,
    out: Out = None,
) -> None:
    """Build a GBCS Upgrade Image around a Manufacturer Image."""
    data = build_image(
        manufacturer_image.read_bytes(),
        s.hex_int(manufacturer_code, "manufacturer code", 16),
        s.hex_int(image_type, "image type", 16),
        s.hex_int(file_version, "file version", 32),
        stack_version=s.hex_int(stack_version, "stack version", 16),
        header_string=header_string.encode("latin-1"),
        min_hw=None if min_hw is None else s.hex_int(min_hw, "min hw", 16),
        max_hw=None if max_hw is None else s.hex_int(max_hw, "max hw", 16),
        signing_key=load_private_key(sign_key.read_bytes()) if sign_key else None,
    )
    s.emit(data, out)


@image_app.command("inspect")
@user_errors
def image_inspect(
    file: ExistingFile,
    as_json: Json = False,
    ppmid: Annotated[bool, typer.Option("--ppmid", help="Treat as unsigned PPMID form.")] = False,
) -> None:
    """Show the OTA header, Manufacturer Image hash and whether the image is signed."""
    summary = s.image_summary(parse_image(file.read_bytes(), False if ppmid else None))
    if as_json:
        s.print_json(summary)
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")


@image_app.command("verify")
@user_errors
def image_verify(
    file: ExistingFile,
    cert: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="Supplier digital-signing certificate."),
    ],
) -> None:
    """Check the Supplier signature over the Manufacturer Image."""
    image = parse_image(file.read_bytes(), True)
    verify_image(image, public_p256(load_certificate(cert.read_bytes())))
    typer.echo(f"OK: Supplier signature verifies; hash {image.manufacturer_image_hash.hex()}")


def _sign_and_emit(request: Request, sign_key: Path, sign_cert: Path, out: Path | None) -> None:
    s.emit(build.sign_request(request, s.identity(sign_key, sign_cert)), out)


@build_app.command("update-firmware")
@user_errors
def build_update_firmware(
    image: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="GBCS Upgrade Image.")],
    firmware_version: Annotated[str, typer.Option(help="1-8 characters.")],
    devices: Annotated[str, typer.Option(help="Comma-separated device EUI-64s.")],
    originator: Originator,
    counter: Counter,
    sign_key: SignKey,
    sign_cert: SignCert,
    ppmid: Annotated[bool, typer.Option("--ppmid", help="SR 11.4 for PPMIDs.")] = False,
    dcc: Annotated[str, typer.Option(help="The DCC's EUI (BusinessTargetID).")] = DCC_EUI,
    out: Out = None,
) -> None:
    """SR 11.1 Update Firmware (or 11.4 with --ppmid), signed."""
    ids = [d for d in devices.split(",") if d.strip()]
    request = build.update_firmware(
        RequestId(originator, dcc, counter), image.read_bytes(), firmware_version, ids, ppmid=ppmid
    )
    _sign_and_emit(request, sign_key, sign_cert, out)


@build_app.command("activate-firmware")
@user_errors
def build_activate_firmware(
    target: Annotated[str, typer.Option(help="Device EUI-64.")],
    hash_: Annotated[str, typer.Option("--hash", help="Manufacturer Image hash, 64 hex.")],
    originator: Originator,
    counter: Counter,
    sign_key: SignKey,
    sign_cert: SignCert,
    at: Annotated[str | None, typer.Option(help="Future activation time, ISO 8601.")] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel a pending activation.")] = False,
    out: Out = None,
) -> None:
    """SR 11.3 Activate Firmware (CommandVariant 4): now, at a time, or cancel."""
    request = build.activate_firmware(
        RequestId(originator, target, counter), hash_, at=s.parse_time(at), cancel=cancel
    )
    _sign_and_emit(request, sign_key, sign_cert, out)


@build_app.command("signed-pre-command")
@user_errors
def build_signed_pre_command(
    pre_command: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The DCC's 11.3 CV4 response.")
    ],
    ds_key: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Digital-signing key, PEM or DER.")
    ],
    originator: Originator,
    sign_key: SignKey,
    sign_cert: SignCert,
    at: Annotated[str | None, typer.Option(help="The execution time the 11.3 asked for.")] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="The 11.3 was a cancellation.")] = False,
    hash_: Annotated[
        str | None, typer.Option("--hash", help="The FirmwareHash the 11.3 asked for (checked).")
    ] = None,
    out: Out = None,
) -> None:
    """SR 11.3 CommandVariant 5: check the DCC's pre-command against the 11.3, sign it.

    The pre-command must name --originator, the CV4's target device and counter, the
    execution time (--at, --cancel, or none for now) and, with --hash, that image hash;
    anything else is refused. The CV5 repeats the CV4's RequestID.
    """
    when = build.CANCEL_AT if cancel else s.parse_time(at)
    image_hash = None if hash_ is None else bytes.fromhex(hash_)
    response = parse_response(pre_command.read_bytes())
    key = load_private_key(ds_key.read_bytes())
    request = s.signed_pre_command(response, originator, key, when, image_hash)
    _sign_and_emit(request, sign_key, sign_cert, out)


@build_app.command("read-firmware-version")
@user_errors
def build_read_firmware_version(
    target: Annotated[str, typer.Option(help="Device EUI-64.")],
    originator: Originator,
    counter: Counter,
    sign_key: SignKey,
    sign_cert: SignCert,
    out: Out = None,
) -> None:
    """SR 11.2 Read Firmware Version (CommandVariant 1)."""
    _sign_and_emit(
        ReadFirmwareVersion(RequestId(originator, target, counter)), sign_key, sign_cert, out
    )


@build_app.command("read-inventory")
@user_errors
def build_read_inventory(
    device: Annotated[str, typer.Option(help="Device EUI-64 to look up.")],
    originator: Originator,
    counter: Counter,
    sign_key: SignKey,
    sign_cert: SignCert,
    dcc: Annotated[str, typer.Option(help="The DCC's EUI (BusinessTargetID).")] = DCC_EUI,
    out: Out = None,
) -> None:
    """SR 8.2 Read Inventory for one device."""
    request = ReadInventory(RequestId(originator, dcc, counter), device)
    _sign_and_emit(request, sign_key, sign_cert, out)


@duis_app.command("verify")
@user_errors
def duis_verify(
    file: ExistingFile,
    trust: Annotated[
        list[Path],
        typer.Option(exists=True, dir_okay=False, help="Trusted signing certificate (repeatable)."),
    ],
    at: Annotated[str | None, typer.Option(help="Verification time, ISO 8601.")] = None,
) -> None:
    """Verify a DUIS message's XML signature against trusted certificates."""
    result = verify_document(file.read_bytes(), TrustStore.from_files(trust), s.parse_time(at))
    cert = result.certificate
    typer.echo(f"OK: signed by issuer {cert.issuer.rfc4514_string()} serial {cert.serial_number}")


@duis_app.command("inspect")
@user_errors
def duis_inspect(file: ExistingFile, as_json: Json = False) -> None:
    """Parse a DUIS request, response or alert (or a bare GBCS payload, hex or binary) and
    show its fields, with every GBCS payload decoded; an undecodable payload exits non-zero."""
    data = file.read_bytes()
    if not data.lstrip().startswith(b"<"):
        view = {"message": "gbcs", **s.gbcs_view(s.raw_gbcs(data))}
    else:
        root = parse_xml(data)
        is_request = str(root.tag).endswith("}Request")
        view = (s.request_view(parse_request(root)) if is_request
                else s.response_view(parse_response(root)))
    if as_json:
        s.print_json(view)
    else:
        for key, value in view.items():
            typer.echo(f"{key}: {value}")
