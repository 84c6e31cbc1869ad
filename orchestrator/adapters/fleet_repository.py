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

from sqlalchemy import Connection, String, Table, Text, cast, func, select, type_coerce

from orchestrator.adapters.fleet_tables import devices
from orchestrator.domain.fleet import Device

# Device fields in table-column order ("" is stored as NULL for the optional ones).
FIELDS = ("device_id", "device_type", "manufacturer", "model", "hardware_version",
          "firmware_hash", "firmware_version", "status", "comms_hub_id",
          "comms_hub_gbcs_version", "han_variant", "tags", "source", "observed_at")
_STAGE = "fwo_devices_stage"
READ_BATCH = 20_000


def copy_rows(connection: Connection, table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: stream rows into `table` with COPY (same transaction as `connection`)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Sequence[Any]],
                conflict: str = "") -> None:
    """SQLite (and others): one executemany of positional rows, plus an ON CONFLICT clause."""
    names = [c.name for c in table.columns]
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks}) {conflict}",
        list(rows))


def utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC (naive values are taken as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def datetime_param(connection: Connection, value: dt.datetime) -> Any:
    """A datetime as the driver takes it for a DateTime column (SQLite wants SQLAlchemy's text)."""
    if connection.dialect.name == "postgresql":
        return utc(value)
    processor = devices.c.observed_at.type.bind_processor(connection.dialect)
    plain = utc(value).replace(tzinfo=None)
    return processor(plain) if processor else plain


class SqlAlchemyFleetRepository:
    """Devices keyed by EUI-64; bulk upserts; streaming, filtered reads."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def upsert(self, batch: Sequence[Device]) -> int:
        """Insert or update these devices (one row per ID); keep rows observed later."""
        if not batch:
            return 0
        rows = _Writer(self.connection).rows(batch)
        update = ", ".join(f"{n} = excluded.{n}" for n in FIELDS[1:])
        guard = "WHERE devices.observed_at <= excluded.observed_at"
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE devices) ON COMMIT DELETE ROWS")
            self.connection.exec_driver_sql(f"TRUNCATE {_STAGE}")
            copy_rows(self.connection, _STAGE, FIELDS, rows)
            names = ", ".join(FIELDS)
            self.connection.exec_driver_sql(
                f"INSERT INTO devices ({names}) SELECT {names} FROM {_STAGE} "
                f"ON CONFLICT (device_id) DO UPDATE SET {update} {guard}")
        else:
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


def _read_columns() -> list[Any]:
    columns: list[Any] = [devices.c[n] for n in FIELDS[:-3]]
    return [*columns, cast(devices.c.tags, Text), devices.c.source,
            type_coerce(devices.c.observed_at, String)]


class _Writer:
    """Device -> positional row, serialising each distinct tag set and time once."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._tags: dict[tuple[tuple[str, str], ...], str] = {}
        self._times: dict[dt.datetime | None, Any] = {}

    def rows(self, batch: Sequence[Device]) -> list[tuple[Any, ...]]:
        return [self.row(d) for d in batch]

    def row(self, d: Device) -> tuple[Any, ...]:
        tags = self._tags.get(d.tags)
        if tags is None:
            tags = self._tags[d.tags] = json.dumps(dict(d.tags), ensure_ascii=False)
        when = self._times.get(d.observed_at)
        if when is None:
            when = self._times[d.observed_at] = datetime_param(
                self.connection, d.observed_at or dt.datetime.now(dt.UTC))
        return (d.device_id, d.device_type, d.manufacturer, d.model, d.hardware_version or None,
                d.firmware_hash or None, d.firmware_version or None, d.status,
                d.comms_hub_id or None, d.comms_hub_gbcs_version or None,
                d.han_variant or None, tags, d.source, when)


class _Reader:
    """Row -> Device, sharing repeated strings, tag tuples and times between devices."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._tags: dict[Any, tuple[tuple[str, str], ...]] = {}
        self._times: dict[Any, dt.datetime] = {}

    def device(self, row: Sequence[Any]) -> Device:
        s = self._strings
        v = [s.setdefault(x, x) if x else "" for x in row[1:11]]
        return Device(row[0], v[0], v[1], v[2], v[6], v[3], v[4], v[5], v[7], v[8], v[9],
                      self._tag_tuple(row[11]), s.setdefault(row[12], row[12]),
                      self._time(row[13]))

    def _tag_tuple(self, raw: Any) -> tuple[tuple[str, str], ...]:
        found = self._tags.get(raw)
        if found is None:
            data = json.loads(raw) if isinstance(raw, str) else (raw or {})
            found = self._tags[raw] = tuple(sorted((k, str(v)) for k, v in data.items()))
        return found

    def _time(self, raw: Any) -> dt.datetime:
        found = self._times.get(raw)
        if found is None:
            value = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(raw)
            found = self._times[raw] = utc(value)
        return found
