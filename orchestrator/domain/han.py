"""HAN variants and ZigBee band join options as the industry writes them, read as radio bands.

Pure Python. Three sources name the bands a device or hub uses:
- the CPL's HAN Variant of an entry (MP231 writes `Single Band (2.4GHz)`,
  `Single Band (Sub-GHz)` or `Dual Band`; older lists `2.4GHz`, `Sub-GHz`);
- the DCC's 8.2 Read Inventory `HANVariant` of a comms hub (`Single Band`, `Dual Band`; a
  SMETS2 single-band hub is 2.4 GHz), which the fleet inventory records as the device's
  `han_variant`;
- the FIR's ZigBee band join option of an entry (MP231): `2.4 GHz Only`, `Sub-GHz Only`,
  `Multi MAC Selection – Auto`, `– Manual`, `– Either`, `Dual Band`. Multi MAC Selection
  devices can join either band (Manual needs the band set at install, which the hub decides).

Values are matched ignoring case and everything but letters and digits, so `2.4 Ghz`,
`2.4GHz`, `Sub GHz`, `SUB-GHZ`, `Multi-MAC Selection - Auto` (hyphen, en or em dash),
`Single band (2.4 GHz)` all read. An empty value is unstated; a non-empty value that is not
understood is `unknown`, which the planner never lets pass a band-restricted check.
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

BAND_24, BAND_SUB = "2.4GHz", "Sub-GHz"
ONLY_24 = frozenset({BAND_24})
ONLY_SUB = frozenset({BAND_SUB})
BOTH = frozenset({BAND_24, BAND_SUB})

# Each spelling as published; looked up by `han_key`.
HAN_VARIANTS: dict[str, frozenset[str]] = {
    "Single Band (2.4GHz)": ONLY_24, "Single Band (Sub-GHz)": ONLY_SUB,
    "Single Band (868MHz)": ONLY_SUB, "Single Band": ONLY_24, "Dual Band": BOTH,
    "2.4GHz": ONLY_24, "Sub-GHz": ONLY_SUB, "868MHz": ONLY_SUB,
    "2.4GHz and Sub-GHz": BOTH, "Dual Band (2.4GHz and Sub-GHz)": BOTH,
}
BAND_JOIN_OPTIONS: dict[str, frozenset[str]] = {
    "2.4 GHz Only": ONLY_24, "Sub-GHz Only": ONLY_SUB,
    "Multi MAC Selection – Auto": BOTH, "Multi MAC Selection – Manual": BOTH,
    "Multi MAC Selection – Either": BOTH, "Dual Band": BOTH,
}


def han_key(text: str) -> str:
    """A value reduced to lower-case letters and digits (`2.4 GHz` and `2.4ghz` -> `24ghz`)."""
    return re.sub(r"[^a-z0-9]", "", text.casefold())


_BANDS: dict[str, frozenset[str]] = {
    han_key(k): v for k, v in (HAN_VARIANTS | BAND_JOIN_OPTIONS).items()}


class BandReading(NamedTuple):
    """What one HAN value says: its bands (None when unstated or not understood)."""

    value: str
    bands: frozenset[str] | None

    @property
    def unknown(self) -> bool:
        """True for a non-empty value that is not understood."""
        return self.bands is None and bool(self.value.strip())

    @property
    def restricted(self) -> bool:
        """True when the value names one band only."""
        return self.bands is not None and self.bands != BOTH


@functools.cache
def read_bands(value: str) -> BandReading:
    """The bands a HAN variant or band join option names (any spelling)."""
    return BandReading(value, _BANDS.get(han_key(value)) if value.strip() else None)


def image_bands(join_option: str, cpl_han_variant: str) -> BandReading:
    """The bands an entry's image can join: the FIR join option, else the CPL HAN variant."""
    return read_bands(join_option if join_option.strip() else cpl_han_variant)

