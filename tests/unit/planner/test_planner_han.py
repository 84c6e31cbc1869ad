"""HAN variants and band join options in every published spelling, and the band rule."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.fleet import Device
from orchestrator.domain.han import (
    BAND_JOIN_OPTIONS,
    BOTH,
    HAN_VARIANTS,
    ONLY_24,
    ONLY_SUB,
    read_bands,
)
from orchestrator.domain.planner import Planner
from simulators.generate import vocab

SPELLINGS = [
    # CPL HAN Variant (MP231) and the older short forms
    ("Single Band (2.4GHz)", ONLY_24), ("single band (2.4 GHz)", ONLY_24),
    ("Single-Band (2.4 Ghz)", ONLY_24), ("SINGLE BAND(2.4GHZ)", ONLY_24),
    ("Single Band (Sub-GHz)", ONLY_SUB), ("Single Band (Sub GHz)", ONLY_SUB),
    ("single band (subghz)", ONLY_SUB), ("Single Band (Sub-Ghz)", ONLY_SUB),
    ("Dual Band", BOTH), ("dual-band", BOTH), ("DUAL BAND", BOTH), (" Dual  Band ", BOTH),
    ("2.4GHz", ONLY_24), ("2.4 GHz", ONLY_24), ("Sub-GHz", ONLY_SUB), ("sub ghz", ONLY_SUB),
    # DCC 8.2 inventory HANVariant of a comms hub (a SMETS2 single-band hub is 2.4 GHz)
    ("Single Band", ONLY_24), ("single band", ONLY_24), ("Single-Band", ONLY_24),
    # FIR ZigBee band join options (MP231), en dash, hyphen, em dash, none
    ("2.4 GHz Only", ONLY_24), ("2.4GHz Only", ONLY_24), ("2.4 Ghz only", ONLY_24),
    ("Sub-GHz Only", ONLY_SUB), ("Sub GHz Only", ONLY_SUB), ("SubGHz only", ONLY_SUB),
    ("Multi MAC Selection – Auto", BOTH), ("Multi MAC Selection - Auto", BOTH),
    ("Multi-MAC Selection — Auto", BOTH), ("multi mac selection auto", BOTH),
    ("Multi MAC Selection – Manual", BOTH), ("Multi MAC Selection - Manual", BOTH),
    ("Multi MAC Selection – Either", BOTH), ("MULTI MAC SELECTION-EITHER", BOTH),
]


@pytest.mark.parametrize(("value", "bands"), SPELLINGS)
def test_every_published_spelling_is_understood(value: str, bands: frozenset[str]) -> None:
    """Each HAN variant and join option reads as its bands, whatever its spelling."""
    reading = read_bands(value)
    assert reading.bands == bands and not reading.unknown


@pytest.mark.parametrize("value", ["Wi-Fi", "915MHz", "Tri Band", "Single Band (5GHz)",
                                   "Multi MAC Selection – Sometimes"])
def test_values_that_are_not_understood_are_unknown_not_unstated(value: str) -> None:
    """A value that names no known band is `unknown`; an empty one is merely unstated."""
    assert read_bands(value).unknown and read_bands(value).bands is None
    assert not read_bands("").unknown and not read_bands("  ").unknown


def test_every_value_the_seeds_and_dsp_inventories_use_is_understood(reference: Path) -> None:
    """The generator's HAN variants and join options and the DCC Boxed 8.2 HANVariants read."""
    seeds = {han for profile in vocab.DEVICE_TYPES.values() for han, _ in profile.han_variants}
    seeds |= {option for options in vocab.BAND_JOIN_OPTIONS.values() for option in options}
    boxed = set()
    for sample in (reference / "dcc" / "boxed").glob("read-inventory-response*.xml"):
        boxed |= set(re.findall(r"<sr:HANVariant>([^<]*)<", sample.read_text()))
    assert boxed == {"Single Band"}
    assert [v for v in sorted(seeds | boxed) if read_bands(v).bands is None] == []


def entry(i: int, preds: tuple[str, ...], han: str, join: str = "") -> CatalogueEntry:
    return CatalogueEntry(str(i), "ESME", "106C", "433100AC", "0101", f"0{i}", f"{i:064x}",
                          "3.2", han, "Active", preds, has_fir=True,
                          zigbee_band_join_option=join)


