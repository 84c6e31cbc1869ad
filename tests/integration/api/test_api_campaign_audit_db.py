"""Campaigns through the API on real databases: roles, four-eyes, actions, the audit chain
and its tamper detection by `fwo audit verify`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def create(ops: Any, user: str, name: str = "spring") -> int:
    """A campaign above the deployment's four-eyes size, created by `user`."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth(user), json={
        "name": name, "waves": "30%,100%", "reason": "quarterly security release"})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["campaign_id"])


def act(ops: Any, user: str, campaign_id: int, action: str, reason: str = "") -> Any:
    """POST a campaign action; the reply."""
    return ops.client.post(f"/api/campaigns/{campaign_id}/{action}", headers=ops.auth(user),
                           json={"reason": reason})


def test_four_eyes_roles_and_actions_are_enforced_and_recorded(ops) -> None:  # type: ignore[no-untyped-def]
    """The creator cannot approve (403 four-eyes), an operator cannot approve (403), another
    approver can; pause/resume work with reasons; everything is in the audit chain."""
    cid = create(ops, "abe")
    assert act(ops, "abe", cid, "submit").json()["state"] == "awaiting_approval"
    refused = act(ops, "abe", cid, "approve")
    assert refused.status_code == 403 and refused.json()["title"] == "Four-eyes rule"
    assert refused.headers["content-type"] == "application/problem+json"
    assert act(ops, "olga", cid, "approve").status_code == 403
    assert act(ops, "ada", cid, "approve").json()["state"] == "approved"
    assert act(ops, "olga", cid, "start").json()["state"] == "running"
    assert act(ops, "otto", cid, "pause", "3 a.m. alarm").json()["state"] == "paused"
    again = act(ops, "otto", cid, "pause")
    assert again.status_code == 409 and "cannot pause" in again.json()["detail"]
    assert act(ops, "olga", cid, "resume").json()["state"] == "running"
    status = ops.client.get(f"/api/campaigns/{cid}", headers=ops.auth("vera")).json()
    assert (status["created_by"], status["approved_by"]) == ("abe", "ada")
    rows = ops.client.get("/api/audit?limit=50", headers=ops.auth("abe")).json()["items"]
    seen = [(r["actor"], r["action"], r["outcome"].split(":")[0]) for r in reversed(rows)
            if r["actor"] != "setup"]
    assert seen == [("abe", "campaign.create", "ok"), ("abe", "campaign.submit", "ok"),
                    ("abe", "campaign.approve", "refused"),
                    ("olga", "campaign.approve", "denied"),
                    ("ada", "campaign.approve", "ok"), ("olga", "campaign.start", "ok"),
                    ("otto", "campaign.pause", "ok"), ("otto", "campaign.pause", "refused"),
                    ("olga", "campaign.resume", "ok")]
    pause = next(r for r in rows if r["action"] == "campaign.pause" and r["outcome"] == "ok")
    assert pause["reason"] == "3 a.m. alarm" and pause["target"] == f"campaign:{cid}"
    assert pause["data"]["request_id"] and pause["at"]


def test_single_devices_can_be_cancelled_but_not_retried_while_active(ops) -> None:  # type: ignore[no-untyped-def]
    """Cancel moves one job to cancelled; retrying a job that has not failed is a 409;
    an unknown campaign or device is a 404."""
    cid = create(ops, "olga")
    device = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    other = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=1&offset=1",
                           headers=ops.auth("vera")).json()["items"][0]["device_id"]
    path = f"/api/campaigns/{cid}/devices"
    assert ops.client.post(f"{path}/{device}/cancel", headers=ops.auth("otto"),
                           json={"reason": "customer complaint"}).status_code == 200
    history = ops.client.get(f"/api/fleet/devices/{device}/history",
                             headers=ops.auth("vera")).json()
    assert history["jobs"][0]["state"] == "cancelled"
    assert history["events"][-1]["to_state"] == "cancelled"
    retry = ops.client.post(f"{path}/{other}/retry", headers=ops.auth("otto"))
    assert retry.status_code == 409
    assert ops.client.post(f"{path}/00-00-00-00-00-00-00-01/cancel",
                           headers=ops.auth("otto")).status_code == 404
    assert ops.client.get("/api/campaigns/999", headers=ops.auth("vera")).status_code == 404


