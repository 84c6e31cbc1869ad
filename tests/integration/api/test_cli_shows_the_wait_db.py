"""The CLI says what a campaign waits for: started where nothing will dispatch it (the
default memory:// broker, no `fwo run`), `campaign start` warns at once, and `campaign
status` names the wait (no dispatcher) under its table, as the API does."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from orchestrator.entrypoints.cli.main import app as cli

from .conftest import FOUR_EYES_ABOVE

runner = CliRunner()


def fwo(ops: Any, work: Path, user: str, *args: str) -> tuple[int, str]:
    """The real CLI (in process) on the test database as `user`, on the default broker."""
    env = {"FWO_DATABASE_URL": ops.database_url, "FWO_DATA_DIR": str(work),
           "FWO_APPROVAL_REQUIRED_ABOVE": str(FOUR_EYES_ABOVE), "NO_COLOR": "1",
           "COLUMNS": "200", "FWO_TOKEN": ops.tokens[user], "FWO_BROKER_URL": "memory://"}
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_a_campaign_nothing_will_dispatch_says_so(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Start warns that nothing will dispatch it; status and the API show the dispatcher
    wait; only pause and cancel are offered; nothing is in flight."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "idle", "--json")
    cid = str(json.loads(out)["campaign_id"])
    assert fwo(ops, tmp_path, "olga", "campaign", "submit", cid)[0] == 0
    code, out = fwo(ops, tmp_path, "olga", "campaign", "status", cid)
    assert "waiting for approval" in out and "other than olga" in out
    assert fwo(ops, tmp_path, "abe", "campaign", "approve", cid)[0] == 0
    code, out = fwo(ops, tmp_path, "olga", "campaign", "start", cid)
    text = " ".join(out.split())
    assert code == 0 and f"warning: nothing will dispatch campaign {cid}" in text
    code, out = fwo(ops, tmp_path, "vera", "campaign", "status", cid)
    text = " ".join(out.split())
    assert "waiting for dispatcher" in text and "no dispatcher has run" in text
    assert "in flight 0 · last dispatch never" in text
    status = ops.client.get(f"/api/campaigns/{cid}", headers=ops.auth("vera")).json()
    assert status["waiting"]["reason"] == "dispatcher"
    assert status["actions"] == ["pause", "cancel"] and status["in_flight"] == 0
