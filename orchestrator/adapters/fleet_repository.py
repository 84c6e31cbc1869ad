"""SQLAlchemy repository of the fleet inventory, with the bulk writers plans share.

Bulk writes bypass the ORM: SQLite gets one `INSERT ... ON CONFLICT DO UPDATE` executemany
per chunk; PostgreSQL gets psycopg 3 `COPY` into a temporary staging table, then one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE`. An upsert never replaces a newer observation.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    type_coerce,
)

from orchestrator.adapters.fleet_tables import devices, fleet_events, fleet_forecasts
from orchestrator.domain.fleet import Device
from orchestrator.domain.moments import utc
from orchestrator.domain.observations import FleetFact

_KNOWN = select(devices.c.device_id).where(
    devices.c.device_id.in_(bindparam("ids", expanding=True)))

# Device fields in table-column order ("" is stored as NULL for the optional ones).
FIELDS = ("device_id", "device_type", "manufacturer", "model", "hardware_version",
          "firmware_hash", "firmware_version", "status", "comms_hub_id",
          "comms_hub_gbcs_version", "han_variant", "tags", "source", "observed_at",
          "firmware_entry", "read_at")
# Facts only reads establish: an upsert without them keeps what is stored (see `_facts`).
_READ_FACTS = ("firmware_entry", "read_at")
_STAGE = "fwo_devices_stage"
READ_BATCH = 20_000
SQLITE_CACHE_KIB = 131_072  # page cache for bulk upserts: random keys thrash the 2 MiB default


def copy_text(connection: Connection, table: str, columns: Sequence[str],
              chunks: Iterable[str]) -> None:
    """PostgreSQL: COPY text lines into `table` (empty fields are NULL; same transaction)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT text, NULL '')") as copy:
        for text in chunks:
            copy.write(text)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: Any) -> str:
    """One COPY text field (with `NULL ''`: None and "" are NULL)."""
    return "" if value is None else str(value).translate(_COPY_ESCAPES)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Sequence[Any]],
                conflict: str = "") -> None:
    """SQLite (and others): one executemany of positional rows, plus an ON CONFLICT clause."""
    names = [c.name for c in table.columns]
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks}) {conflict}",
        list(rows))


