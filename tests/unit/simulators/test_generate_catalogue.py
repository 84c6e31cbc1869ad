"""The generated catalogue: CPL fields, FIR rows and the firmware lineage graph."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.generate import (
    Catalogue,
    CplEntry,
    InvalidParameterError,
    generate_catalogue,
    manufacturer_image,
)
from simulators.generate.vocab import BAND_JOIN_OPTIONS, CPL_STATUSES, DEVICE_TYPES

ENTRIES = 400


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """A mid-sized catalogue shared by the tests of this module."""
    return generate_catalogue(entries=ENTRIES, seed=11, image_size=256)


def _by_id(catalogue: Catalogue) -> dict[int, CplEntry]:
    return {e.entry_id: e for e in catalogue.entries}


def _predecessors(catalogue: Catalogue) -> dict[int, tuple[int, ...] | None]:
    return {r.cpl_entry_id: r.previous_entry_ids for r in catalogue.fir_rows}


def test_same_seed_gives_identical_catalogue() -> None:
    """Two catalogues generated with the same seed are equal record for record."""
    assert generate_catalogue(entries=120, seed=5) == generate_catalogue(entries=120, seed=5)


def test_different_seeds_give_different_catalogues() -> None:
    """Another seed gives other hashes, so data sets cannot be confused."""
    first = generate_catalogue(entries=50, seed=1).entries
    second = generate_catalogue(entries=50, seed=2).entries
    assert {e.image_hash for e in first}.isdisjoint(e.image_hash for e in second)


def test_exact_entry_count_with_consecutive_numeric_ids(catalogue: Catalogue) -> None:
    """The catalogue has exactly the requested entries, IDs 10001 upwards without gaps."""
    assert [e.entry_id for e in catalogue.entries] == list(range(10001, 10001 + ENTRIES))


def test_cpl_fields_have_published_formats(catalogue: Catalogue) -> None:
    """Codes are hex of the published widths; GBCS, HAN, type and status are known values."""
    for e in catalogue.entries:
        assert re.fullmatch(r"[0-9A-F]{4}", e.manufacturer)
        assert re.fullmatch(r"[0-9A-F]{8}", e.model)
        assert re.fullmatch(r"[0-9A-F]{4}", e.hardware_version)
        assert re.fullmatch(r"[0-9A-F]{8}", e.firmware_version)
        assert re.fullmatch(r"[0-9a-f]{64}", e.image_hash)
        assert re.fullmatch(r"\d\.\d", e.gbcs_version)
        assert e.device_type in DEVICE_TYPES and e.status in CPL_STATUSES
        assert e.han_variant in {"2.4GHz", "Sub-GHz", "Dual Band"}


def test_hash_is_sha256_of_the_manufacturer_image(catalogue: Catalogue) -> None:
    """Each CPL hash is the SHA-256 of the image regenerated from the entry alone."""
    for e in catalogue.entries:
        image = manufacturer_image(e)
        assert len(image) == 256
        assert hashlib.sha256(image).hexdigest() == e.image_hash
        assert image.startswith(f"MFRIMG {e.manufacturer} {e.model}".encode())


def test_mix_of_device_types_statuses_and_manufacturers(catalogue: Catalogue) -> None:
    """Meters dominate, most entries are Active, and there are at least four manufacturers."""
    types = Counter(e.device_type for e in catalogue.entries)
    statuses = Counter(e.status for e in catalogue.entries)
    assert types["ESME"] + types["GSME"] > ENTRIES / 2
    assert statuses["Active"] > ENTRIES * 0.7 and statuses["Withdrawn"] > 0
    assert catalogue.manufacturer_count >= 4


def test_predecessors_are_earlier_entries_of_the_same_model(catalogue: Catalogue) -> None:
    """Every predecessor is the same manufacturer and model with a lower firmware version."""
    by_id = _by_id(catalogue)
    for entry_id, previous in _predecessors(catalogue).items():
        entry = by_id[entry_id]
        for p in previous or ():
            before = by_id[p]
            assert (before.manufacturer, before.model) == (entry.manufacturer, entry.model)
            assert int(before.firmware_version, 16) < int(entry.firmware_version, 16)
            assert p < entry_id


def test_na_roots_and_empty_legacy_cells_exist(catalogue: Catalogue) -> None:
    """Lineage roots say N/A and legacy entries leave the predecessor cell empty."""
    cells = [r.previous_cell for r in catalogue.fir_rows]
    assert "N/A" in cells and None in cells
    assert all((r.previous_cell is None) == (r.previous_entry_ids is None)
               for r in catalogue.fir_rows)


def test_skip_lists_and_varied_separators_exist(catalogue: Catalogue) -> None:
    """Some entries list several predecessors, written with commas and other separators."""
    multi = [r.previous_cell for r in catalogue.fir_rows
             if r.previous_entry_ids and len(r.previous_entry_ids) > 1]
    assert any(", " in str(c) for c in multi)
    assert any(";" in str(c) or "\n" in str(c) for c in multi)


def test_one_firmware_version_under_two_hashes(catalogue: Catalogue) -> None:
    """Branching: two entries of one model share a version string and their predecessors."""
    previous = _predecessors(catalogue)
    versions: dict[tuple[str, str, str, str], list[CplEntry]] = {}
    for e in catalogue.entries:
        versions.setdefault((e.manufacturer, e.model, e.hardware_version, e.firmware_version),
                            []).append(e)
    twins = [pair for pair in versions.values() if len(pair) == 2]
    assert any(pair[0].image_hash != pair[1].image_hash
               and previous.get(pair[0].entry_id) == previous.get(pair[1].entry_id)
               and previous.get(pair[0].entry_id) for pair in twins)


def test_withdrawn_entry_in_the_middle_of_a_chain(catalogue: Catalogue) -> None:
    """Some Withdrawn entry has later firmware in its lineage; the newest is never withdrawn."""
    newest = {e.lineage: e.entry_id for e in catalogue.entries}
    withdrawn = [e for e in catalogue.entries if e.status == "Withdrawn"]
    assert withdrawn
    assert all(e.entry_id != newest[e.lineage] for e in withdrawn)


def test_most_entries_have_a_fir_row_with_manufacturer_contacts(catalogue: Catalogue) -> None:
    """FIR rows reference CPL entries, carry UK contacts, and a few entries have none."""
    ids = {e.entry_id for e in catalogue.entries}
    rows = catalogue.fir_rows
    assert {r.cpl_entry_id for r in rows} <= ids and len(rows) >= ENTRIES * 0.95
    for r in rows:
        assert re.fullmatch(r"[\w.-]+@[\w-]+\.co\.uk", r.contact_email)
        assert r.contact_telephone.startswith("+44 ")
        assert r.release_notes


def test_dual_band_join_only_for_comms_hubs(catalogue: Catalogue) -> None:
    """The band join option fits the HAN variant, and only CHF entries say Dual Band."""
    by_id = _by_id(catalogue)
    for r in catalogue.fir_rows:
        if r.zigbee_band_join_option is None:
            continue
        entry = by_id[r.cpl_entry_id]
        options = BAND_JOIN_OPTIONS[(entry.device_type == "CHF", entry.han_variant)]
        assert r.zigbee_band_join_option in options
        assert r.zigbee_band_join_option != "Dual Band" or entry.device_type == "CHF"


def test_bad_parameters_are_refused() -> None:
    """Fewer than one entry or a tiny image size raise InvalidParameterError."""
    with pytest.raises(InvalidParameterError):
        generate_catalogue(entries=0, seed=1)
    with pytest.raises(InvalidParameterError):
        generate_catalogue(entries=3, seed=1, image_size=8)


@settings(max_examples=25, deadline=None)
@given(entries=st.integers(1, 80), seed=st.integers(0, 2**64))
def test_graph_invariants_hold_for_any_seed(entries: int, seed: int) -> None:
    """For any size and seed: exact count, unique hashes, predecessors earlier in the lineage."""
    catalogue = generate_catalogue(entries=entries, seed=seed, image_size=64)
    by_id = _by_id(catalogue)
    assert len(by_id) == entries
    assert len({e.image_hash for e in catalogue.entries}) == entries
    for row in catalogue.fir_rows:
        for p in row.previous_entry_ids or ():
            assert p < row.cpl_entry_id and by_id[p].lineage == by_id[row.cpl_entry_id].lineage


@settings(max_examples=20, deadline=None)
@given(entries=st.integers(16, 40), seed=st.integers(0, 2**64))
def test_sixteen_entries_already_show_every_pattern(entries: int, seed: int) -> None:
    """Small catalogues still have N/A, legacy, multi-ID and twin rows, a withdrawn middle
    and four manufacturers."""
    catalogue = generate_catalogue(entries=entries, seed=seed, image_size=64)
    previous = [r.previous_entry_ids for r in catalogue.fir_rows]
    versions = Counter((e.model, e.firmware_version) for e in catalogue.entries)
    newest = {e.lineage: e.entry_id for e in catalogue.entries}
    assert () in previous and None in previous
    assert any(p and len(p) > 1 for p in previous) and 2 in versions.values()
    assert any(e.status == "Withdrawn" and e.entry_id != newest[e.lineage]
               for e in catalogue.entries)
    assert catalogue.manufacturer_count >= 4
