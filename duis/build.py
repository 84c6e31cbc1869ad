"""Builders for the firmware service requests (11.1, 11.4, 11.3, 11.2, 8.2) and their XML."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from lxml import etree

from duis.codes import (
    CANCEL_DATETIME,
    DCC_EUI,
    DS_NS,
    MAX_DEVICE_ID_LIST_CHARS,
    MAX_FIRMWARE_IMAGE_OCTETS,
    SCHEMA_VERSION,
    SR_NS,
    XSI_NS,
)
from duis.errors import RequestBuildError
from duis.models import (
    ActivateFirmware,
    ReadFirmwareVersion,
    ReadInventory,
    Request,
    SignedPreCommand,
    UpdateFirmware,
)
from duis.requestid import CounterSource, RequestId, next_request_id, normalize_eui
from duis.sign import SigningIdentity, sign_parts

NSMAP = {"ds": DS_NS, "sr": SR_NS, "xsi": XSI_NS}
CANCEL_AT = datetime(3000, 12, 31, tzinfo=UTC)
EUI_CHARS = 23
_HASH_RE = re.compile(r"[0-9A-Fa-f]{64}")
_DECIMAL_RE = re.compile(r"[0-9]+(\.[0-9]+)?")
_VERSION_RE = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]{1,8}")
_ROOT_OPEN = (
    f'<sr:Request xmlns:ds="{DS_NS}" xmlns:sr="{SR_NS}" xmlns:xsi="{XSI_NS}" schemaVersion="%s">'
).encode()


def _q(name: str) -> str:
    return f"{{{SR_NS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(name))
    child.text = text
    return child


def format_datetime(moment: datetime) -> str:
    """xs:dateTime in UTC with a `Z`, e.g. 3000-12-31T00:00:00Z."""
    if moment.tzinfo is None:
        raise RequestBuildError("execution date-time must be timezone-aware")
    text = moment.astimezone(UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def parse_hash(value: str | bytes) -> bytes:
    """A Manufacturer Image hash from 32 bytes or 64 hex characters."""
    if isinstance(value, bytes):
        raw = value
    elif _HASH_RE.fullmatch(value.strip()):
        raw = bytes.fromhex(value.strip())
    else:
        raise RequestBuildError(f"firmware hash must be 64 hex characters: {value[:70]!r}")
    if len(raw) != 32:
        raise RequestBuildError(f"firmware hash must be 32 bytes, got {len(raw)}")
    return raw


def batch_device_ids(
    device_ids: Iterable[str], max_count: int, max_chars: int = MAX_DEVICE_ID_LIST_CHARS
) -> list[tuple[str, ...]]:
    """Split devices into DeviceIDList batches under max_count and the schema's length limit."""
    per_chars = (max_chars + 1) // (EUI_CHARS + 1)
    size = min(max_count, per_chars)
    if size < 1:
        raise RequestBuildError(f"batch limit {max_count} allows no devices")
    ids = list(dict.fromkeys(normalize_eui(d) for d in device_ids))
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


def update_firmware(
    request_id: RequestId,
    image: bytes,
    firmware_version: str,
    device_ids: Sequence[str],
    *,
    ppmid: bool = False,
) -> UpdateFirmware:
    """A checked SR 11.1 (or 11.4 with ppmid) request model."""
    request = UpdateFirmware(request_id, image, firmware_version, tuple(device_ids), ppmid)
    check_request(request)
    return request


def update_firmware_batches(
    originator: str,
    counters: CounterSource,
    image: bytes,
    firmware_version: str,
    device_ids: Iterable[str],
    *,
    max_count: int,
    ppmid: bool = False,
    dcc_eui: str = DCC_EUI,
) -> list[UpdateFirmware]:
    """One 11.1/11.4 request per batch of devices, each with a fresh RequestID to the DCC."""
    return [
        update_firmware(
            next_request_id(counters, originator, dcc_eui),
            image,
            firmware_version,
            batch,
            ppmid=ppmid,
        )
        for batch in batch_device_ids(device_ids, max_count)
    ]


def activate_firmware(
    request_id: RequestId,
    firmware_hash: str | bytes,
    *,
    at: datetime | None = None,
    cancel: bool = False,
) -> ActivateFirmware:
    """SR 11.3 CV4: immediate, future-dated (`at`) or a cancellation (`cancel`)."""
    if cancel and at is not None:
        raise RequestBuildError("give either an activation time or cancel, not both")
    when = CANCEL_AT if cancel else at
    if when is not None:
        format_datetime(when)
    return ActivateFirmware(request_id, parse_hash(firmware_hash), when)


def check_request(request: Request) -> None:
    """Raise RequestBuildError where a request breaks the DUIS constraints."""
    if isinstance(request, UpdateFirmware):
        _check_update(request)
    elif isinstance(request, ActivateFirmware):
        parse_hash(request.firmware_hash)


