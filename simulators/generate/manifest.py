"""manifest.json: every generated file (relative path, role, size, SHA-256), seed and counts."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """One generated file: path relative to the output directory (POSIX form)."""

    path: str
    role: str
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Counts:
    """What the generated data holds."""

    entries: int
    fir_rows: int
    devices: int
    manufacturers: int
    models: int
    lineages: int
    unknown_firmware_devices: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """Describes one generated data set."""

    generator_version: str
    seed: int
    image_size: int
    published: str
    counts: Counts
    files: tuple[ManifestFile, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the manifest as JSON-ready data."""
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        return data

    def to_json(self) -> str:
        """Return the manifest as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


def describe_file(root: Path, path: Path, role: str, sha256: str | None = None) -> ManifestFile:
    """Return the manifest record of `path`; hash it unless `sha256` is already known."""
    digest = sha256 if sha256 is not None else _sha256_file(path)
    return ManifestFile(path.relative_to(root).as_posix(), role, path.stat().st_size, digest)


def write_manifest(manifest: Manifest, out_dir: Path) -> Path:
    """Write `manifest.json` into `out_dir`; return its path."""
    path = out_dir / MANIFEST_NAME
    path.write_text(manifest.to_json(), encoding="utf-8")
    return path


def read_manifest(path: Path) -> Manifest:
    """Read a manifest written by write_manifest."""
    data = json.loads(path.read_text(encoding="utf-8"))
    files = tuple(ManifestFile(**f) for f in data.pop("files"))
    return Manifest(counts=Counts(**data.pop("counts")), files=files, **data)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
