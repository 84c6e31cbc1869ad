"""GBCS Upgrade Images: build, parse, hash, sign and verify, and reject inconsistent bytes."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duis.errors import ImageError, ImageSignatureError
from duis.image import build_image, parse_image, verify_image
from duis.testing.pki import Pki

MANUFACTURER_IMAGE = b"manufacturer firmware payload " * 20


def _signed(pki: Pki) -> bytes:
    return build_image(
        MANUFACTURER_IMAGE,
        0x121D,
        0x0000,
        0xACDCACDC,
        header_string=b"ESME fw",
        min_hw=0x1111,
        max_hw=0x1211,
        signing_key=pki.supplier_ds.key,
    )


def test_signed_image_round_trips_every_header_field(pki: Pki) -> None:
    """Every OTA header field built is read back, with the trailer."""
    image = parse_image(_signed(pki))
    h = image.header
    assert (h.manufacturer_code, h.image_type, h.file_version, h.stack_version) == (
        0x121D,
        0,
        0xACDCACDC,
        2,
    )
    assert (h.header_text, h.min_hw, h.max_hw, h.header_length) == ("ESME fw", 0x1111, 0x1211, 60)
    assert h.total_size == len(_signed(pki)) and image.force_replace == 0 and image.signed
    assert image.manufacturer_image == MANUFACTURER_IMAGE


def test_hash_is_sha256_of_the_manufacturer_image_only(pki: Pki) -> None:
    """The hash ignores header and trailer."""
    image = parse_image(_signed(pki))
    assert image.manufacturer_image_hash == hashlib.sha256(MANUFACTURER_IMAGE).digest()


def test_supplier_signature_verifies_and_wrong_key_fails(pki: Pki, other_pki: Pki) -> None:
    """The right Supplier key verifies; another key does not."""
    image = parse_image(_signed(pki))
    verify_image(image, pki.supplier_ds.key.public_key())
    with pytest.raises(ImageSignatureError):
        verify_image(image, other_pki.supplier_ds.key.public_key())


def test_changed_manufacturer_image_fails_verification(pki: Pki) -> None:
    """Flipping one byte of the Manufacturer Image breaks the signature."""
    data = bytearray(_signed(pki))
    data[70] ^= 0x01
    with pytest.raises(ImageSignatureError):
        verify_image(parse_image(bytes(data)), pki.supplier_ds.key.public_key())


def test_ppmid_form_has_no_trailer(pki: Pki) -> None:
    """Without a signing key the PPMID form ends with the Manufacturer Image."""
    data = build_image(MANUFACTURER_IMAGE, 0x121D, 0x0084, 1)
    image = parse_image(data, signed=False)
    assert (
        not image.signed and data.endswith(MANUFACTURER_IMAGE) and image.header.header_length == 56
    )
    with pytest.raises(ImageSignatureError):
        verify_image(image, pki.supplier_ds.key.public_key())


def test_wrong_identifier_is_rejected(pki: Pki) -> None:
    """A file not starting with 0x0BEEF11E is not an image."""
    data = b"\x00\x00\x00\x00" + _signed(pki)[4:]
    with pytest.raises(ImageError, match="identifier"):
        parse_image(data)


def test_header_length_disagreeing_with_field_control_is_rejected(pki: Pki) -> None:
    """A header length that does not match the optional fields is refused."""
    data = bytearray(_signed(pki))
    struct.pack_into("<H", data, 6, 56)
    with pytest.raises(ImageError, match="header length"):
        parse_image(bytes(data))


@pytest.mark.parametrize("change", [b"\x00", -1])
def test_total_size_disagreeing_with_bytes_is_rejected(pki: Pki, change: bytes | int) -> None:
    """An appended or missing byte makes the total size disagree."""
    data = _signed(pki)
    data = data + change if isinstance(change, bytes) else data[:change]
    with pytest.raises(ImageError, match="total size"):
        parse_image(data)


def test_forcing_signed_form_on_ppmid_image_is_rejected() -> None:
    """Asking for a trailer that is not there is an error."""
    with pytest.raises(ImageError, match="trailer"):
        parse_image(build_image(b"x" * 10, 1, 2, 3), signed=True)


def test_half_given_hardware_range_is_rejected() -> None:
    """min_hw without max_hw is refused."""
    with pytest.raises(ImageError):
        build_image(b"x", 1, 2, 3, min_hw=1)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_image_errors(data: bytes) -> None:
    """Garbage never escapes as anything but ImageError."""
    try:
        parse_image(data)
    except ImageError:
        pass
