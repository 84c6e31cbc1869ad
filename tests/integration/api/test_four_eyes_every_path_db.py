"""Approvals hold (issue 13, point 2) on real databases: the four-eyes size is the
deployment's setting, never a request's; the creator cannot get their own campaign above it
approved through the API, the CLI or the dashboard; the CLI acts as the user of its token,
with the API's roles, and every CLI action is in the audit chain; user names are
case-insensitive (issue 14, point 5)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orchestrator.entrypoints.cli.main import app as cli

from .conftest import FOUR_EYES_ABOVE

runner = CliRunner()


def fwo(ops: Any, work: Path, user: str | None, *args: str) -> tuple[int, str]:
    """The real CLI (in process) on the test database, as `user` (their token) or nobody."""
    env = {"FWO_DATABASE_URL": ops.database_url, "FWO_DATA_DIR": str(work),
           "FWO_APPROVAL_REQUIRED_ABOVE": str(FOUR_EYES_ABOVE), "NO_COLOR": "1",
           "COLUMNS": "200", "FWO_TOKEN": ops.tokens[user] if user else ""}
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def api_create(ops: Any, user: str, name: str = "spring") -> int:
    """A whole-fleet campaign (60 devices: above the size) created over the API by `user`."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth(user),
                            json={"name": name, "reason": "quarterly security release"})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["campaign_id"])


def campaign_state(ops: Any, campaign_id: int) -> str:
    """The campaign's state as the API shows it."""
    return str(ops.client.get(f"/api/campaigns/{campaign_id}",
                              headers=ops.auth("vera")).json()["state"])


def dashboard_approve(ops: Any, user: str, campaign_id: int) -> int:
    """Approve from the campaign page's form, signed in as `user`; the response status."""
    token = ops.tokens[user]
    ops.client.cookies.set("fwo_token", token)
    try:
        csrf = hashlib.sha256(f"fwo-csrf:{token}".encode()).hexdigest()
        reply = ops.client.post(f"/ui/campaigns/{campaign_id}/action", follow_redirects=False,
                                data={"action": "approve", "csrf": csrf, "reason": "mine"})
    finally:
        ops.client.cookies.clear()
    return int(reply.status_code)


def audit_rows(ops: Any) -> list[dict[str, Any]]:
    """Every audit row, oldest first, without the fixture's own setup rows."""
    rows = ops.client.get("/api/audit?limit=500", headers=ops.auth("ada")).json()["items"]
    return [r for r in reversed(rows) if r["actor"] != "setup"]


