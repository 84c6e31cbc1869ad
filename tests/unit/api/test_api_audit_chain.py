"""The audit chain: canonical rows, linked hashes, and the first broken row named."""
from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Any, Self

from orchestrator.service import audit
from orchestrator.service.access import Principal

AT = dt.datetime(2025, 3, 1, 3, 0, tzinfo=dt.UTC)


class Rows:
    """A minimal unit of work holding audit rows in a list."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.audit = self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def commit(self) -> None:
        return None

    def lock(self) -> None:
        return None

    def head(self) -> tuple[int, str] | None:
        return (self.rows[-1]["id"], self.rows[-1]["hash"]) if self.rows else None

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(dict(row))


def chain(n: int = 5) -> list[dict[str, Any]]:
    """n rows appended by two users."""
    uow = Rows()
    for i in range(n):
        actor = Principal("olga" if i % 2 else "abe", "operator")
        audit.record(uow, actor, "campaign.pause", f"campaign:{i}", f"reason {i}", "ok",  # type: ignore[arg-type]
                     AT + dt.timedelta(seconds=i), {"n": i})
    return uow.rows


def test_rows_link_to_their_predecessor_from_a_zero_genesis() -> None:
    """Ids run 1..n, row 1 links to 64 zeros, every later row to the previous hash."""
    rows = chain()
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(rows))
    assert audit.verify_rows(rows).to_dict() == {
        "ok": True, "rows": 5, "head_hash": rows[-1]["hash"], "first_broken_id": None,
        "problem": ""}


def test_the_hash_covers_every_field_of_the_row() -> None:
    """Changing any stored field of row 3 breaks the chain at row 3."""
    for name, value in (("actor", "mallory"), ("action", "campaign.resume"),
                        ("target", "campaign:99"), ("reason", "edited"), ("outcome", "ok!"),
                        ("data", {"n": 99}), ("at", AT + dt.timedelta(days=1))):
        rows = chain()
        rows[2][name] = value
        result = audit.verify_rows(rows)
        assert (result.ok, result.first_broken_id) == (False, 3), name
        assert "altered" in result.problem and result.rows == 2


def test_a_rehashed_edit_still_breaks_the_next_link() -> None:
    """Recomputing the edited row's own hash does not help: row 4 no longer links to it."""
    rows = chain()
    rows[2]["reason"] = "edited"
    rows[2]["hash"] = audit.chain_hash(rows[2]["prev_hash"], rows[2])
    result = audit.verify_rows(rows)
    assert result.first_broken_id == 4 and "prev_hash" in result.problem


def test_a_deleted_row_is_named_by_the_gap() -> None:
    """Deleting row 2 is reported at the row that follows the gap."""
    rows = chain()
    del rows[1]
    result = audit.verify_rows(rows)
    assert result.first_broken_id == 3 and "row 2 is missing" in result.problem


def test_canonical_json_is_independent_of_key_order_and_time_zone() -> None:
    """The same row in another key order, or its time in another zone, hashes the same."""
    row = chain(1)[0]
    shuffled = dict(reversed(list(row.items())))
    shuffled["at"] = row["at"].astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert audit.canonical(shuffled) == audit.canonical(row)
    naive = dict(row, at=row["at"].replace(tzinfo=None))
    assert audit.chain_hash(row["prev_hash"], naive) == row["hash"]
