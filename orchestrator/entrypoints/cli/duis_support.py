"""Helpers for `fwo image` / `fwo duis`: file and key loading, JSON views of models.

Kept free of orchestrator wiring (no bootstrap, no database) so these commands work anywhere.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric import ec

from duis import gbcs
from duis.errors import GbcsPayloadError, ImageError, MessageStructureError
from duis.image import UpgradeImage, parse_image
from duis.models import (
    DccAlert,
    DeviceAlert,
    ParsedRequest,
    Response,
    ResponseMessage,
    SignedPreCommand,
    UpdateFirmware,
)
from duis.requestid import RequestId
from duis.sign import SigningIdentity


def hex_int(text: str, what: str, bits: int) -> int:
    """An unsigned integer written in hex (optional 0x)."""
    try:
        value = int(text.removeprefix("0x").removeprefix("0X"), 16)
    except ValueError:
        raise ValueError(f"{what} must be hexadecimal, got {text!r}") from None
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{what} {text!r} does not fit in {bits} bits")
    return value


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time; must carry a timezone."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} needs a timezone, e.g. 2030-01-15T09:00:00Z")
    return moment


def identity(key: Path, cert: Path) -> SigningIdentity:
    """The XML-signing identity from key (PEM or DER) and certificate files."""
    return SigningIdentity.load(key.read_bytes(), cert.read_bytes())


def emit(data: bytes, out: Path | None) -> None:
    """Write bytes to the file, or to stdout."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {out} ({len(data)} bytes)")


def print_json(data: Any) -> None:
    """JSON on stdout."""
    typer.echo(json.dumps(data, indent=2))


def image_summary(image: UpgradeImage) -> dict[str, Any]:
    """The `fwo image inspect --json` view of an image."""
    h = image.header
    return {
        "manufacturer_code": f"{h.manufacturer_code:04X}",
        "image_type": f"{h.image_type:04X}",
        "file_version": f"{h.file_version:08X}",
        "stack_version": f"{h.stack_version:04X}",
        "header_string": h.header_text,
        "total_size": h.total_size,
        "min_hw": None if h.min_hw is None else f"{h.min_hw:04X}",
        "max_hw": None if h.max_hw is None else f"{h.max_hw:04X}",
        "manufacturer_image_hash": image.manufacturer_image_hash.hex(),
        "signed": image.signed,
    }


def _rid(rid: RequestId | None) -> dict[str, Any] | None:
    if rid is None:
        return None
    return {
        "text": str(rid),
        "originator": rid.originator,
        "target": rid.target,
        "counter": rid.counter,
    }