def test_a_campaign_request_cannot_carry_the_four_eyes_size(ops) -> None:  # type: ignore[no-untyped-def]
    """`approval_required_above` in a request is a 422 naming the setting; nothing is created;
    the CLI has no such option any more."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth("olga"), json={
        "name": "self-approving", "approval_required_above": 10**9})
    assert reply.status_code == 422
    assert "FWO_APPROVAL_REQUIRED_ABOVE" in reply.json()["detail"]
    assert ops.client.get("/api/campaigns", headers=ops.auth("vera")).json()["items"] == []
    code, out = fwo(ops, Path("."), "olga", "campaign", "create", "--name", "x",
                    "--approval-above", "1000000000")
    assert code == 2 and "--approval-above" in out


def test_the_creator_cannot_get_their_own_campaign_approved_by_any_path(  # type: ignore[no-untyped-def]
        ops, tmp_path: Path) -> None:
    """An approver who created a campaign above the size cannot approve it over the API, the
    CLI (any spelling of the name) or the dashboard; an operator may not approve at all;
    another approver can."""
    cid = api_create(ops, "abe")
    code, out = fwo(ops, tmp_path, "abe", "campaign", "submit", str(cid))
    assert code == 0 and "awaiting_approval" in out
    assert ops.client.post(f"/api/campaigns/{cid}/approve",
                           headers=ops.auth("abe")).status_code == 403
    code, out = fwo(ops, tmp_path, "abe", "campaign", "approve", str(cid))
    assert code == 2 and "other than its creator" in out and len(out.splitlines()) == 1
    assert dashboard_approve(ops, "abe", cid) >= 400
    code, out = fwo(ops, tmp_path, "olga", "campaign", "approve", str(cid))
    assert code == 2 and "may not approve" in out
    assert campaign_state(ops, cid) == "awaiting_approval"
    code, out = fwo(ops, tmp_path, "ada", "campaign", "approve", str(cid), "--reason", "ok")
    assert code == 0 and campaign_state(ops, cid) == "approved"
    refused = [(r["actor"], r["outcome"].split(":")[0]) for r in audit_rows(ops)
               if r["action"] == "campaign.approve"]
    assert refused == [("abe", "refused"), ("abe", "refused"), ("abe", "refused"),
                       ("olga", "denied"), ("ada", "ok")]


def test_a_campaign_created_on_the_cli_needs_another_approver_on_the_api(  # type: ignore[no-untyped-def]
        ops, tmp_path: Path) -> None:
    """The same rule the other way round: created and submitted on the CLI, the creator's
    API approval is refused; the four-eyes size comes from the deployment."""
    code, out = fwo(ops, tmp_path, "abe", "campaign", "create", "--name", "cli", "--json")
    assert code == 0, out
    cid = json.loads(out)["campaign_id"]
    assert fwo(ops, tmp_path, "abe", "campaign", "submit", str(cid))[0] == 0
    reply = ops.client.post(f"/api/campaigns/{cid}/approve", headers=ops.auth("abe"))
    assert reply.status_code == 403 and reply.json()["title"] == "Four-eyes rule"
    events = ops.client.get(f"/api/campaigns/{cid}/events", headers=ops.auth("vera")).json()
    submitted = next(e for e in events if e["name"] == "campaign_submit")
    assert submitted["data"]["four_eyes_above"] == FOUR_EYES_ABOVE


def test_every_cli_action_is_in_the_audit_chain_as_its_user(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without a token a mutating command is one line, exit 2, and changes nothing; with one,
    each action (and each refusal) is an audit row of that user, and the chain verifies."""
    code, out = fwo(ops, tmp_path, None, "campaign", "create", "--name", "anon")
    assert code == 2 and "FWO_TOKEN" in out and len(out.splitlines()) == 1
    assert fwo(ops, tmp_path, "vera", "campaign", "create", "--name", "v")[0] == 2
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "cli", "--json",
                    "--reason", "patch tuesday")
    cid = str(json.loads(out)["campaign_id"])
    device = ops.client.get(f"/api/campaigns/{cid}/devices?limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    steps = [("olga", "submit"), ("abe", "approve"), ("otto", "start"),
             ("otto", "pause", "--reason", "3 a.m. alarm"), ("otto", "pause"),
             ("olga", "resume")]
    for user, action, *more in steps:
        fwo(ops, tmp_path, user, "campaign", action, cid, *more)
    assert fwo(ops, tmp_path, "otto", "campaign", "device", cid, device, "cancel")[0] == 0
    assert fwo(ops, tmp_path, "olga", "campaign", "cancel", cid, "--reason", "done")[0] == 0
    seen = [(r["actor"], r["action"], r["outcome"].split(":")[0]) for r in audit_rows(ops)]
    assert seen == [("vera", "campaign.create", "denied"), ("olga", "campaign.create", "ok"),
                    ("olga", "campaign.submit", "ok"), ("abe", "campaign.approve", "ok"),
                    ("otto", "campaign.start", "ok"), ("otto", "campaign.pause", "ok"),
                    ("otto", "campaign.pause", "refused"), ("olga", "campaign.resume", "ok"),
                    ("otto", "device.cancel", "ok"), ("olga", "campaign.cancel", "ok")]
    rows = audit_rows(ops)
    assert all(r["data"]["via"] == "cli" for r in rows)
    assert rows[1]["target"] == f"campaign:{cid}" and rows[1]["reason"] == "patch tuesday"
    assert rows[5]["reason"] == "3 a.m. alarm"
    assert fwo(ops, tmp_path, None, "audit", "verify")[0] == 0


