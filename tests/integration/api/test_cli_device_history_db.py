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


def test_campaign_devices_lists_filters_and_writes_csv(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`fwo campaign devices` is the API's device list: all, one state, CSV, a bad state."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "d", "--json")
    cid = str(json.loads(out)["campaign_id"])
    api = ops.client.get(f"/api/campaigns/{cid}/devices?limit=200",
                         headers=ops.auth("vera")).json()["items"]
    code, out = fwo(ops, tmp_path, "vera", "campaign", "devices", cid, "--limit", "200",
                    "--json")
    assert code == 0 and json.loads(out) == api and len(api) > 1
    cancelled = api[0]["device_id"]
    assert ops.client.post(f"/api/campaigns/{cid}/devices/{cancelled}/cancel",
                           headers=ops.auth("otto"), json={"reason": "x"}).status_code == 200
    sheet = tmp_path / "cancelled.csv"
    code, out = fwo(ops, tmp_path, "vera", "campaign", "devices", cid, "--state", "cancelled",
                    "--csv", str(sheet))
    assert code == 0 and cancelled in out and "1 row(s) written" in out and "None" not in out
    lines = sheet.read_text().splitlines()
    assert lines[0].startswith("device_id,wave,state,") and len(lines) == 2
    assert lines[1].startswith(f"{cancelled},") and ",cancelled," in lines[1]
    code, out = fwo(ops, tmp_path, "vera", "campaign", "devices", cid, "--state", "bogus")
    assert code == 2 and "not one of" in out
    code, out = fwo(ops, tmp_path, "vera", "campaign", "devices", "999")
    assert code == 2 and "Traceback" not in out


def test_action_commands_print_json_on_request(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every campaign action and a device action print one JSON object with `--json`."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "j", "--json")
    cid = json.loads(out)["campaign_id"]
    code, out = fwo(ops, tmp_path, "olga", "campaign", "submit", str(cid), "--json")
    assert code == 0 and json.loads(out)["campaign_id"] == cid
    device = ops.client.get(f"/api/campaigns/{cid}/devices?limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    code, out = fwo(ops, tmp_path, "olga", "campaign", "device", str(cid), device, "cancel",
                    "--json")
    assert code == 0 and json.loads(out) == {"campaign_id": cid, "device_id": device,
                                             "action": "cancel"}
    code, out = fwo(ops, tmp_path, "olga", "campaign", "cancel", str(cid), "--reason", "r",
                    "--json")
    assert code == 0 and json.loads(out)["state"] == "cancelled"


def test_watch_off_a_terminal_prints_plain_lines_or_json(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Piped (not a TTY), `campaign watch` prints one plain progress line, no table frames;
    `--json` one JSON object per line; an ended campaign stops the watch by itself."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "w", "--json")
    cid = json.loads(out)["campaign_id"]
    code, out = fwo(ops, tmp_path, "vera", "campaign", "watch", str(cid), "--once")
    assert code == 0 and len(out.strip().splitlines()) == 1
    assert out.startswith(f"campaign {cid} w: draft, wave ") and "planned " in out
    assert "─" not in out and "┃" not in out and "None" not in out
    assert fwo(ops, tmp_path, "olga", "campaign", "cancel", str(cid))[0] == 0
    code, out = fwo(ops, tmp_path, "vera", "campaign", "watch", str(cid), "--json")
    [line] = out.strip().splitlines()
    data = json.loads(line)
    assert code == 0 and data["campaign_id"] == cid and data["state"] == "cancelled"


def test_compliance_page_and_api_show_the_same_fleet(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`/ui/compliance` renders the numbers `/api/fleet/compliance` and the CLI give, with
    the latest forecast (none at first, then the one `fwo fleet forecast` stored)."""
    assert ops.client.get("/api/fleet/compliance", headers=ops.auth("vera")
                          ).json()["forecast"] is None
    assert "No forecast yet" in ops.client.get("/ui/compliance", headers=ops.auth("vera")).text
    code, out = fwo(ops, tmp_path, "olga", "fleet", "forecast", "--json")
    assert code == 0, out
    made = json.loads(out[out.index("{"):])  # after stderr's schema-validation note
    api = ops.client.get("/api/fleet/compliance", headers=ops.auth("vera")).json()
    assert api["forecast"] == made and made["complete_by"] and made["bricked"] == 0
    code, out = fwo(ops, tmp_path, "vera", "fleet", "compliance", "--json")
    assert code == 0 and json.loads(out) == api
    assert api["totals"]["devices"] == sum(m["devices"] for m in api["models"]) > 0
    page = ops.client.get("/ui/compliance", headers=ops.auth("vera"))
    assert page.status_code == 200
    assert f"{api['totals']['devices']} devices against catalogue snapshot" in page.text
    for m in api["models"]:
        assert f"<td>{m['model']}</td>" in page.text
    assert f"current by\n    <b id=\"complete-by\">{made['complete_by'][:10]}</b>" in page.text
    assert "None" not in page.text


def test_thresholds_set_at_create_are_the_campaigns(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--success-threshold` and `--pause-on` (CLI) and the API's fields set the policy."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "t",
                    "--success-threshold", "80%", "--pause-on", "timeout=3", "--json")
    assert code == 0, out
    cid = str(json.loads(out)["campaign_id"])
    status = ops.client.get(f"/api/campaigns/{cid}", headers=ops.auth("vera")).json()
    assert "80%" in json.dumps(status) and "timeout >= 3" in json.dumps(status)
    assert fwo(ops, tmp_path, "olga", "campaign", "cancel", cid)[0] == 0  # frees its devices
    reply = ops.client.post("/api/campaigns", headers=ops.auth("olga"), json={
        "name": "u", "success_threshold": "0.5", "failure_thresholds": ["*=2"]})
    assert reply.status_code in (200, 201), reply.text
    status = ops.client.get(f"/api/campaigns/{reply.json()['campaign_id']}",
                            headers=ops.auth("vera")).json()
    assert "50%" in json.dumps(status) and "any failure >= 2" in json.dumps(status)
    bad = ops.client.post("/api/campaigns", headers=ops.auth("olga"),
                          json={"name": "v", "failure_thresholds": ["*=120%"]})
    assert bad.status_code == 422 and "percent" in bad.text
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "w",
                    "--pause-on", "nonsense")
    assert code == 2 and "KIND=N" in out


def test_campaign_report_is_labelled_tables(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The human report shows failures, requests and blocked devices as titled tables,
    never a Python dict or None."""
    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "r", "--json")
    cid = str(json.loads(out)["campaign_id"])
    device = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    assert fwo(ops, tmp_path, "olga", "campaign", "device", cid, device, "cancel")[0] == 0
    code, out = fwo(ops, tmp_path, "vera", "campaign", "report", cid)
    assert code == 0
    out = " ".join(out.split())  # titles wrap to their table's width
    for title in ("failures by reason", "requests sent by service request",
                  "blocked device(s)"):
        assert title in out
    assert "no request sent" in out and "{" not in out and "None" not in out


def test_retry_failed_retries_failures_but_never_a_quarantined_device(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two devices time out and one is quarantined (set in the database: reaching these
    states for real takes a DSP); retry-failed moves the two back to work and leaves the
    quarantined one; the second call has nothing to retry; a viewer is refused."""
    import sqlalchemy as sa

    from orchestrator.adapters.campaign_tables import device_jobs

    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "f", "--json")
    cid = json.loads(out)["campaign_id"]
    items = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=3",
                           headers=ops.auth("vera")).json()["items"]
    ids = [i["device_id"] for i in items]
    with ops.app.engine.begin() as conn:
        for device, state in zip(ids, ("timed_out", "timed_out", "quarantined")):
            conn.execute(sa.update(device_jobs).where(
                device_jobs.c.campaign_id == cid, device_jobs.c.device_id == device
            ).values(state=state, failure=state))
    assert ops.client.post(f"/api/campaigns/{cid}/retry-failed",
                           headers=ops.auth("vera")).status_code == 403
    code, out = fwo(ops, tmp_path, "olga", "campaign", "retry-failed", str(cid),
                    "--reason", "DSP outage over", "--json")
    assert code == 0 and json.loads(out)["retried"] == 2
    states = {i["device_id"]: i["state"] for i in ops.client.get(
        f"/api/campaigns/{cid}/devices?limit=200", headers=ops.auth("vera")).json()["items"]}
    assert states[ids[2]] == "quarantined"
    assert states[ids[0]] not in ("timed_out", "quarantined")
    assert states[ids[1]] not in ("timed_out", "quarantined")
    again = ops.client.post(f"/api/campaigns/{cid}/retry-failed", headers=ops.auth("otto"),
                            json={"reason": "again"})
    assert again.status_code == 200 and again.json()["retried"] == 0


def test_dashboard_lists_a_campaigns_devices_and_retries_failed_ones(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`/ui/campaigns/{id}/devices[?state=S]` is the CLI's list; the campaign page's
    CSRF-checked form retries failed devices (a forged form is refused)."""
    import hashlib

    import sqlalchemy as sa

    from orchestrator.adapters.campaign_tables import device_jobs

    _, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "g", "--json")
    cid = json.loads(out)["campaign_id"]
    device = ops.client.get(f"/api/campaigns/{cid}/devices?state=planned&limit=1",
                            headers=ops.auth("vera")).json()["items"][0]["device_id"]
    with ops.app.engine.begin() as conn:
        conn.execute(sa.update(device_jobs).where(
            device_jobs.c.campaign_id == cid, device_jobs.c.device_id == device
        ).values(state="timed_out", failure="timeout"))
    page = ops.client.get(f"/ui/campaigns/{cid}/devices?state=timed_out",
                          headers=ops.auth("vera"))
    assert page.status_code == 200 and device in page.text and page.text.count("<tr>") == 2
    assert "retry-failed" in ops.client.get(f"/ui/campaigns/{cid}", headers=ops.auth("olga")).text
    token = ops.tokens["olga"]
    ops.client.cookies.set("fwo_token", token)
    try:
        forged = ops.client.post(f"/ui/campaigns/{cid}/retry-failed", follow_redirects=False,
                                 data={"csrf": "0" * 64})
        assert forged.status_code in (401, 403)
        csrf = hashlib.sha256(f"fwo-csrf:{token}".encode()).hexdigest()
        reply = ops.client.post(f"/ui/campaigns/{cid}/retry-failed", follow_redirects=False,
                                data={"csrf": csrf, "reason": "from the page"})
    finally:
        ops.client.cookies.clear()
    assert reply.status_code == 303
    page = ops.client.get(f"/ui/campaigns/{cid}/devices?state=timed_out",
                          headers=ops.auth("vera"))
    assert device not in page.text and "No device is timed_out" in page.text


def test_a_scheduled_campaign_starts_when_its_time_comes(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`campaign start --start-at` (CLI) and POST /schedule (API) schedule an approved
    campaign; a past or zone-less time is one line; the reconciler `fwo run` and beat use
    starts it once its time has come, and not before."""
    import dataclasses
    import datetime as dt

    from orchestrator.service.reconcile import start_scheduled

    code, out = fwo(ops, tmp_path, "olga", "campaign", "create", "--name", "s", "--json")
    cid = str(json.loads(out)["campaign_id"])
    assert fwo(ops, tmp_path, "olga", "campaign", "submit", cid)[0] == 0
    assert fwo(ops, tmp_path, "abe", "campaign", "approve", cid)[0] == 0
    code, out = fwo(ops, tmp_path, "olga", "campaign", "start", cid, "--start-at",
                    "2001-01-01T00:00:00+00:00")
    assert code == 2 and "not in the future" in out
    code, out = fwo(ops, tmp_path, "olga", "campaign", "start", cid, "--start-at",
                    "2999-01-01T01:00:00")
    assert code == 2 and "no time zone" in out
    bad = ops.client.post(f"/api/campaigns/{cid}/schedule", headers=ops.auth("olga"),
                          json={"start_at": "2001-01-01T00:00:00Z"})
    assert bad.status_code == 422 and "not in the future" in bad.text
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    code, out = fwo(ops, tmp_path, "olga", "campaign", "start", cid, "--start-at",
                    when.isoformat(), "--json")
    warning, brace, rest = out.partition("{")  # the runner mixes in stderr's warning
    assert code == 0 and json.loads(brace + rest)["state"] == "scheduled"
    assert "nothing will dispatch" in warning
    status = ops.client.get(f"/api/campaigns/{cid}", headers=ops.auth("vera")).json()
    assert status["state"] == "scheduled"
    ex = ops.app.execution()
    assert start_scheduled(ex) == []  # not yet

    class Later:
        def now(self) -> dt.datetime:
            return when + dt.timedelta(seconds=1)

    assert start_scheduled(dataclasses.replace(ex, clock=Later())) == [int(cid)]
    status = ops.client.get(f"/api/campaigns/{cid}", headers=ops.auth("vera")).json()
    assert status["state"] == "running"