def jsonable(value: Any) -> Any:
    """A JSON view of model values: hex for short bytes, length and hash for long ones."""
    if isinstance(value, RequestId):
        return _rid(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        if len(value) <= 64:
            return value.hex().upper()
        return {"length": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    return value


def request_view(parsed: ParsedRequest) -> dict[str, Any]:
    """The `fwo duis inspect --json` view of a request."""
    request = parsed.request
    body = jsonable(request)
    body.pop("request_id")
    if isinstance(request, UpdateFirmware):
        try:
            body["image"] = image_summary(
                parse_image(request.image, False if request.ppmid else None)
            )
        except ImageError as err:
            body["image"] = {"length": len(request.image), "error": str(err)}
    add_gbcs(body, request)
    return {
        "message": "request",
        "schema_version": parsed.schema_version,
        "signed": parsed.signed,
        "service_reference": request.sr.service_reference,
        "variant": request.sr.variant,
        "command_variant": parsed.command_variant,
        "body_element": request.sr.body_element,
        "request_id": _rid(request.request_id),
        "body": body,
    }


def response_view(response: Response) -> dict[str, Any]:
    """The `fwo duis inspect --json` view of a response or alert."""
    header = jsonable(response.header)
    header["response_kind"] = response.header.kind.value
    body = jsonable(response.body)
    if isinstance(response.body, DeviceAlert):
        body["alert_code"] = f"{response.body.alert_code:04X}"
    add_gbcs(body, response.body)
    kind = {DeviceAlert: "DeviceAlertMessage", DccAlert: "DCCAlertMessage"}.get(
        type(response.body), "ResponseMessage"
    )
    return {
        "message": "response",
        "schema_version": response.schema_version,
        "signed": response.signed,
        "body_kind": kind,
        "header": header,
        "body": body,
    }


CRA_NAMES = {gbcs.CRA_COMMAND: "command", gbcs.CRA_RESPONSE: "response", gbcs.CRA_ALERT: "alert"}


def gbcs_view(payload: bytes) -> dict[str, Any]:
    """The decoded GBCS payload (GbcsPayloadError, hence a non-zero exit, when it cannot be)."""
    message = gbcs.decode_message(payload)
    frame, content = message.frame, jsonable(message.body)
    if isinstance(code := getattr(message.body, "alert_code", None), int):
        content["alert_code"] = f"{code:04X}"
    relayed = frame.relayed_for
    return {
        "message_code": f"{frame.message_code:04X}",
        "use_case": message.kind.use_case,
        "name": message.kind.name,
        "cra": CRA_NAMES.get(frame.cra_flag, str(frame.cra_flag)),
        "originator": frame.originator,
        "recipient": frame.recipient,
        "originator_counter": frame.originator_counter,
        "date_time": jsonable(frame.date_time),
        "relayed_for": None if relayed is None else {"user": relayed[0], "counter": relayed[1]},
        "signed": frame.signed,
        "mac_wrapped": frame.mac is not None,
        "content_type": type(message.body).__name__,
        "content": content,
    }


def raw_gbcs(data: bytes) -> bytes:
    """A GBCS payload file: hex text (as the RTDS ships them) or the bytes themselves."""
    text = data.strip()
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return data


def _alert_gbcs(view: dict[str, Any], alert: DeviceAlert) -> None:
    if alert.decode_error is not None:
        raise GbcsPayloadError(f"alert 0x{alert.alert_code:04X}: {alert.decode_error}")
    view["gbcs"] = gbcs_view(alert.gbcs_payload)


def add_gbcs(view: dict[str, Any], body: object) -> None:
    """Put the decoded GBCS payloads of a request or response body into its JSON view."""
    if isinstance(body, SignedPreCommand):
        view["gbcs"] = gbcs_view(body.gbcs_payload)
    elif isinstance(body, DeviceAlert):
        _alert_gbcs(view, body)
    elif isinstance(body, ResponseMessage):
        if body.gbcs_payload is not None:
            view["gbcs"] = gbcs_view(body.gbcs_payload)
        if body.pre_command is not None:
            view["pre_command"]["gbcs"] = gbcs_view(body.pre_command.gbcs_payload)
        if body.future_dated_alert is not None:
            _alert_gbcs(view["future_dated_alert"], body.future_dated_alert)


def signed_pre_command(response: Response, originator: str, ds_key: ec.EllipticCurvePrivateKey,
                       at: datetime | None, image_hash: bytes | None) -> SignedPreCommand:
    """The CV5 for a CV4 response: its pre-command checked against what we asked, then signed."""
    body, rid = response.body, response.header.request_id
    if not isinstance(body, ResponseMessage) or body.pre_command is None or rid is None:
        raise MessageStructureError("not an 11.3 CV4 response with a RequestID and a PreCommand")
    payload = body.pre_command.gbcs_payload
    found = gbcs.decode_message(payload).body
    if not isinstance(found, gbcs.ActivationCommand):
        raise GbcsPayloadError("the PreCommand is not a CS06 activation")
    expected = gbcs.ExpectedActivation(originator, rid.target, image_hash or found.image_hash,
                                       rid.counter, at)
    gbcs.check_pre_command(payload, expected)
    return SignedPreCommand(rid, gbcs.sign_pre_command(payload, ds_key), at)