def datetime_param(connection: Connection, value: dt.datetime) -> Any:
    """A datetime as the driver takes it: aware UTC for PostgreSQL; for SQLite the text
    SQLAlchemy stores (naive UTC with microseconds), which also sorts correctly."""
    if connection.dialect.name == "postgresql":
        return utc(value)
    return utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqlAlchemyFleetRepository:
    """Devices keyed by EUI-64; bulk upserts; streaming, filtered reads."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def upsert(self, batch: Sequence[Device]) -> int:
        """Insert or update these devices (one row per ID); keep rows observed later."""
        if not batch:
            return 0
        update = ", ".join([f"{n} = excluded.{n}" for n in FIELDS[1:]
                            if n not in _READ_FACTS] + [_facts(self.connection)])
        guard = f"WHERE devices.observed_at <= excluded.observed_at AND ({_changed(self.connection)})"
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE devices) ON COMMIT DELETE ROWS")
            self.connection.exec_driver_sql(f"TRUNCATE {_STAGE}")
            copy_text(self.connection, _STAGE, FIELDS, [_Writer(self.connection).text(batch)])
            names = ", ".join(FIELDS)
            self.connection.exec_driver_sql(
                f"INSERT INTO devices ({names}) SELECT {names} FROM {_STAGE} "
                f"ORDER BY device_id ON CONFLICT (device_id) DO UPDATE SET {update} {guard}")
            return len(batch)
        rows = sorted(_Writer(self.connection).rows(batch))  # B-tree friendly order
        self.connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        insert_rows(self.connection, devices, rows,
                    f"ON CONFLICT (device_id) DO UPDATE SET {update} {guard}")
        return len(rows)

    def get(self, device_id: str) -> Device | None:
        """One device, if known."""
        return self.get_many([device_id]).get(device_id)

    def get_many(self, device_ids: Iterable[str]) -> dict[str, Device]:
        """The known devices among these IDs."""
        wanted = sorted(set(device_ids))
        found: dict[str, Device] = {}
        for start in range(0, len(wanted), 5000):
            chunk = frozenset(wanted[start:start + 5000])
            found.update((d.device_id, d) for d in self.iter_devices({"device_id": chunk}))
        return found

    def known(self, device_ids: Iterable[str]) -> set[str]:
        """Which of these device IDs the fleet holds (IDs only: cheap)."""
        wanted = sorted(set(device_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            found.update(d for (d,) in self.connection.execute(
                _KNOWN, {"ids": wanted[start:start + 500]}))
        return found

    def iter_devices(self, filters: Mapping[str, frozenset[str]] | None = None,
                     limit: int | None = None) -> Iterator[Device]:
        """Devices matching every `column IN values` filter, by device ID, streamed."""
        query = select(*_read_columns()).order_by(devices.c.device_id)
        for name, values in (filters or {}).items():
            query = query.where(devices.c[name].in_(sorted(values)))
        if limit is not None:
            query = query.limit(limit)
        result = self.connection.execute(query, execution_options={"yield_per": READ_BATCH})
        reader = _Reader()
        for row in result:
            yield reader.device(row)

    def count(self) -> int:
        """How many devices the inventory holds."""
        return int(self.connection.scalar(select(func.count()).select_from(devices)) or 0)

    def add_events(self, facts: Sequence[FleetFact], recorded_at: dt.datetime) -> None:
        """Append facts to the devices' histories."""
        if facts:
            self.connection.execute(insert(fleet_events), [
                {"device_id": f.device_id, "at": f.at, "recorded_at": recorded_at,
                 "name": f.name, "source": f.source, "campaign_id": f.campaign_id,
                 "message_id": f.message_id, "data": f.data} for f in facts])

    def events(self, device_id: str | None = None, names: Sequence[str] = (),
               limit: int = 500, newest_first: bool = False) -> list[FleetFact]:
        """History entries of one device (or all), optionally of some kinds only."""
        query = select(fleet_events)
        if device_id is not None:
            query = query.where(fleet_events.c.device_id == device_id)
        if names:
            query = query.where(fleet_events.c.name.in_(list(names)))
        order = fleet_events.c.id.desc() if newest_first else fleet_events.c.id
        return [FleetFact(r.device_id, r.name, utc(r.at), r.source, dict(r.data or {}),
                          r.campaign_id, r.message_id)
                for r in self.connection.execute(query.order_by(order).limit(limit))]

    def count_events(self, names: Sequence[str]) -> dict[str, int]:
        """How many history entries of each of these kinds exist."""
        rows = self.connection.execute(select(fleet_events.c.name, func.count()).where(
            fleet_events.c.name.in_(list(names))).group_by(fleet_events.c.name))
        return {str(name): int(n) for name, n in rows}

    def add_forecast(self, made_at: dt.datetime, made_by: str, snapshot_id: int,
                     complete_by: dt.datetime | None, report: Mapping[str, Any]) -> int:
        """Store a compliance forecast; its id."""
        return int(self.connection.execute(insert(fleet_forecasts).values(
            made_at=made_at, made_by=made_by, snapshot_id=snapshot_id,
            complete_by=complete_by, report=dict(report)).returning(fleet_forecasts.c.id)
        ).scalar_one())

    def latest_forecast(self) -> dict[str, Any] | None:
        """The newest stored forecast (its columns and report, times as ISO 8601), if any."""
        row = self.connection.execute(select(fleet_forecasts).order_by(
            fleet_forecasts.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return {**dict(row.report), "id": row.id, "made_at": utc(row.made_at).isoformat(),
                "made_by": row.made_by, "snapshot_id": row.snapshot_id,
                "complete_by": utc(row.complete_by).isoformat() if row.complete_by else None}


# Read order: the two IDs, then the columns whose values repeat (one profile per combination).
_PROFILE = ("device_type", "manufacturer", "model", "status", "hardware_version",
            "firmware_hash", "firmware_version", "comms_hub_gbcs_version", "han_variant",
            "source")


def _changed(connection: Connection) -> str:
    """SQL true when an upsert would change the stored row (unchanged rows are not rewritten).

    A new read always carries a new observation time, so the read facts need no comparison.
    """
    names = [n for n in FIELDS[1:] if n not in _READ_FACTS]
    if connection.dialect.name == "postgresql":
        old = ", ".join(f"devices.{n}::text" if n == "tags" else f"devices.{n}" for n in names)
        new = ", ".join(f"excluded.{n}::text" if n == "tags" else f"excluded.{n}"
                        for n in names)
        return f"({old}) IS DISTINCT FROM ({new})"
    return " OR ".join(f"devices.{n} IS NOT excluded.{n}" for n in names)


def _facts(connection: Connection) -> str:
    """SET clauses keeping the last read time, and the confirmed entry while the firmware
    stays the same, when the new row (a CSV import, say) does not carry them."""
    same = ("IS NOT DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS")
    unchanged = (f"devices.firmware_version {same} excluded.firmware_version AND "
                 f"devices.firmware_hash {same} excluded.firmware_hash")
    return ("read_at = COALESCE(excluded.read_at, devices.read_at), "
            "firmware_entry = CASE WHEN excluded.firmware_entry IS NOT NULL THEN "
            f"excluded.firmware_entry WHEN {unchanged} THEN devices.firmware_entry END")


def _read_columns() -> list[Any]:
    return [devices.c.device_id, devices.c.comms_hub_id, *(devices.c[n] for n in _PROFILE),
            type_coerce(devices.c.observed_at, String), cast(devices.c.tags, Text),
            devices.c.firmware_entry, type_coerce(devices.c.read_at, String)]


class _Writer:
    """Device -> positional row or COPY line, serialising each tag set and time once."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._tags: dict[tuple[tuple[str, str], ...], str] = {}
        self._times: dict[dt.datetime | None, Any] = {}

    def rows(self, batch: Sequence[Device]) -> list[tuple[Any, ...]]:
        return [self.row(d) for d in batch]

    def row(self, d: Device) -> tuple[Any, ...]:
        # Device is a NamedTuple: indexes are its field order, faster than names here.
        return (d[0], d[1], d[2], d[3], d[5] or None, d[6] or None, d[7] or None, d[4],
                d[8] or None, d[9] or None, d[10] or None, self._tag_json(d), d[12],
                self._time(d), d[14] or None, self._read_time(d))

    def text(self, batch: Sequence[Device]) -> str:
        """COPY text lines (empty fields are NULL); fields escaped only when they need it."""
        lines = []
        for d in batch:
            line = (f"{d.device_id}\t{d.device_type}\t{d.manufacturer}\t{d.model}\t"
                    f"{d.hardware_version}\t{d.firmware_hash}\t{d.firmware_version}\t"
                    f"{d.status}\t{d.comms_hub_id}\t{d.comms_hub_gbcs_version}\t"
                    f"{d.han_variant}\t{self._tag_json(d)}\t{d.source}\t{self._time(d)}\t"
                    f"{d.firmware_entry}\t{copy_field(self._read_time(d))}\n")
            if "\\" in line or "\r" in line or line.count("\t") != 15 or line.count("\n") != 1:
                line = "\t".join(copy_field(v) for v in self.row(d)) + "\n"
            lines.append(line)
        return "".join(lines)

    def _tag_json(self, d: Device) -> str:
        found = self._tags.get(d.tags)
        if found is None:
            found = self._tags[d.tags] = json.dumps(dict(d.tags), ensure_ascii=False)
        return found

    def _time(self, d: Device) -> Any:
        found = self._times.get(d.observed_at)
        if found is None:
            found = self._times[d.observed_at] = datetime_param(
                self.connection, d.observed_at or dt.datetime.now(dt.UTC))
        return found

    def _read_time(self, d: Device) -> Any:
        return None if d.read_at is None else datetime_param(self.connection, d.read_at)


class _Reader:
    """Row -> Device; a row's repeating values are looked up as one interned profile."""

    def __init__(self) -> None:
        self._profiles: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._tags: dict[Any, tuple[tuple[str, str], ...]] = {}
        self._reads: dict[Any, dt.datetime | None] = {None: None}

    def device(self, row: Sequence[Any]) -> Device:
        key = tuple(row[2:13])
        p = self._profiles.get(key)
        if p is None:
            p = self._profiles[key] = (*(v or "" for v in key[:10]), _driver_time(key[10]))
        tags = self._tags.get(row[13])
        if tags is None:
            tags = self._tags[row[13]] = _tag_tuple(row[13])
        read_at = self._reads.get(row[15])
        if read_at is None and row[15] is not None:
            read_at = self._reads[row[15]] = _driver_time(row[15])
        return Device(row[0], p[0], p[1], p[2], p[3], p[4], p[5], p[6], row[1] or "", p[7],
                      p[8], tags, p[9], p[10], row[14] or "", read_at)


def _tag_tuple(raw: Any) -> tuple[tuple[str, str], ...]:
    data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return tuple(sorted((k, str(v)) for k, v in data.items()))


def _driver_time(raw: Any) -> dt.datetime:
    return utc(raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(raw))
