"""What a device does with firmware: verify a delivered image, activate it, report its version.

The manufacturer rule behind the FIR: activating an image whose permitted predecessors do not
include the running entry **bricks** an order-sensitive device (it never answers again).
Entries whose predecessors are unknown (legacy rows, or no FIR row) count as
order-sensitive-unknown: activating them bricks the device unless its model is marked not
order-sensitive. Re-activating the running entry is always safe.
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import ImageError
from duis.image import OtaHeader, parse_image, verify_image
from simulators.fleet.devices import Fleet, HeldImage

# OTA image type each device type accepts (simulator convention from the DCC samples:
# ESME 0x0000, PPMID 0x0084); types not listed accept 0x0000.
IMAGE_TYPES: dict[str, int] = {"PPMID": 0x0084}
DEFAULT_IMAGE_TYPE = 0x0000


class Activation(enum.IntEnum):
    """Outcome of an activation; values 0-3 are the 11.3 response codes."""

    SUCCESS = 0
    NO_IMAGE_HELD = 1
    HASH_MISMATCH = 2
    ACTIVATION_FAILURE = 3
    BRICKED = -1


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What every device learns from one distributed image (checked once per request)."""

    header: OtaHeader | None
    manufacturer_hash: bytes
    problem: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    """A device's verdict on a delivered image and the hash it computed."""

    ok: bool
    computed_hash: bytes
    reason: str = ""


def image_facts(image: bytes, supplier_key: ec.EllipticCurvePublicKey | None,
                ppmid: bool) -> ImageFacts:
    """Parse the image and check the Supplier signature (PPMID images carry none)."""
    try:
        parsed = parse_image(image, signed=False if ppmid else None)
    except ImageError as err:
        return ImageFacts(None, hashlib.sha256(image).digest(), f"unreadable image: {err}")
    digest = parsed.manufacturer_image_hash
    if ppmid:
        return ImageFacts(parsed.header, digest, None)
    if supplier_key is None:
        return ImageFacts(parsed.header, digest, "no Supplier certificate to check against")
    try:
        verify_image(parsed, supplier_key)
    except ImageError as err:
        return ImageFacts(parsed.header, digest, str(err))
    return ImageFacts(parsed.header, digest, None)


def header_problem(fleet: Fleet, i: int, header: OtaHeader) -> str | None:
    """Why the OTA header does not fit this device (manufacturer, image type, hardware)."""
    manufacturer, _model, hardware = fleet.model_of(i)
    if header.manufacturer_code != int(manufacturer, 16):
        return f"manufacturer code {header.manufacturer_code:04X} is not {manufacturer}"
    expected = IMAGE_TYPES.get(fleet.device_type(i), DEFAULT_IMAGE_TYPE)
    if header.image_type != expected:
        return f"image type {header.image_type:04X} is not {expected:04X}"
    low, high = header.min_hw, header.max_hw
    if low is not None and high is not None and not low <= int(hardware, 16) <= high:
        return f"hardware {hardware} outside {low:04X}-{high:04X}"
    return None


def receive_image(fleet: Fleet, i: int, facts: ImageFacts, version: str,
                  corrupted: bool) -> Verification:
    """Verify a delivered image; on success the device holds it (replacing any other)."""
    if corrupted:
        computed = hashlib.sha256(facts.manufacturer_hash + b"corrupted").digest()
        return Verification(False, computed, "image corrupted in transfer")
    problem = facts.problem or (header_problem(fleet, i, facts.header) if facts.header else None)
    if problem is not None:
        return Verification(False, facts.manufacturer_hash, problem)
    fleet.held[i] = HeldImage(facts.manufacturer_hash.hex(), version)
    return Verification(True, facts.manufacturer_hash)


def in_order(fleet: Fleet, i: int, target: int) -> bool:
    """Whether the manufacturer permits going from the running entry to `target`."""
    running = fleet.running(i)
    if running == target or not fleet.order_sensitive(i):
        return True
    predecessors = fleet.catalogue.entries[target].predecessors
    if predecessors is None or running < 0:
        return False
    return fleet.catalogue.entries[running].cpl_entry_id in predecessors


def check_held(fleet: Fleet, i: int, image_hash: str) -> Activation | None:
    """The failure an activation of `image_hash` would meet now, or None if it may proceed."""
    held = fleet.held.get(i)
    if held is None:
        return Activation.NO_IMAGE_HELD
    return None if held.image_hash == image_hash.lower() else Activation.HASH_MISMATCH


def activate(fleet: Fleet, i: int, image_hash: str) -> Activation:
    """Activate the held image if its hash matches; out of order bricks the device."""
    refused = check_held(fleet, i, image_hash)
    if refused is not None:
        return refused
    manufacturer, model, _ = fleet.model_of(i)
    target = fleet.catalogue.find(image_hash, manufacturer, model)
    if target is None:
        return Activation.ACTIVATION_FAILURE
    fleet.held.pop(i)
    if not in_order(fleet, i, target):
        fleet.brick(i)
        return Activation.BRICKED
    fleet.set_running(i, target)
    return Activation.SUCCESS


def version_bytes(fleet: Fleet, i: int) -> bytes:
    """The running firmware version as the 11.2 octet-string (hex versions as raw bytes)."""
    version = fleet.running_version(i)
    try:
        return bytes.fromhex(version) if len(version) % 2 == 0 else version.encode()
    except ValueError:
        return version.encode()
