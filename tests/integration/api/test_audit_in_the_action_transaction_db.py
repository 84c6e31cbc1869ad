"""An API call's audit row is written inside the call's own transaction: when the audit
store refuses the row, the action does not happen either (before, the action committed and
its row was written afterwards, or lost)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SQLITE_BLOCK = ("CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit store full'); END")
PG_BLOCK = (("CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN RAISE EXCEPTION 'audit store full'; END $$"),
            ("CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
             "FOR EACH ROW EXECUTE FUNCTION audit_full()"))


def refuse_audit_rows(ops: Any) -> None:
    """From now on the database refuses every new audit row (a real trigger)."""
    with ops.app.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(SQLITE_BLOCK)
        else:
            for statement in PG_BLOCK:
                connection.exec_driver_sql(statement)


def count(ops: Any, sql: str) -> int:
    """One number from the database."""
    with ops.app.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


def test_no_action_commits_without_its_audit_row(ops: Any) -> None:
    """With the audit store refusing rows, a campaign submit and a stored plan change
    nothing: the work and its row commit together."""
    created = ops.client.post("/api/campaigns", headers=ops.auth("olga"), json={"name": "a"})
    campaign_id = created.json()["campaign_id"]
    rows_before = count(ops, "select count(*) from audit_log")
    plans_before = count(ops, "select count(*) from plans")
    refuse_audit_rows(ops)
    submit = ops.client.post(f"/api/campaigns/{campaign_id}/submit", headers=ops.auth("olga"))
    assert submit.status_code >= 500
    state = ops.client.get(f"/api/campaigns/{campaign_id}", headers=ops.auth("vera"))
    assert state.json()["state"] == "draft"
    assert ops.client.post("/api/plans", headers=ops.auth("olga"),
                           json={}).status_code >= 500
    assert count(ops, "select count(*) from plans") == plans_before
    assert count(ops, "select count(*) from audit_log") == rows_before
