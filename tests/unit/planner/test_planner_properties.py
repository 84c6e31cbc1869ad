"""Property tests: on random catalogue graphs the planner agrees with a brute-force search."""
from __future__ import annotations

import itertools
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry, entry_id_key
from orchestrator.domain.fleet import Device
from orchestrator.domain.planner import Planner

STATUSES = ["Active", "Active", "Active", "Withdrawn", "Expired"]


@st.composite
def catalogues(draw: st.DrawFn) -> list[CatalogueEntry]:
    """Random graphs: any edges (cycles, self loops), some N/A, some unknown, some inactive."""
    n = draw(st.integers(2, 9))
    ids = [str(i) for i in draw(st.lists(st.integers(1, 40), min_size=n, max_size=n,
                                         unique=True))]
    entries = []
    for position, entry_id in enumerate(ids):
        kind = draw(st.sampled_from(["list", "list", "list", "na", "unknown"]))
        preds = (None if kind == "unknown" else () if kind == "na"
                 else tuple(draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))))
        entries.append(CatalogueEntry(
            entry_id, "ESME", "106C", "433100AC", "0101", f"{position:02X}", f"{position:064x}",
            "4.2", "2.4GHz", draw(st.sampled_from(STATUSES)), preds))
    return entries


def edges(entries: list[CatalogueEntry], unknown_is_free: bool) -> dict[str, list[str]]:
    """A -> B iff B is Active and A is a permitted predecessor of B (or B's are unknown)."""
    out: dict[str, list[str]] = {e.cpl_entry_id: [] for e in entries}
    for b in entries:
        if not b.active:
            continue
        for a in entries:
            listed = b.predecessors is not None and a.cpl_entry_id in b.predecessors
            if listed or (unknown_is_free and b.predecessors is None):
                out[a.cpl_entry_id].append(b.cpl_entry_id)
    return out


def brute_shortest(entries: list[CatalogueEntry], start: str, goal: str,
                   unknown_is_free: bool = False) -> list[str] | None:
    """The lexicographically smallest shortest path, by enumerating every shortest path."""
    graph = edges(entries, unknown_is_free)
    dist = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in graph[node]:
            if nxt not in dist:
                dist[nxt] = dist[node] + 1
                queue.append(nxt)
    if goal not in dist:
        return None
    paths = [[start]]
    for _ in range(dist[goal]):
        paths = [p + [n] for p in paths for n in graph[p[-1]] if n not in p]
    finished = [p[1:] for p in paths if p[-1] == goal]
    return min(finished, key=lambda p: [entry_id_key(e) for e in p])


def device_on(entry: CatalogueEntry) -> Device:
    return Device("00-00-00-00-00-00-00-01", "ESME", "106C", "433100AC", "Commissioned",
                  "0101", entry.image_hash)


@settings(max_examples=400, deadline=None)
@given(catalogues(), st.data())
def test_planned_paths_are_valid_and_as_short_as_brute_force(
        entries: list[CatalogueEntry], data: st.DataObject) -> None:
    """Every planned path is valid and equals the brute-force lexicographic shortest path."""
    current = data.draw(st.sampled_from(entries))
    target = data.draw(st.sampled_from([e for e in entries if e is not current] or entries))
    catalogue = Catalogue(entries, 1)
    result = Planner(catalogue).outcome(device_on(current), target.cpl_entry_id)
    expected = brute_shortest(entries, current.cpl_entry_id, target.cpl_entry_id)
    if current is target:
        assert result.status == "up_to_date"
    elif not target.active:
        assert result.reason == "target_not_active"
    elif result.status == "planned":
        assert list(result.path) == expected
        hops = [current.cpl_entry_id, *result.path]
        for a, b in itertools.pairwise(hops):
            entry_b = catalogue.get(b)
            assert entry_b is not None and entry_b.active
            assert entry_b.predecessors is not None and a in entry_b.predecessors
    else:
        assert expected is None
        free = brute_shortest(entries, current.cpl_entry_id, target.cpl_entry_id, True)
        if result.reason == "no_permitted_path":
            assert free is None  # no path even if unknown predecessors allowed anything
        else:
            assert result.reason == "path_unknown" and free is not None


@settings(max_examples=200, deadline=None)
@given(catalogues(), st.data())
def test_the_furthest_reachable_entry_is_reachable_and_highest(
        entries: list[CatalogueEntry], data: st.DataObject) -> None:
    """no_permitted_path names a reachable Active entry, none reachable has a higher version."""
    current = data.draw(st.sampled_from(entries))
    planner = Planner(Catalogue(entries, 1))
    furthest = planner.furthest_reachable(current.cpl_entry_id)
    reachable = [e for e in entries if e is not current
                 and brute_shortest(entries, current.cpl_entry_id, e.cpl_entry_id) is not None]
    if furthest is None:
        assert not reachable
    else:
        assert furthest in reachable
        assert all(e.firmware_version <= furthest.firmware_version for e in reachable)