def test_every_mutating_cli_command_acts_as_a_user(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Catalogue sync, fleet import and a stored plan need a token and the operator role, and
    are audited like their API routes; `plan --no-store` only reads and needs none."""
    cpl, fir, fleet = (str(ops.data / n) for n in ("cpl.xlsx", "fir.xlsx", "fleet.csv"))
    assert fwo(ops, tmp_path, None, "catalogue", "sync", "--cpl", cpl, "--fir", fir)[0] == 2
    assert fwo(ops, tmp_path, "vera", "fleet", "import", fleet)[0] == 2
    assert fwo(ops, tmp_path, "olga", "catalogue", "sync", "--cpl", cpl, "--fir", fir,
               "--reason", "monthly CPL")[0] == 0
    assert fwo(ops, tmp_path, "otto", "fleet", "import", fleet)[0] == 0
    assert fwo(ops, tmp_path, "olga", "plan", "--json")[0] == 0
    assert fwo(ops, tmp_path, None, "plan", "--no-store", "--json")[0] == 0
    seen = [(r["actor"], r["action"], r["outcome"].split(":")[0], r["data"]["via"])
            for r in audit_rows(ops)]
    assert seen == [("vera", "fleet.import", "denied", "cli"),
                    ("olga", "catalogue.sync", "ok", "cli"), ("otto", "fleet.import", "ok", "cli"),
                    ("olga", "plan.create", "ok", "cli")]


def test_user_names_are_case_insensitive_and_unique(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`ADA` beside `ada` is refused (API 409, CLI exit 2); any spelling finds the user."""
    reply = ops.client.post("/api/users", headers=ops.auth("ada"),
                            json={"name": "ADA", "role": "admin"})
    assert reply.status_code == 409 and "case-insensitive" in reply.json()["detail"]
    code, out = fwo(ops, tmp_path, "ada", "user", "create", "Olga", "--role", "admin")
    assert code == 2 and "already exists" in out
    code, out = fwo(ops, tmp_path, "ada", "user", "token", "OTTO", "--json")
    assert code == 0 and json.loads(out)["name"] == "otto"
    names = [u["name"].lower() for u in ops.client.get(
        "/api/users", headers=ops.auth("ada")).json()]
    assert len(names) == len(set(names))


def test_only_the_first_admin_is_created_without_a_token(  # type: ignore[no-untyped-def]
        ops, tmp_path: Path) -> None:
    """Local bootstrap: with database access and no admin yet, `fwo user create` makes the
    first admin; once one exists, creating users (or tokens) needs an admin's token."""
    code, out = fwo(ops, tmp_path, None, "user", "create", "eve", "--role", "admin")
    assert code == 2 and "admin exists already" in out
    assert fwo(ops, tmp_path, "olga", "user", "create", "eve", "--role", "admin")[0] == 2
    assert fwo(ops, tmp_path, None, "user", "token", "olga")[0] == 2
    fresh = {"FWO_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
             "FWO_DATA_DIR": str(tmp_path), "FWO_TOKEN": ""}
    viewer = runner.invoke(cli, ["user", "create", "first", "--role", "viewer"], env=fresh)
    assert viewer.exit_code == 2 and "first admin" in viewer.output
    first = runner.invoke(cli, ["user", "create", "root", "--role", "admin", "--json"],
                          env=fresh)
    assert first.exit_code == 0 and json.loads(first.output)["role"] == "admin"
    again = runner.invoke(cli, ["user", "create", "mallory", "--role", "admin"], env=fresh)
    assert again.exit_code == 2


def test_the_migration_refuses_users_that_differ_only_by_case(database_url: str) -> None:
    """Upgrading a database holding `adm` and `ADM` stops with one line naming them (nothing
    merged, nothing lost); once one is renamed it upgrades and the index holds."""
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from orchestrator.adapters.db import _alembic_config, create_db_engine, migrate
    from orchestrator.errors import DatabaseError

    engine = create_db_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0006_g")
            for name in ("adm", "ADM"):
                connection.execute(sa.text(
                    "insert into api_users (name, role, created_at, created_by, disabled) "
                    "values (:n, 'admin', :t, 'test', false)"),
                    {"n": name, "t": dt.datetime.now(dt.UTC)})
        with pytest.raises(DatabaseError, match="adm"):
            migrate(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("update api_users set name = 'adm2' where name = 'ADM'"))
        migrate(engine)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(
                "insert into api_users (name, role, created_at, created_by, disabled) "
                "values ('Adm2', 'viewer', :t, 'test', false)"), {"t": dt.datetime.now(dt.UTC)})
    finally:
        engine.dispose()


@pytest.mark.parametrize("role,approver,allowed", [("operator", "otto", True),
                                                   ("admin", "abe", False)])
def test_who_may_approve_is_a_deployment_setting(  # type: ignore[no-untyped-def]
        database_url: str, api_data: Path, tmp_path: Path, role: str, approver: str,
        allowed: bool) -> None:
    """With FWO_APPROVE_ROLE=operator another operator may approve; with admin, an approver
    may not; the creator never may; the dashboard offers approve accordingly."""
    from fastapi.testclient import TestClient

    from orchestrator.entrypoints.api import create_app

    from .conftest import Ops, add_users, ops_app

    app = ops_app(database_url, api_data, tmp_path, approval_required_above=5,
                  approve_role=role)
    try:
        with TestClient(create_app(app), raise_server_exceptions=False) as client:
            ops = Ops(app, client, add_users(app), api_data, database_url)
            cid = api_create(ops, "olga")
            assert client.post(f"/api/campaigns/{cid}/submit",
                               headers=ops.auth("olga")).status_code == 200
            for user, offered in (("olga", False), (approver, allowed)):
                page = client.get(f"/ui/campaigns/{cid}", headers=ops.auth(user)).text
                assert ("<option>approve</option>" in page) is offered, user
            assert client.post(f"/api/campaigns/{cid}/approve",
                               headers=ops.auth("olga")).status_code == 403
            reply = client.post(f"/api/campaigns/{cid}/approve", headers=ops.auth(approver))
            assert (reply.status_code == 200) is allowed, reply.text
    finally:
        app.close()
