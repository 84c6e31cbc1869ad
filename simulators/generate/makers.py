"""Manufacturers (codes and FIR contacts) and device models (type, HAN, ZigBee chipset)."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulators.generate import vocab


@dataclass(frozen=True, slots=True)
class Manufacturer:
    """A device manufacturer: its ZigBee code and the contact details it gives the FIR."""

    code: str
    name: str
    email: str
    telephone: str
    address: str
    eui_prefix: int
    weight: float


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One device model of a manufacturer, with the properties all its firmware shares."""

    manufacturer: Manufacturer
    model: str
    device_type: str
    han_variant: str
    chipset_vendor: str
    stack_versions: tuple[str, ...]
    band_join_option: str
    gbcs_start: int


def manufacturer_count(entries: int) -> int:
    """How many manufacturers a catalogue of `entries` entries has (at least 4, at most 32)."""
    return max(4, min(len(vocab.NAME_STEMS), round(math.sqrt(entries) / 3)))


def make_manufacturers(rng: random.Random, count: int) -> list[Manufacturer]:
    """Return `count` manufacturers with unique codes, names and contact details."""
    codes = _unique_codes(rng, count)
    stems = rng.sample(vocab.NAME_STEMS, k=count)
    return [_manufacturer(rng, code, stem) for code, stem in zip(codes, stems, strict=True)]


def _unique_codes(rng: random.Random, count: int) -> list[str]:
    codes = list(vocab.KNOWN_MANUFACTURER_CODES[:count])
    while len(codes) < count:
        code = f"{rng.randrange(0x1000, 0x1300):04X}"
        if code not in codes:
            codes.append(code)
    return codes


def _manufacturer(rng: random.Random, code: str, stem: str) -> Manufacturer:
    suffix = rng.choice(vocab.NAME_SUFFIXES)
    name = f"{stem} {suffix} Ltd"
    domain = f"{stem.lower()}-{suffix.split()[0].lower()}.co.uk"
    city, postcode_area, phone_stem = rng.choice(vocab.CITIES)
    address = (
        f"Unit {rng.randint(1, 40)}, {rng.choice(vocab.STREETS)}, {city}, "
        f"{postcode_area} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    )
    return Manufacturer(
        code=code,
        name=name,
        email=f"{rng.choice(vocab.EMAIL_LOCAL_PARTS)}@{domain}",
        telephone=f"{phone_stem}{rng.randint(0, 999):03d}",
        address=address,
        eui_prefix=rng.randrange(0x000000, 0xFFFFFF) & 0xFCFFFF,
        weight=rng.uniform(0.4, 3.0),
    )


def make_model(rng: random.Random, maker: Manufacturer, taken: set[str]) -> ModelSpec:
    """Return a new model of `maker` whose 8-hex-digit model code is not in `taken` (updated)."""
    model = _unique_model_code(rng, taken)
    types = list(vocab.DEVICE_TYPES)
    device_type = rng.choices(types, weights=[vocab.DEVICE_TYPES[t].cpl_weight for t in types])[0]
    variants = vocab.DEVICE_TYPES[device_type].han_variants
    han = rng.choices([v for v, _ in variants], weights=[w for _, w in variants])[0]
    vendor, stacks = rng.choice(vocab.ZIGBEE_STACKS)
    band_join = rng.choice(vocab.BAND_JOIN_OPTIONS[(device_type == "CHF", han)])
    gbcs_start = rng.choices(range(len(vocab.GBCS_VERSIONS)), weights=vocab.GBCS_START_WEIGHTS)[0]
    return ModelSpec(maker, model, device_type, han, vendor, stacks, band_join, gbcs_start)


def _unique_model_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = f"{rng.getrandbits(32):08X}"
        if code not in taken:
            taken.add(code)
            return code


def hardware_versions(rng: random.Random, *, allow_two: bool = True) -> list[str]:
    """Return the hardware versions a model ships in: usually one, sometimes two."""
    count = 2 if allow_two and rng.random() < 0.25 else 1
    return sorted(rng.sample(vocab.HARDWARE_VERSIONS, k=count))