def _check_update(request: UpdateFirmware) -> None:
    if not _VERSION_RE.fullmatch(request.firmware_version):
        raise RequestBuildError(
            f"FirmwareVersion must be 1-8 XML characters: {request.firmware_version!r}"
        )
    if not request.image or len(request.image) > MAX_FIRMWARE_IMAGE_OCTETS:
        raise RequestBuildError(f"image must be 1..{MAX_FIRMWARE_IMAGE_OCTETS} octets")
    if not request.device_ids:
        raise RequestBuildError("DeviceIDList needs at least one device")
    if len(request.device_ids) * (EUI_CHARS + 1) - 1 > MAX_DEVICE_ID_LIST_CHARS:
        raise RequestBuildError("DeviceIDList exceeds the schema's length; use batch_device_ids")


Field = tuple[str, str | bytes]
"""An element name and its text; bytes are base64 we produced, emitted verbatim."""


def _dated(when: datetime | None) -> list[Field]:
    return [] if when is None else [("ExecutionDateTime", format_datetime(when))]


@functools.singledispatch
def body_fields(request: object) -> list[Field]:
    """The children of the body element, in schema order."""
    raise RequestBuildError(f"no DUIS body for {type(request).__name__}")


@body_fields.register
def _(request: UpdateFirmware) -> list[Field]:
    return [
        ("FirmwareImage", base64.b64encode(request.image)),
        ("FirmwareVersion", request.firmware_version),
        ("DeviceIDList", ",".join(request.device_ids)),
    ]


@body_fields.register
def _(request: ActivateFirmware) -> list[Field]:
    return _dated(request.execution_datetime) + [
        ("FirmwareHash", request.firmware_hash.hex().upper())
    ]


@body_fields.register
def _(request: SignedPreCommand) -> list[Field]:
    return _dated(request.execution_datetime) + [
        ("GBCSPayload", base64.b64encode(request.gbcs_payload))
    ]


@body_fields.register
def _(request: ReadInventory) -> list[Field]:
    return [("DeviceID", request.device_id)]


@body_fields.register
def _(request: ReadFirmwareVersion) -> list[Field]:
    return []


def header_fields(request: Request) -> list[Field]:
    """The sr:Header children, in schema order."""
    sr = request.sr
    return [
        ("RequestID", str(request.request_id)),
        ("CommandVariant", str(int(sr.command_variant))),
        ("ServiceReference", sr.service_reference),
        ("ServiceReferenceVariant", sr.variant),
    ]


def _checked(request: Request, schema_version: str) -> None:
    check_request(request)
    if not _DECIMAL_RE.fullmatch(schema_version):
        raise RequestBuildError(f"schemaVersion must be a decimal like 5.4: {schema_version!r}")


def to_element(request: Request, schema_version: str = SCHEMA_VERSION) -> etree._Element:
    """The unsigned sr:Request element for a request model."""
    _checked(request, schema_version)
    root = etree.Element(_q("Request"), nsmap=NSMAP, schemaVersion=schema_version)
    header = _add(root, "Header")
    body = _add(_add(root, "Body"), request.sr.body_element)
    for parent, fields in ((header, header_fields(request)), (body, body_fields(request))):
        for name, value in fields:
            _add(parent, name, value.decode() if isinstance(value, bytes) else value)
    return root


def c14n_escape(text: str) -> str:
    """Element text as inclusive C14N writes it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#xD;")


def _c14n_text(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else c14n_escape(value).encode()


def _c14n_elements(fields: list[Field]) -> list[bytes]:
    out: list[bytes] = []
    for name, value in fields:
        out += (b"<sr:%s>" % name.encode(), _c14n_text(value), b"</sr:%s>" % name.encode())
    return out


def canonical_parts(request: Request, schema_version: str = SCHEMA_VERSION) -> list[bytes]:
    """The request's inclusive C14N form as parts; the last part is the root's end tag."""
    _checked(request, schema_version)
    body = request.sr.body_element.encode()
    return [
        _ROOT_OPEN % schema_version.encode(),
        b"<sr:Header>",
        *_c14n_elements(header_fields(request)),
        b"</sr:Header><sr:Body><sr:%s>" % body,
        *_c14n_elements(body_fields(request)),
        b"</sr:%s></sr:Body>" % body,
        b"</sr:Request>",
    ]


def canonical_request(request: Request, schema_version: str = SCHEMA_VERSION) -> bytes:
    """The request in inclusive C14N form, written directly (equals lxml's C14N of to_element)."""
    return b"".join(canonical_parts(request, schema_version))


def to_xml(request: Request, schema_version: str = SCHEMA_VERSION) -> bytes:
    """The unsigned request as indented XML (for people; sign with sign_request)."""
    out: bytes = etree.tostring(
        to_element(request, schema_version),
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
    )
    return out


def sign_request(
    request: Request, identity: SigningIdentity, schema_version: str = SCHEMA_VERSION
) -> bytes:
    """The request as signed DUIS XML bytes, ready to send."""
    return sign_parts(canonical_parts(request, schema_version), identity)


__all__ = [
    "CANCEL_DATETIME",
    "ActivateFirmware",
    "ReadFirmwareVersion",
    "ReadInventory",
    "SignedPreCommand",
    "UpdateFirmware",
    "activate_firmware",
    "batch_device_ids",
    "body_fields",
    "canonical_request",
    "check_request",
    "format_datetime",
    "header_fields",
    "parse_hash",
    "sign_request",
    "to_element",
    "to_xml",
    "update_firmware",
    "update_firmware_batches",
]
