"""The audit chain's head leaves the database on a schedule: a log line (beat's task and the
embedded scheduler) so a copy exists that a database rewrite cannot reach."""
from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from orchestrator.config import Settings
from orchestrator.entrypoints.celery_app import beat_schedule
from orchestrator.service import audit
from orchestrator.service.access import Principal
from tests.fakes import InMemoryDatabase

from .conftest import NOW


def test_the_head_is_logged_with_its_row_id_and_hash() -> None:
    """`export_head` logs `audit_head` with the newest row's id and hash."""
    database = InMemoryDatabase()
    with database.uow() as uow:
        for n in range(3):
            audit.append(uow, Principal("ada", "admin"), "user.create", f"user:u{n}", "", "ok",
                         NOW)
        uow.commit()
    store = database.state
    with capture_logs() as logs:
        head = audit.export_head(database.uow())
    assert head == {"id": 3, "hash": store.audit[-1]["hash"]}
    assert [(e["event"], e["audit_id"], e["hash"]) for e in logs] == [
        ("audit_head", 3, store.audit[-1]["hash"])]


def test_beat_exports_the_head_at_the_configured_interval(tmp_path: Path) -> None:
    """FWO_AUDIT_HEAD_INTERVAL_S schedules `fwo.audit.head`; 0 turns it off."""
    every = beat_schedule(Settings(data_dir=tmp_path, audit_head_interval_s=600))
    assert every["audit-head"] == {"task": "fwo.audit.head", "schedule": 600.0}
    assert "audit-head" not in beat_schedule(Settings(data_dir=tmp_path,
                                                      audit_head_interval_s=0))
