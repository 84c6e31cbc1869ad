"""Upgrade Images: built from Manufacturer Images and signed once per CPL entry, then cached.

Manufacturer Images are looked up in a directory by CPL Entry ID (`<entry>.bin`) or by their
hash (`<sha256>.bin`); the hash must equal the CPL's, so a wrong file can never be sent.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from duis.image import build_image
from orchestrator.domain.catalogue import CatalogueEntry
from orchestrator.errors import OrchestratorError

# ZigBee OTA image type by device type (DCC samples: ESME 0x0000, PPMID 0x0084).
IMAGE_TYPES: dict[str, int] = {"PPMID": 0x0084}
DEFAULT_IMAGE_TYPE = 0x0000
UNSIGNED_TYPES = frozenset({"PPMID"})  # the PPMID form carries no Supplier signature


class ImageNotFoundError(OrchestratorError):
    """No Manufacturer Image with the CPL's hash is available for an entry."""


class UpgradeImageStore:
    """Builds each entry's GBCS Upgrade Image once (per process, and on disk)."""

    def __init__(self, image_dir: Path,
                 signing_key: Callable[[], ec.EllipticCurvePrivateKey],
                 cache_dir: Path | None = None):
        self.image_dir = image_dir
        self.signing_key = signing_key
        self.cache_dir = cache_dir
        self._built: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def __call__(self, entry: CatalogueEntry) -> bytes:
        """The signed Upgrade Image for an entry (built on first use)."""
        key = f"{entry.cpl_entry_id}-{entry.image_hash[:16]}"
        with self._lock:
            if key not in self._built:
                self._built[key] = self._load_or_build(entry, key)
            return self._built[key]

    def _load_or_build(self, entry: CatalogueEntry, key: str) -> bytes:
        cached = self.cache_dir / f"{key}.ota" if self.cache_dir else None
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        image = self._build(entry)
        self.builds += 1
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(image)
        return image

    def _build(self, entry: CatalogueEntry) -> bytes:
        manufacturer_image = self.manufacturer_image(entry)
        hardware = _hex(entry.hardware_version, "hardware version", entry) if (
            entry.hardware_version) else None
        return build_image(
            manufacturer_image, _hex(entry.manufacturer, "manufacturer", entry),
            IMAGE_TYPES.get(entry.device_type, DEFAULT_IMAGE_TYPE),
            _hex(entry.firmware_version, "firmware version", entry),
            min_hw=hardware, max_hw=hardware,
            signing_key=None if entry.device_type in UNSIGNED_TYPES else self.signing_key())

    def manufacturer_image(self, entry: CatalogueEntry) -> bytes:
        """The Manufacturer Image whose SHA-256 is the entry's CPL hash."""
        for name in (f"{entry.cpl_entry_id}.bin", f"{entry.image_hash}.bin"):
            path = self.image_dir / name
            if path.is_file():
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() == entry.image_hash:
                    return data
                raise ImageNotFoundError(f"{path} does not hash to CPL entry "
                                         f"{entry.cpl_entry_id}'s {entry.image_hash}")
        raise ImageNotFoundError(f"no Manufacturer Image for CPL entry {entry.cpl_entry_id} in "
                                 f"{self.image_dir}")


def _hex(value: str, what: str, entry: CatalogueEntry) -> int:
    try:
        return int(value, 16)
    except ValueError as err:
        raise ImageNotFoundError(f"CPL entry {entry.cpl_entry_id}: {what} {value!r} is not "
                                 "hexadecimal, cannot build the OTA header") from err