def outcome(entries: list[CatalogueEntry], hub_han: str) -> dict[str, object]:
    device = Device("00-DB-12-34-56-78-90-A0", "ESME", "106C", "433100AC", "Commissioned",
                    "0101", f"{1:064x}", han_variant=hub_han)
    return Planner(Catalogue(entries, 1)).outcome(device).to_dict()


SUB_ONLY = [entry(1, (), "Single Band (Sub-GHz)"),
            entry(2, ("1",), "Single Band (Sub-GHz)", "Sub-GHz Only")]


@pytest.mark.parametrize("hub", ["Single Band", "Single Band (2.4GHz)", "2.4 GHz", "2.4GHz"])
def test_a_sub_ghz_only_image_behind_a_single_band_hub_blocks(hub: str) -> None:
    """A Sub-GHz-only image is never planned onto a device behind a 2.4 GHz hub."""
    result = outcome(SUB_ONLY, hub)
    assert result["reason"] == "han_band_incompatible"
    assert result["next_action"]["hub_bands"] == ["2.4GHz"]  # type: ignore[index]


def test_the_cpl_han_variant_decides_when_the_fir_gives_no_join_option() -> None:
    """Without a join option, the entry's CPL HAN Variant (MP231 spelling) gives its bands."""
    no_join = [entry(1, (), "Single Band (Sub-GHz)"), entry(2, ("1",), "Single Band (Sub-GHz)")]
    assert outcome(no_join, "Single Band")["reason"] == "han_band_incompatible"
    assert outcome(no_join, "Dual Band")["status"] == "planned"


@pytest.mark.parametrize("hub", ["Triple Band", "Single Band (5GHz)"])
def test_an_unknown_hub_value_blocks_a_band_restricted_image(hub: str) -> None:
    """An unrecognised hub HAN variant blocks a one-band image, naming the value."""
    result = outcome(SUB_ONLY, hub)
    action = result["next_action"]
    assert result["reason"] == "han_variant_unknown"
    assert (action["side"], action["value"], action["entry"]) == ("comms hub", hub, "2")  # type: ignore[index]
    assert repr(hub) in action["message"]  # type: ignore[index]


def test_an_unknown_hub_value_does_not_block_an_image_that_joins_either_band() -> None:
    """A Multi MAC Selection image joins whatever band the hub offers."""
    either = [entry(1, (), "Dual Band"), entry(2, ("1",), "Dual Band",
                                                "Multi MAC Selection - Either")]
    assert outcome(either, "Triple Band")["status"] == "planned"


def test_an_unknown_entry_value_blocks_whatever_the_hub() -> None:
    """An unrecognised join option on the path blocks even behind a dual-band hub."""
    odd = [entry(1, (), "Dual Band"), entry(2, ("1",), "Dual Band", "Multi MAC – Sometimes")]
    result = outcome(odd, "Dual Band")
    assert result["reason"] == "han_variant_unknown"
    assert result["next_action"]["side"] == "entry"  # type: ignore[index]
    assert result["next_action"]["value"] == "Multi MAC – Sometimes"  # type: ignore[index]


def test_an_unstated_hub_variant_is_left_to_the_dsp() -> None:
    """No HAN variant recorded for the hub: the band rule cannot apply and the DSP checks."""
    assert outcome(SUB_ONLY, "")["status"] == "planned"


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(HAN_VARIANTS | BAND_JOIN_OPTIONS)), data=st.data())
def test_case_dash_and_space_variants_read_alike(name: str, data: st.DataObject) -> None:
    """Changing case, swapping hyphen / en dash / em dash and adding or dropping spaces never
    changes what a published value means."""
    out = []
    for char in name:
        if char in "-–—":
            char = data.draw(st.sampled_from(["-", "–", "—", " ", ""]))
        elif char == " ":
            char = data.draw(st.sampled_from([" ", "  ", ""]))
        out.append(char.upper() if data.draw(st.booleans()) else char.lower())
    assert read_bands("".join(out)).bands == read_bands(name).bands is not None
