"""`generate()` on disk: workbooks, images, keys, fleet and a manifest that matches them."""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from cryptography import x509

from fir_sync.reader import read_catalogue
from simulators.generate import CPL_COLUMNS, FIR_COLUMNS, Manifest, generate
from simulators.generate.manifest import read_manifest

ARGS = {"entries": 120, "devices": 800, "seed": 9, "image_size": 128}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Manifest]:
    """Two output directories generated with the same arguments, and the first manifest."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    manifest = generate(first, **ARGS)
    generate(second, **ARGS)
    return first, second, manifest


def _sheet_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)]
                for ws in book.worksheets}
    finally:
        book.close()


def test_manifest_names_every_file_with_its_hash(runs: tuple[Path, Path, Manifest]) -> None:
    """Every file written (except the manifest itself) is listed with its size and SHA-256."""
    out, _, manifest = runs
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == {f.path for f in manifest.files}
    for f in manifest.files:
        data = (out / f.path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f.bytes, f.sha256)
    assert read_manifest(out / "manifest.json") == manifest
    assert json.loads((out / "manifest.json").read_text())["seed"] == ARGS["seed"]


def test_counts_match_the_files(runs: tuple[Path, Path, Manifest]) -> None:
    """The manifest counts equal the rows in the workbooks and the CSV."""
    out, _, manifest = runs
    cpl = _sheet_values(out / "cpl.xlsx")["CPL"][3:]
    fir = _sheet_values(out / "fir.xlsx")["FIR"][3:]
    with (out / "fleet.csv").open(newline="", encoding="utf-8") as handle:
        fleet = list(csv.DictReader(handle))
    hashes = {row[6] for row in cpl}
    counts = manifest.counts
    assert (counts.entries, counts.fir_rows, counts.devices) == (len(cpl), len(fir), len(fleet))
    assert counts.manufacturers == len({row[2] for row in cpl}) >= 4
    assert counts.models == len({(row[2], row[3]) for row in cpl})
    assert counts.unknown_firmware_devices == sum(d["firmware_hash"] not in hashes for d in fleet)
    assert len(list((out / "images").glob("*.bin"))) == counts.entries


def test_workbooks_have_title_rows_then_canonical_headers(
    runs: tuple[Path, Path, Manifest]
) -> None:
    """The first sheet has a title row and a blank row above the exact header; IDs are numbers."""
    out = runs[0]
    for name, sheet, header in (("cpl.xlsx", "CPL", CPL_COLUMNS), ("fir.xlsx", "FIR", FIR_COLUMNS)):
        sheets = _sheet_values(out / name)
        rows = sheets[sheet]
        assert next(iter(sheets)) == sheet
        assert str(rows[0][0]).endswith(runs[2].published) and rows[1] in ((), (None,))
        assert rows[2] == header
        assert all(isinstance(r[0], int) for r in rows[3:])


def test_same_seed_gives_identical_content(runs: tuple[Path, Path, Manifest]) -> None:
    """Two runs give the same cell values, CSV bytes, images and keys."""
    first, second, _ = runs
    for name in ("cpl.xlsx", "fir.xlsx"):
        assert _sheet_values(first / name) == _sheet_values(second / name)
    for pattern in ("fleet.csv", "images/*.bin", "keys/*.pem"):
        left = sorted(first.glob(pattern))
        assert left and [p.read_bytes() for p in left] == [
            (second / p.relative_to(first)).read_bytes() for p in left]


def test_images_hash_to_the_cpl_hashes(runs: tuple[Path, Path, Manifest]) -> None:
    """images/<id>.bin hashes to the Manufacturer Image Hash of CPL entry <id>."""
    out = runs[0]
    for row in _sheet_values(out / "cpl.xlsx")["CPL"][3:]:
        image = (out / "images" / f"{row[0]}.bin").read_bytes()
        assert hashlib.sha256(image).hexdigest() == row[6]


def test_fir_sync_reads_the_workbooks_without_problems(runs: tuple[Path, Path, Manifest]) -> None:
    """The project's own CPL/FIR reader accepts every generated row."""
    out, _, manifest = runs
    parsed = read_catalogue(out / "cpl.xlsx", out / "fir.xlsx")
    assert parsed.problems == ()
    assert len(parsed.records) == manifest.counts.entries
    assert parsed.fir_rows_accepted == manifest.counts.fir_rows


def test_keys_form_a_ca_and_three_signing_leaves(runs: tuple[Path, Path, Manifest]) -> None:
    """The CA may sign certificates; each leaf is issued by it and may make signatures."""
    keys = runs[0] / "keys"
    ca = x509.load_pem_x509_certificate((keys / "ca.cert.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    for name in ("supplier_xml", "supplier_ds", "dcc_xml"):
        leaf = x509.load_pem_x509_certificate((keys / f"{name}.cert.pem").read_bytes())
        leaf.verify_directly_issued_by(ca)
        assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
        assert (keys / f"{name}.key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY")


def test_rerun_with_fewer_entries_leaves_no_stale_images(tmp_path: Path) -> None:
    """Generating a smaller catalogue into the same directory removes the extra images."""
    generate(tmp_path, entries=30, devices=0, seed=1, image_size=64)
    manifest = generate(tmp_path, entries=10, devices=0, seed=1, image_size=64)
    assert len(list((tmp_path / "images").glob("*.bin"))) == manifest.counts.entries == 10
