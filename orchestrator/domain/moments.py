"""Moments as the orchestrator keeps them: timezone-aware, a naive value taken as UTC.

SQLite hands back naive datetimes for what was stored as UTC, and people type times without
an offset; these helpers are the one place either becomes an aware datetime.
"""
from __future__ import annotations

import datetime as dt
from typing import overload


@overload
def aware(value: dt.datetime) -> dt.datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: dt.datetime | None) -> dt.datetime | None:
    """`value` with UTC as its zone when it has none (None and aware values unchanged)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def utc(value: dt.datetime) -> dt.datetime:
    """`value` in UTC (a naive value is taken as UTC, an aware one converted)."""
    return aware(value).astimezone(dt.UTC)
