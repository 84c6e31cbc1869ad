"""GBCS Upgrade Images: ZigBee OTA header, Manufacturer Image and Supplier signature trailer.

Signed form: header | Manufacturer Image | force-replace (1) | signature length 0x40 (1) |
ECDSA P-256 r||s (64) by the Supplier's digital-signing key over the Manufacturer Image.
PPMID form: header | Manufacturer Image (no trailer).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import ImageError, ImageSignatureError
from duis.gbcs import SIGNATURE_LENGTH
from duis.keys import raw_ecdsa_sign, raw_ecdsa_verify

OTA_IDENTIFIER = 0x0BEEF11E
OTA_HEADER_VERSION = 0x0100
BASE_HEADER_LENGTH = 56
TRAILER_LENGTH = 2 + SIGNATURE_LENGTH
FC_SECURITY_CREDENTIAL, FC_DESTINATION, FC_HARDWARE_VERSIONS = 0x1, 0x2, 0x4
_BASE = struct.Struct("<IHHHHHIH32sI")


@dataclass(frozen=True, slots=True)
class OtaHeader:
    """The ZigBee OTA header of a GBCS Upgrade Image."""

    manufacturer_code: int
    image_type: int
    file_version: int
    stack_version: int
    header_string: bytes
    total_size: int
    min_hw: int | None = None
    max_hw: int | None = None
    header_version: int = OTA_HEADER_VERSION
    header_length: int = BASE_HEADER_LENGTH
    field_control: int = 0
    security_credential_version: int | None = None
    destination: bytes | None = None

    @property
    def header_text(self) -> str:
        """The header string as text, NUL padding removed."""
        return self.header_string.rstrip(b"\0").decode("latin-1")


@dataclass(frozen=True, slots=True)
class UpgradeImage:
    """A parsed GBCS Upgrade Image."""

    header: OtaHeader
    manufacturer_image: bytes
    force_replace: int | None = None
    signature: bytes | None = None

    @property
    def signed(self) -> bool:
        return self.signature is not None

    @property
    def manufacturer_image_hash(self) -> bytes:
        """SHA-256 of the Manufacturer Image: the CPL hash and the 11.3 FirmwareHash."""
        return hashlib.sha256(self.manufacturer_image).digest()


def _optional_fields(
    data: bytes, fc: int
) -> tuple[int | None, bytes | None, int | None, int | None]:
    """Security credential version, destination and hardware range, as field control says."""
    pos = BASE_HEADER_LENGTH
    sec = data[pos] if fc & FC_SECURITY_CREDENTIAL else None
    pos += 1 if sec is not None else 0
    dest = data[pos : pos + 8] if fc & FC_DESTINATION else None
    pos += 8 if dest is not None else 0
    hw = struct.unpack_from("<HH", data, pos) if fc & FC_HARDWARE_VERSIONS else (None, None)
    return sec, dest, hw[0], hw[1]


def parse_header(data: bytes) -> OtaHeader:
    """Parse and check the OTA header against the image bytes."""
    if len(data) < BASE_HEADER_LENGTH:
        raise ImageError(f"image is {len(data)} bytes, shorter than an OTA header")
    ident, version, hlen, fc, mcode, itype, fver, stack, hstr, total = _BASE.unpack_from(data)
    if ident != OTA_IDENTIFIER:
        raise ImageError(f"OTA file identifier is 0x{ident:08X}, expected 0x{OTA_IDENTIFIER:08X}")
    if fc & ~0x7:
        raise ImageError(f"unsupported OTA field control bits 0x{fc:04X}")
    needed = BASE_HEADER_LENGTH + (fc & 1) + 8 * (fc >> 1 & 1) + 4 * (fc >> 2 & 1)
    if hlen != needed or hlen > len(data):
        raise ImageError(f"header length {hlen} disagrees with field control (needs {needed})")
    if total != len(data):
        raise ImageError(f"header total size {total} disagrees with the {len(data)} image bytes")
    sec, dest, min_hw, max_hw = _optional_fields(data, fc)
    return OtaHeader(
        mcode,
        itype,
        fver,
        stack,
        hstr,
        total,
        min_hw=min_hw,
        max_hw=max_hw,
        header_version=version,
        header_length=hlen,
        field_control=fc,
        security_credential_version=sec,
        destination=dest,
    )


def looks_signed(data: bytes, header_length: int) -> bool:
    """Whether the bytes end in a signature trailer (force-replace, 0x40, 64-byte signature)."""
    return (
        len(data) >= header_length + TRAILER_LENGTH
        and data[-SIGNATURE_LENGTH - 1] == SIGNATURE_LENGTH
    )


def parse_image(data: bytes, signed: bool | None = None) -> UpgradeImage:
    """Parse an image; `signed=None` detects the trailer, False forces the PPMID form."""
    header = parse_header(data)
    has_trailer = looks_signed(data, header.header_length) if signed is None else signed
    if not has_trailer:
        return UpgradeImage(header, data[header.header_length :])
    if len(data) < header.header_length + TRAILER_LENGTH or data[-65] != SIGNATURE_LENGTH:
        raise ImageError("image lacks the force-replace byte and 64-byte signature trailer")
    end = len(data) - TRAILER_LENGTH
    return UpgradeImage(
        header, data[header.header_length : end], data[end], data[-SIGNATURE_LENGTH:]
    )


def build_image(
    manufacturer_image: bytes,
    manufacturer_code: int,
    image_type: int,
    file_version: int,
    *,
    stack_version: int = 0x0002,
    header_string: bytes = b"",
    min_hw: int | None = None,
    max_hw: int | None = None,
    signing_key: ec.EllipticCurvePrivateKey | None = None,
    force_replace: int = 0,
) -> bytes:
    """Build an image; signed with the Supplier's digital-signing key, or the PPMID form."""
    if (min_hw is None) != (max_hw is None):
        raise ImageError("give both min and max hardware versions, or neither")
    if len(header_string) > 32:
        raise ImageError(f"header string is {len(header_string)} bytes; at most 32")
    hw = b"" if min_hw is None else struct.pack("<HH", min_hw, max_hw)
    hlen = BASE_HEADER_LENGTH + len(hw)
    trailer = b""
    if signing_key is not None:
        trailer = bytes([force_replace, SIGNATURE_LENGTH])
        trailer += raw_ecdsa_sign(signing_key, manufacturer_image)
    total = hlen + len(manufacturer_image) + len(trailer)
    try:
        head = _BASE.pack(
            OTA_IDENTIFIER,
            OTA_HEADER_VERSION,
            hlen,
            FC_HARDWARE_VERSIONS if hw else 0,
            manufacturer_code,
            image_type,
            file_version,
            stack_version,
            header_string.ljust(32, b"\0"),
            total,
        )
    except struct.error as err:
        raise ImageError(f"header field out of range: {err}") from err
    return head + hw + manufacturer_image + trailer


def verify_image(image: UpgradeImage, supplier_key: ec.EllipticCurvePublicKey) -> None:
    """Raise ImageSignatureError unless the Supplier signed this Manufacturer Image."""
    if image.signature is None:
        raise ImageSignatureError("image carries no Supplier signature (PPMID form)")
    if not raw_ecdsa_verify(supplier_key, image.signature, image.manufacturer_image):
        raise ImageSignatureError("Supplier signature over the Manufacturer Image does not verify")
