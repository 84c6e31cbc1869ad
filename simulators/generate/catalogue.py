"""The synthetic catalogue: CPL entries and FIR rows, built from seeded firmware lineages."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from orchestrator.domain.catalogue import CatalogueEntry
from simulators.generate import vocab
from simulators.generate.errors import require
from simulators.generate.fir import FirRow, make_fir_row
from simulators.generate.images import DEFAULT_IMAGE_SIZE, MIN_IMAGE_SIZE, build_image, image_hash
from simulators.generate.lineage import (
    FORCED_SHAPES,
    Draft,
    LineageShape,
    choose_shape,
    draft_lineage,
)
from simulators.generate.makers import (
    Manufacturer,
    ModelSpec,
    hardware_versions,
    make_manufacturers,
    make_model,
    manufacturer_count,
)

EPOCH = date(2015, 6, 1)
MISSING_FIR_RATE = 0.01


@dataclass(frozen=True, kw_only=True)
class CplEntry(CatalogueEntry):
    """One generated CPL entry: the catalogue's own entry (its CPL columns; the FIR data is
    written as `FirRow`s) and generator data that is not published: the image is
    `manufacturer_image(entry)`; `lineage` numbers the (manufacturer, model, hardware)
    chain."""

    image_seed: int
    image_size: int
    lineage: int
    published: date

    @property
    def entry_id(self) -> int:
        """The CPL Entry ID as the generator numbers it."""
        return int(self.cpl_entry_id)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Everything the CPL and FIR workbooks hold, in memory, ordered by CPL Entry ID."""

    seed: int
    image_size: int
    published: date
    manufacturers: tuple[Manufacturer, ...]
    entries: tuple[CplEntry, ...]
    fir_rows: tuple[FirRow, ...]
    lineage_count: int

    @property
    def manufacturer_count(self) -> int:
        """Number of distinct manufacturers with at least one CPL entry."""
        return len({e.manufacturer for e in self.entries})

    @property
    def model_count(self) -> int:
        """Number of distinct (manufacturer, model) pairs on the CPL."""
        return len({(e.manufacturer, e.model) for e in self.entries})


@dataclass(frozen=True, slots=True)
class _LineagePlan:
    spec: ModelSpec
    hardware_version: str
    shape: LineageShape
    start_day: int


def generate_catalogue(
    *, entries: int, seed: int, image_size: int = DEFAULT_IMAGE_SIZE
) -> Catalogue:
    """Return a deterministic catalogue of exactly `entries` CPL entries for `seed`."""
    require(entries >= 1, f"entries must be at least 1, got {entries}")
    require(image_size >= MIN_IMAGE_SIZE, f"image size must be at least {MIN_IMAGE_SIZE} bytes")
    rng = random.Random(f"fwo-catalogue:{seed}")
    makers = make_manufacturers(rng, manufacturer_count(entries))
    plans = _plan_lineages(rng, makers, entries)
    drafts = [_draft(rng, plan) for plan in plans]
    cpl, fir = _assemble(rng, plans, drafts, image_size)
    return Catalogue(seed, image_size, max(e.published for e in cpl), tuple(makers),
                     tuple(cpl), tuple(fir), len(plans))


def _plan_lineages(
    rng: random.Random, makers: list[Manufacturer], entries: int
) -> list[_LineagePlan]:
    """One model per manufacturer first (one hardware version each), then weighted picks."""
    plans: list[_LineagePlan] = []
    taken: set[str] = set()
    weights = [m.weight for m in makers]
    left = entries
    while left > 0:
        n = len(taken)
        maker = makers[n] if n < len(makers) else rng.choices(makers, weights=weights)[0]
        spec = make_model(rng, maker, taken)
        for hardware in hardware_versions(rng, allow_two=n >= len(makers)):
            if left > 0:
                shape = choose_shape(rng, len(plans), left)
                plans.append(_LineagePlan(spec, hardware, shape, rng.randint(0, 1800)))
                left -= shape.size
    return plans


def _draft(rng: random.Random, plan: _LineagePlan) -> list[Draft]:
    return draft_lineage(
        rng, plan.shape, start_day=plan.start_day, gbcs_start=plan.spec.gbcs_start,
        gbcs_max=len(vocab.GBCS_VERSIONS) - 1, stack_max=len(plan.spec.stack_versions) - 1,
    )


def _assemble(
    rng: random.Random, plans: list[_LineagePlan], drafts: list[list[Draft]], image_size: int
) -> tuple[list[CplEntry], list[FirRow]]:
    """Number drafts by publication day (so IDs grow along each lineage); build rows."""
    order = sorted((d.day, i, d.position) for i, lineage in enumerate(drafts) for d in lineage)
    ids: list[list[int]] = [[] for _ in plans]
    cpl: list[CplEntry] = []
    fir: list[FirRow] = []
    for _, i, position in order:
        draft, plan = drafts[i][position], plans[i]
        entry = _entry(plan, i, draft, vocab.FIRST_ENTRY_ID + len(cpl), image_size)
        ids[i].append(entry.entry_id)
        cpl.append(entry)
        previous = None if draft.predecessors is None else tuple(
            ids[i][p] for p in draft.predecessors)
        if i < len(FORCED_SHAPES) or rng.random() >= MISSING_FIR_RATE:
            stack = plan.spec.stack_versions[draft.stack_index]
            fir.append(make_fir_row(rng, entry, plan.spec, previous, stack))
    return cpl, fir


def _entry(plan: _LineagePlan, lineage: int, draft: Draft, entry_id: int, size: int) -> CplEntry:
    spec = plan.spec
    version = f"{draft.version:08X}"
    image = build_image(
        manufacturer=spec.manufacturer.code, model=spec.model,
        hardware_version=plan.hardware_version, firmware_version=version,
        image_seed=draft.image_seed, size=size,
    )
    return CplEntry(
        cpl_entry_id=str(entry_id), device_type=spec.device_type, manufacturer=spec.manufacturer.code,
        model=spec.model, hardware_version=plan.hardware_version, firmware_version=version,
        image_hash=image_hash(image), gbcs_version=vocab.GBCS_VERSIONS[draft.gbcs_index],
        han_variant=spec.han_variant, status=draft.status, image_seed=draft.image_seed,
        image_size=size, lineage=lineage, published=EPOCH + timedelta(days=draft.day),
    )
