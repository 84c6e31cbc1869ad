"""`fwo device history ID` prints what `/api/fleet/devices/{id}/history` serves: the
device's campaign jobs and transitions, as labelled tables or JSON; a non-EUI is one line."""
from __future__ import annotations

import json
from pathlib import Path

from .test_cli_shows_the_wait_db import fwo


def test_device_history_after_a_cancel(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "h", "--json")
    cid = json.loads(out)["campaign_id"]
    device = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    assert ops.client.post(f"/api/campaigns/{cid}/devices/{device}/cancel",
                           headers=ops.auth("otto"), json={"reason": "complaint"}
                           ).status_code == 200
    api = ops.client.get(f"/api/fleet/devices/{device}/history",
                         headers=ops.auth("vera")).json()
    loose = device.replace("-", "").lower()
    code, out = fwo(ops, tmp_path, "vera", "device", "history", loose, "--json")
    assert code == 0 and json.loads(out) == api
    assert api["jobs"][0]["campaign_id"] == cid and api["jobs"][0]["state"] == "cancelled"
    code, out = fwo(ops, tmp_path, "vera", "device", "history", device)
    assert code == 0
    assert "1 campaign job(s)" in out and "cancelled" in out and "transition(s)" in out
    assert "None" not in out and "{" not in out
    code, out = fwo(ops, tmp_path, "vera", "device", "history", "meter-7")
    assert code == 2 and "not a device ID" in out and "Traceback" not in out