def fwo(database_url: str, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI against the test database."""
    env = {**os.environ, "FWO_DATABASE_URL": database_url, "FWO_DATA_DIR": str(work),
           "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([str(Path(sys.executable).parent / "fwo"), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_fwo_audit_verify_names_the_first_altered_row(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Editing one audit row with raw SQL makes `fwo audit verify` exit 1 naming that row."""
    cid = create(ops, "olga")
    act(ops, "olga", cid, "submit")
    act(ops, "abe", cid, "approve", "looks right")
    intact = fwo(ops.database_url, tmp_path, "audit", "verify", "--json")
    assert intact.returncode == 0, intact.stderr
    engine = sa.create_engine(ops.database_url)
    with engine.begin() as connection:
        first_approval = connection.execute(sa.text(
            "select min(id) from audit_log where action = 'campaign.approve'")).scalar_one()
        connection.execute(sa.text("update audit_log set reason = 'rubber stamp' where id = :i"),
                           {"i": first_approval})
    engine.dispose()
    broken = fwo(ops.database_url, tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert f"audit chain broken at row {first_approval}" in broken.stderr
    api = ops.client.get("/api/audit/verify", headers=ops.auth("abe")).json()
    assert (api["ok"], api["first_broken_id"]) == (False, first_approval)


def test_users_and_tokens_are_managed_by_admins_only(ops) -> None:  # type: ignore[no-untyped-def]
    """An admin creates a user (token shown once, stored hashed); revoking ends access."""
    created = ops.client.post("/api/users", headers=ops.auth("ada"),
                              json={"name": "nina", "role": "viewer", "reason": "new starter"})
    assert created.status_code == 201
    token = created.json()["token"]
    nina = {"Authorization": f"Bearer {token}"}
    assert ops.client.get("/api/me", headers=nina).json()["role"] == "viewer"
    engine = sa.create_engine(ops.database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("select token_hash from api_tokens")).scalars().all()
    engine.dispose()
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert ops.client.post("/api/users", headers=ops.auth("abe"),
                           json={"name": "x", "role": "admin"}).status_code == 403
    assert ops.client.post("/api/users", headers=ops.auth("ada"),
                           json={"name": "nina", "role": "viewer"}).status_code == 409
    ops.client.post("/api/users/nina/revoke", headers=ops.auth("ada"), json={"reason": "left"})
    assert ops.client.get("/api/me", headers=nina).status_code == 401


def _rewrite_with_recomputed_hashes(database_url: str, row_id: int, reason: str) -> None:
    """What an attacker with the database and the public formula does: edit a row and
    recompute its hash and every later row's, so the chain is self-consistent again."""
    from orchestrator.adapters.auth_repository import SqlAlchemyAuditRepository
    from orchestrator.service.audit import GENESIS, chain_hash

    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        rows = list(SqlAlchemyAuditRepository(connection).rows())
        prev = GENESIS
        for row in rows:
            row["reason"] = reason if row["id"] == row_id else row["reason"]
            row["prev_hash"], row["hash"] = prev, chain_hash(prev, row)
            connection.execute(sa.text("update audit_log set reason = :reason, prev_hash = :p, "
                                       "hash = :h where id = :id"),
                               {"reason": row["reason"], "p": row["prev_hash"], "h": row["hash"],
                                "id": row["id"]})
            prev = row["hash"]
    engine.dispose()


def test_a_rewritten_chain_passes_verify_but_not_against_a_saved_head(  # type: ignore[no-untyped-def]
        ops, tmp_path: Path) -> None:
    """`fwo audit head` saves the head; later rows keep it on the chain; a row rewritten with
    every later hash recomputed passes plain `verify` but fails `verify --head` (exit 1);
    the head is on /metrics and the API; a malformed head is one line, exit 2."""
    cid = create(ops, "olga")
    act(ops, "olga", cid, "submit", "for review")
    saved = fwo(ops.database_url, tmp_path, "audit", "head")
    assert saved.returncode == 0, saved.stderr
    head = saved.stdout.strip()
    assert len(head) == 64 and head == ops.client.get(
        "/api/audit/head", headers=ops.auth("abe")).json()["hash"]
    assert f'fwo_audit_head{{hash="{head}"}}' in ops.client.get(
        "/metrics", headers=ops.auth("vera")).text
    act(ops, "abe", cid, "approve", "looks right")
    assert fwo(ops.database_url, tmp_path, "audit", "verify", "--head", head).returncode == 0
    with sa.create_engine(ops.database_url).connect() as connection:
        submit_row = connection.execute(sa.text(
            "select id from audit_log where action = 'campaign.submit'")).scalar_one()
    _rewrite_with_recomputed_hashes(ops.database_url, submit_row, "nothing to see")
    assert fwo(ops.database_url, tmp_path, "audit", "verify").returncode == 0  # the weakness
    rewritten = fwo(ops.database_url, tmp_path, "audit", "verify", "--head", head)
    assert rewritten.returncode == 1
    assert "audit chain rewritten" in rewritten.stderr and head in rewritten.stderr
    api = ops.client.get(f"/api/audit/verify?head={head}", headers=ops.auth("abe")).json()
    assert api["ok"] is False and "saved head" in api["problem"]
    bad = fwo(ops.database_url, tmp_path, "audit", "verify", "--head", "nonsense")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
