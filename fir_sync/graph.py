"""Cycle detection over the predecessor graph (iterative Tarjan SCC; no recursion limits)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def cycle_members(graph: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Every node on a cycle, mapped to the members of its cycle (sorted)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: dict[str, tuple[str, ...]] = {}
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_pos = work.pop()
            if child_pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [c for c in graph.get(node, ()) if c in graph]
            if child_pos < len(children):
                work.append((node, child_pos + 1))
                child = children[child_pos]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = _pop_component(stack, on_stack, node)
                if len(component) > 1 or node in graph.get(node, ()):
                    members = tuple(sorted(component))
                    found.update({m: members for m in members})
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _pop_component(stack: list[str], on_stack: set[str], node: str) -> list[str]:
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
            return component
