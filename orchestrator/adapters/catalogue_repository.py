"""SQLAlchemy repository for catalogue snapshots and their entries."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from orchestrator.adapters.catalogue_tables import (
    catalogue_current,
    catalogue_entries,
    catalogue_snapshots,
)
from orchestrator.domain.catalogue import Catalogue, Snapshot, entry_from_fields

CURRENT_ROW = 1
_ENTRY_COLUMNS = [c.name for c in catalogue_entries.columns if c.name != "snapshot_id"]


class SqlAlchemyCatalogueRepository:
    """Snapshots are append-only; the current pointer moves inside the sync transaction.

    An entry carried over from an earlier snapshot is marked under `CARRIED_KEY` in its
    `extra` JSON (no column of its own); `load` turns the mark into `carried_over`.
    """

    def __init__(self, connection: Connection):
        self.connection = connection

    def current_id(self) -> int | None:
        """The id of the current snapshot, or None before the first sync."""
        return self.connection.scalar(
            select(catalogue_current.c.snapshot_id).where(catalogue_current.c.id == CURRENT_ROW))

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        """One snapshot's record."""
        row = self.connection.execute(
            select(catalogue_snapshots).where(catalogue_snapshots.c.id == snapshot_id)).first()
        return None if row is None else _snapshot(row._mapping)

    def snapshots(self, limit: int = 50) -> list[Snapshot]:
        """The most recent snapshots, newest first."""
        rows = self.connection.execute(
            select(catalogue_snapshots).order_by(catalogue_snapshots.c.id.desc()).limit(limit))
        return [_snapshot(r._mapping) for r in rows]

    def add(self, record: dict[str, Any], entries: Iterable[dict[str, Any]]) -> int:
        """Store a new snapshot and its entries; return its id (not yet current)."""
        snapshot_id = int(self.connection.execute(
            insert(catalogue_snapshots).values(**record).returning(catalogue_snapshots.c.id)
        ).scalar_one())
        rows = [{**entry, "snapshot_id": snapshot_id} for entry in entries]
        for start in range(0, len(rows), 5000):
            self.connection.execute(insert(catalogue_entries), rows[start:start + 5000])
        return snapshot_id

    def make_current(self, snapshot_id: int) -> None:
        """Point the catalogue at this snapshot."""
        changed = self.connection.execute(update(catalogue_current).where(
            catalogue_current.c.id == CURRENT_ROW).values(snapshot_id=snapshot_id)).rowcount
        if not changed:
            self.connection.execute(insert(catalogue_current).values(
                id=CURRENT_ROW, snapshot_id=snapshot_id))

    def entry_fields(self, snapshot_id: int) -> dict[str, dict[str, Any]]:
        """Every entry of a snapshot as `{entry_id: flat fields}` (for diffs)."""
        rows = self.connection.execute(select(*[catalogue_entries.c[n] for n in _ENTRY_COLUMNS])
                                       .where(catalogue_entries.c.snapshot_id == snapshot_id))
        return {r.cpl_entry_id: dict(r._mapping) for r in rows}

    def load(self, snapshot_id: int) -> Catalogue:
        """The catalogue of one snapshot, ready for queries and planning."""
        entries = [entry_from_fields(fields, snapshot_id)
                   for fields in self.entry_fields(snapshot_id).values()]
        return Catalogue(entries, snapshot_id)

    def entry_count(self, snapshot_id: int) -> int:
        """How many entries a snapshot holds."""
        return int(self.connection.execute(
            select(func.count()).select_from(catalogue_entries)
            .where(catalogue_entries.c.snapshot_id == snapshot_id)).scalar_one())

    def prune(self, keep: int) -> int:
        """Delete the entries of all but the newest `keep` snapshots (records stay)."""
        ids = select(catalogue_snapshots.c.id).order_by(catalogue_snapshots.c.id.desc()).limit(keep)
        current = self.current_id()
        result = self.connection.execute(delete(catalogue_entries).where(
            catalogue_entries.c.snapshot_id.not_in(ids),
            catalogue_entries.c.snapshot_id != (current or -1)))
        return int(result.rowcount or 0)


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(
        id=row["id"], created_at=row["created_at"], cpl_source=row["cpl_source"],
        fir_source=row["fir_source"], cpl_file_sha256=row["cpl_file_sha256"],
        fir_file_sha256=row["fir_file_sha256"], content_hash=row["content_hash"],
        cpl_rows=row["cpl_rows"], fir_rows=row["fir_rows"], cpl_entries=row["cpl_entries"],
        fir_entries=row["fir_entries"], problems=row["problems"], diff=row["diff"],
        previous_snapshot_id=row["previous_snapshot_id"])
