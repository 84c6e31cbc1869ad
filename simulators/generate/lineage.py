"""Firmware lineages: the chain of firmware versions of one (manufacturer, model, hardware).

A lineage is a list of version groups. A group holds one entry, or two entries with the same
version string under two image hashes (a "twin", from the branching style). Predecessors are
positions in the same lineage with a lower version, so the upgrade graph is acyclic.

Styles of predecessor data:
- `linear`: each group lists the previous group.
- `skip`: each group lists the previous one to three groups (so withdrawn versions can be
  skipped over).
- `branch`: like linear, with twin groups: two entries sharing one predecessor.
Independently, a lineage may start with `legacy_groups` groups whose predecessor data is
missing (best-endeavours entries), and may have a Withdrawn group in the middle.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

STYLES = ("linear", "skip", "branch")
STYLE_WEIGHTS = (55, 25, 20)
# The first lineages of every catalogue have these shapes, so small catalogues show each
# pattern: (style, legacy groups, withdrawn group in the middle).
FORCED_SHAPES: tuple[tuple[str, int, bool], ...] = (
    ("linear", 2, False),
    ("branch", 0, False),
    ("skip", 0, True),
    ("linear", 0, True),
)
MIN_SIZE, MAX_SIZE = 4, 14


@dataclass(frozen=True, slots=True)
class LineageShape:
    """How one lineage is built: predecessor style, legacy prefix, withdrawn middle, size."""

    style: str
    legacy_groups: int
    withdrawn_middle: bool
    size: int


@dataclass(frozen=True, slots=True)
class Draft:
    """One future CPL entry, before it has an Entry ID.

    `predecessors` are positions in the lineage; None means no data (legacy), () means N/A.
    """

    position: int
    group: int
    version: int
    day: int
    status: str
    predecessors: tuple[int, ...] | None
    gbcs_index: int
    stack_index: int
    image_seed: int


def choose_shape(rng: random.Random, index: int, budget: int) -> LineageShape:
    """Return the shape of the `index`-th lineage, at most `budget` entries long."""
    if index < len(FORCED_SHAPES):
        size = min(budget, MIN_SIZE)  # short, so 16 entries already show every pattern
        style, legacy, withdrawn = FORCED_SHAPES[index]
        return LineageShape(style, legacy, withdrawn, size)
    size = min(budget, rng.randint(MIN_SIZE, MAX_SIZE))
    style = rng.choices(STYLES, weights=STYLE_WEIGHTS)[0]
    legacy = rng.choice((1, 1, 2, 3)) if rng.random() < 0.2 else 0
    return LineageShape(style, legacy, rng.random() < 0.15, size)


def draft_lineage(
    rng: random.Random, shape: LineageShape, *, start_day: int, gbcs_start: int,
    gbcs_max: int, stack_max: int,
) -> list[Draft]:
    """Return the drafts of one lineage, oldest first."""
    sizes = _group_sizes(rng, shape)
    groups: list[list[int]] = []
    drafts: list[Draft] = []
    version, day, gbcs, stack = _start_version(rng), start_day, gbcs_start, 0
    for k, members in enumerate(sizes):
        preds = _bridged(rng, shape, _predecessors(rng, shape, groups), groups, drafts)
        groups.append([])
        for m in range(members):
            status = _status(rng, shape, k, len(sizes))
            draft = Draft(len(drafts), k, version, day + m * rng.randint(0, 15), status, preds,
                          gbcs, stack, rng.getrandbits(64))
            groups[-1].append(draft.position)
            drafts.append(draft)
        version = _next_version(rng, version)
        day += rng.randint(20, 150)
        gbcs = min(gbcs_max, gbcs + (rng.random() < 0.12))
        stack = min(stack_max, stack + (rng.random() < 0.2))
    return drafts


def _group_sizes(rng: random.Random, shape: LineageShape) -> list[int]:
    sizes: list[int] = []
    left = shape.size
    while left > 0:
        twin = shape.style == "branch" and left >= 2 and (len(sizes) == 1 or (
            len(sizes) > 1 and rng.random() < 0.3))
        sizes.append(2 if twin else 1)
        left -= sizes[-1]
    return sizes


def _predecessors(
    rng: random.Random, shape: LineageShape, groups: list[list[int]]
) -> tuple[int, ...] | None:
    k = len(groups)
    if k < shape.legacy_groups:
        return None
    if k == 0:
        return ()
    back = rng.choice((1, 2, 2, 3)) if shape.style == "skip" else 1
    return tuple(p for g in groups[max(0, k - back):] for p in g)


BRIDGE_CHANCE = 0.85


def _bridged(rng: random.Random, shape: LineageShape, preds: tuple[int, ...] | None,
             groups: list[list[int]], drafts: list[Draft]) -> tuple[int, ...] | None:
    """Manufacturers usually let a version skip a withdrawn or expired predecessor.

    When every listed predecessor is not Active, the newest earlier Active entry is added
    (most of the time). Linear lineages with a withdrawn middle keep the dead end: the case
    where the planner must say `no_permitted_path` and name the manufacturer to call.
    """
    if not preds or (shape.style == "linear" and shape.withdrawn_middle):
        return preds
    if any(drafts[p].status == "Active" for p in preds) or rng.random() > BRIDGE_CHANCE:
        return preds
    for group in reversed(groups):
        active = [p for p in group if drafts[p].status == "Active"]
        if active:
            return tuple(sorted(set(preds) | set(active)))
    return preds


def _status(rng: random.Random, shape: LineageShape, k: int, n_groups: int) -> str:
    if k == n_groups - 1:
        return "Active"
    if shape.withdrawn_middle and n_groups >= 3 and k == n_groups // 2:
        return "Withdrawn"
    r = rng.random()
    if r < 0.05:
        return "Withdrawn"
    if r < 0.07:
        return "Cancelled"
    if k < n_groups * 0.3 and r < 0.30:
        return "Expired"
    return "Active"


def _start_version(rng: random.Random) -> int:
    return (rng.randint(1, 3) << 16) | (rng.randint(0, 0x20) << 8) | rng.randint(0, 0x40)


def _next_version(rng: random.Random, version: int) -> int:
    r = rng.random()
    if r < 0.05:
        return ((version >> 16) + 1) << 16
    if r < 0.20:
        return ((version >> 8) + 1) << 8 | rng.randint(0, 4)
    return version + rng.randint(1, 0x10)
