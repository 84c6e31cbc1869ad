"""Differences between two catalogue snapshots, classified the way ops read them."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS: dict[str, str] = {
    "status": "status",
    "predecessors": "predecessors",
    "release_notes": "release_notes",
    "contact_email": "contact",
    "contact_telephone": "contact",
    "contact_address": "contact",
}
IGNORED = frozenset({"cpl_entry_id"})


@dataclass(frozen=True)
class EntryChange:
    """One entry present in both snapshots whose fields differ."""

    cpl_entry_id: str
    kinds: tuple[str, ...]
    fields: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: `{cpl_entry_id, kinds, fields: {name: {old, new}}}`."""
        return {"cpl_entry_id": self.cpl_entry_id, "kinds": list(self.kinds),
                "fields": {k: {"old": o, "new": n} for k, (o, n) in self.fields.items()}}


@dataclass(frozen=True)
class CatalogueDiff:
    """Entries added, removed and changed between an old and a new snapshot."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[EntryChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when the two snapshots hold the same entries with the same fields."""
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with counts per kind of change."""
        counts: dict[str, int] = {}
        for change in self.changed:
            for kind in change.kinds:
                counts[kind] = counts.get(kind, 0) + 1
        return {"added": list(self.added), "removed": list(self.removed),
                "changed": [c.to_dict() for c in self.changed], "changed_by_kind": counts}


def diff_entries(old: Mapping[str, Mapping[str, Any]],
                 new: Mapping[str, Mapping[str, Any]]) -> CatalogueDiff:
    """Compare two snapshots given as `{entry_id: flat fields}`."""
    added = tuple(sorted(set(new) - set(old), key=_id_key))
    removed = tuple(sorted(set(old) - set(new), key=_id_key))
    changed = []
    for entry in sorted(set(old) & set(new), key=_id_key):
        change = _compare(entry, old[entry], new[entry])
        if change is not None:
            changed.append(change)
    return CatalogueDiff(added, removed, tuple(changed))


def _compare(entry: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> EntryChange | None:
    names = (set(old) | set(new)) - IGNORED
    fields = {n: (old.get(n), new.get(n)) for n in sorted(names) if old.get(n) != new.get(n)}
    if not fields:
        return None
    kinds = tuple(sorted({KINDS.get(name, "other") for name in fields}))
    return EntryChange(entry, kinds, fields)


def _id_key(entry: str) -> tuple[int, int, str]:
    return (0, int(entry), "") if entry.isdigit() else (1, 0, entry)
