"""Deterministic synthetic industry data: CPL and FIR workbooks, images, a fleet, test keys.

    manifest = generate(Path("out"), entries=5000, devices=1_000_000, seed=7)

Every value comes from `random.Random` instances seeded from `seed`, so the same arguments
always give the same data. Use `generate_catalogue` / `iter_fleet_rows` for data in memory.
"""
from __future__ import annotations

from pathlib import Path

from simulators.generate.catalogue import Catalogue, CplEntry, generate_catalogue
from simulators.generate.errors import GeneratorError, InvalidParameterError, require
from simulators.generate.fir import FirRow
from simulators.generate.fleet import (
    FLEET_COLUMNS,
    FleetDevice,
    generate_fleet,
    iter_fleet_rows,
    unknown_firmware_count,
)
from simulators.generate.images import DEFAULT_IMAGE_SIZE, manufacturer_image, write_images
from simulators.generate.keys import write_keys
from simulators.generate.manifest import (
    Counts,
    Manifest,
    ManifestFile,
    describe_file,
    write_manifest,
)
from simulators.generate.vocab import GENERATOR_VERSION
from simulators.generate.workbooks import (
    CPL_COLUMNS,
    FIR_COLUMNS,
    write_cpl,
    write_fir,
    write_fleet_csv,
)

__all__ = [
    "CPL_COLUMNS",
    "DEFAULT_IMAGE_SIZE",
    "FIR_COLUMNS",
    "FLEET_COLUMNS",
    "Catalogue",
    "Counts",
    "CplEntry",
    "FirRow",
    "FleetDevice",
    "GeneratorError",
    "InvalidParameterError",
    "Manifest",
    "ManifestFile",
    "generate",
    "generate_catalogue",
    "generate_fleet",
    "iter_fleet_rows",
    "manufacturer_image",
]


def generate(
    out_dir: Path, *, entries: int, devices: int, seed: int, image_size: int = DEFAULT_IMAGE_SIZE
) -> Manifest:
    """Write cpl.xlsx, fir.xlsx, fleet.csv, images/, keys/ and manifest.json into `out_dir`."""
    require(devices >= 0, f"devices must be 0 or more, got {devices}")
    catalogue = generate_catalogue(entries=entries, seed=seed, image_size=image_size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_cpl(catalogue, out_dir / "cpl.xlsx")
    write_fir(catalogue, out_dir / "fir.xlsx")
    written = write_fleet_csv(iter_fleet_rows(catalogue, devices=devices, seed=seed),
                              out_dir / "fleet.csv")
    files = [describe_file(out_dir, out_dir / name, role) for name, role in
             (("cpl.xlsx", "cpl"), ("fir.xlsx", "fir"), ("fleet.csv", "fleet"))]
    files += _write_images(catalogue, out_dir)
    files += [describe_file(out_dir, p, "key" if p.name.endswith(".key.pem") else "certificate")
              for p in write_keys(out_dir / "keys", seed=seed)]
    manifest = Manifest(GENERATOR_VERSION, seed, image_size, catalogue.published.isoformat(),
                        _counts(catalogue, written), tuple(files))
    write_manifest(manifest, out_dir)
    return manifest


def _write_images(catalogue: Catalogue, out_dir: Path) -> list[ManifestFile]:
    paths = write_images(catalogue.entries, out_dir / "images")
    return [describe_file(out_dir, path, "image", entry.image_hash)
            for path, entry in zip(paths, catalogue.entries, strict=True)]


def _counts(catalogue: Catalogue, devices: int) -> Counts:
    return Counts(
        entries=len(catalogue.entries),
        fir_rows=len(catalogue.fir_rows),
        devices=devices,
        manufacturers=catalogue.manufacturer_count,
        models=catalogue.model_count,
        lineages=catalogue.lineage_count,
        unknown_firmware_devices=unknown_firmware_count(devices),
    )
