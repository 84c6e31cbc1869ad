"""Permitted upgrade paths over the FIR predecessor graph: reverse searches from a target.

Pure Python, used by the planner. A hop applies entry B on a device running A iff A is in B's
permitted predecessors; every entry entered must be Active. `reverse_tree` finds, in one
breadth-first search from a target, the next hop of the fewest-hop, lexicographically
smallest path from every entry that can reach it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.domain.catalogue import CatalogueEntry, entry_id_key, version_key

Preds = Mapping[str, tuple[str, ...] | None]


@dataclass
class Tree:
    """Reverse search from one target: the next hop towards it from every entry that can."""

    next_hop: dict[str, str]
    unknown: list[str] = field(default_factory=list)


def walk(tree: Tree, current: str) -> list[str]:
    """The path from `current` to the tree's target, excluding current ([] if none)."""
    path: list[str] = []
    step = tree.next_hop.get(current)
    while step:
        path.append(step)
        step = tree.next_hop.get(step)
    return path


def reverse_tree(entries: Mapping[str, CatalogueEntry], preds: Preds, target: str) -> Tree:
    """Breadth-first from the target over reversed predecessor edges, level by level.

    `rank` orders each level by its whole remaining path ([entry] + path onwards, compared
    by `entry_id_key`), so the first node of the previous level, in rank order, that lists
    an entry gives it its lexicographically smallest shortest path. Cycles are harmless: an
    entry is placed once, at its first (shortest) level.
    """
    tree = Tree({target: ""})
    rank = {target: 0}
    level = [target]
    while level:
        chosen: dict[str, str] = {}
        for node in level:
            if node != target and not entries[node].active:
                continue  # a non-Active entry may start a path but is never entered
            previous = preds.get(node)
            if previous is None:
                tree.unknown.append(node)
                continue
            for p in previous:
                if p in entries and p not in tree.next_hop and p not in chosen:
                    chosen[p] = node
        level = sorted(chosen, key=lambda p: (entry_id_key(p), rank[chosen[p]]))
        for position, p in enumerate(level):
            rank[p] = position
            tree.next_hop[p] = chosen[p]
    return tree


def effective_predecessors(entries: Mapping[str, CatalogueEntry], guess_unknown: bool
                           ) -> tuple[dict[str, tuple[str, ...] | None], set[str]]:
    """Predecessors per entry, with unknown ones guessed only when `guess_unknown` is set.

    The guess is the most conservative one: the entries of the same lineage with the next
    lower firmware version (a strictly sequential upgrade). Returns the guessed entries too.
    """
    preds = {e.cpl_entry_id: e.predecessors for e in entries.values()}
    if not guess_unknown:
        return preds, set()
    lineages: dict[tuple[str, str, str], list[CatalogueEntry]] = {}
    for entry in entries.values():
        lineages.setdefault(entry.lineage_key, []).append(entry)
    guessed = {e.cpl_entry_id for e in entries.values() if e.predecessors is None}
    for entry_id in guessed:
        entry = entries[entry_id]
        mine = version_key(entry.firmware_version)
        lower = [version_key(e.firmware_version) for e in lineages[entry.lineage_key]
                 if version_key(e.firmware_version) < mine]
        below = max(lower, default=None)
        preds[entry_id] = tuple(sorted(
            (e.cpl_entry_id for e in lineages[entry.lineage_key]
             if below is not None and version_key(e.firmware_version) == below),
            key=entry_id_key))
    return preds, guessed
