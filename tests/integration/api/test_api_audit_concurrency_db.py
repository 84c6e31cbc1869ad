"""Concurrent appenders never fork the audit chain (advisory lock / SQLite writer lock)."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.service import audit
from orchestrator.service.access import Principal


def test_parallel_appends_keep_one_unbroken_chain(database_url: str, tmp_path: Path) -> None:
    """Four threads appending 25 rows each leave ids 1..100 in one verified chain."""
    app = bootstrap(Settings(data_dir=tmp_path, database_url=database_url))
    actor = Principal("olga", "operator")

    def append(worker: int) -> None:
        for i in range(25):
            audit.record(app.uow(), actor, "campaign.pause", f"campaign:{worker}", f"r{i}",
                         "ok", dt.datetime.now(dt.UTC), {"i": i})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    result = audit.verify(app.uow())
    app.close()
    assert (result.ok, result.rows) == (True, 100), result.problem
