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
    """A campaign above the four-eyes size, created by `user`."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth(user), json={
        "name": name, "waves": "30%,100%", "approval_required_above": 5,
        "reason": "quarterly security release"})
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
                    ("olga", "denied:/api/campaigns/1/approve", "denied"),
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
