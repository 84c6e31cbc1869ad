"""Deterministic Manufacturer Images: a short readable header, then seeded pseudo-random bytes.

The Manufacturer Image is the opaque part of a GBCS Upgrade Image; its SHA-256 is the CPL
hash. The image depends only on fields held by the CPL entry, so anyone holding the entry can
regenerate the exact bytes without the images directory.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.generate.catalogue import CplEntry

DEFAULT_IMAGE_SIZE = 4096
MIN_IMAGE_SIZE = 64


def build_image(
    *, manufacturer: str, model: str, hardware_version: str, firmware_version: str,
    image_seed: int, size: int,
) -> bytes:
    """Return `size` bytes: an ASCII header naming the firmware, then seeded random bytes."""
    header = f"MFRIMG {manufacturer} {model} hw={hardware_version} fw={firmware_version}\n"
    head = header.encode("ascii")[:size]
    return head + random.Random(image_seed).randbytes(size - len(head))


def image_hash(image: bytes) -> str:
    """Return the Manufacturer Image Hash: lower-case hex SHA-256 of the image."""
    return hashlib.sha256(image).hexdigest()


def manufacturer_image(entry: CplEntry) -> bytes:
    """Return the Manufacturer Image bytes of a generated CPL entry (hash = entry.image_hash)."""
    return build_image(
        manufacturer=entry.manufacturer,
        model=entry.model,
        hardware_version=entry.hardware_version,
        firmware_version=entry.firmware_version,
        image_seed=entry.image_seed,
        size=entry.image_size,
    )


def write_images(entries: Iterable[CplEntry], directory: Path) -> list[Path]:
    """Write `<cpl_entry_id>.bin` for each entry into `directory`; return the paths written.

    Other `*.bin` files in `directory` (left by an earlier, larger run) are removed, so the
    directory holds exactly the images of these entries.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in entries:
        path = directory / f"{entry.entry_id}.bin"
        path.write_bytes(manufacturer_image(entry))
        paths.append(path)
    for stale in set(directory.glob("*.bin")) - set(paths):
        stale.unlink()
    return paths
