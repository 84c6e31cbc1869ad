"""Catalogue, fleet and plan endpoints, pagination, and /metrics on real databases."""
from __future__ import annotations

import csv
import io

from fir_sync.testing import cpl_row, fir_row, write_pair


def test_catalogue_sync_entries_diff_and_exposure(ops, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sync through the API makes a new snapshot whose diff and entries can be read;
    a bad source is a 422 problem and leaves the catalogue as it was."""
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2, "00000002")],
                          [fir_row(1), fir_row(2, "1")])
    operator, viewer = ops.auth("olga"), ops.auth("vera")
    free = ops.client.post("/api/catalogue/sync", headers=operator,
                           json={"cpl": str(cpl), "fir": str(fir), "reason": "weekly"})
    assert free.status_code == 403 and "FWO_CATALOGUE_SOURCE_PATTERNS" in free.json()["detail"]
    refused = ops.client.post("/api/catalogue/sync", headers=ops.auth("ada"),
                              json={"cpl": str(cpl), "fir": str(fir), "reason": "weekly"})
    assert refused.status_code == 422
    assert "would remove 16 of 16 current entries" in refused.json()["detail"]
    denied = ops.client.post("/api/catalogue/sync", headers=operator,
                             json={"cpl": str(cpl), "fir": str(fir), "allow_removals": True})
    assert denied.status_code == 403
    synced = ops.client.post("/api/catalogue/sync", headers=ops.auth("ada"),
                             json={"cpl": str(cpl), "fir": str(fir), "reason": "weekly",
                                   "allow_removals": True})
    assert synced.status_code == 200 and synced.json()["removed"] == 16
    diff = ops.client.get("/api/catalogue/diff", headers=viewer).json()
    assert diff["added"] == ["1", "2"] and diff["previous_snapshot_id"] == 1
    page = ops.client.get("/api/catalogue/entries?limit=1&offset=1", headers=viewer).json()
    assert [e["cpl_entry_id"] for e in page["items"]] == ["2"] and page["total"] == 2
    assert ops.client.get("/api/catalogue/entries/1", headers=viewer).json()[
        "successors"] == ["2"]
    exposure = ops.client.get("/api/catalogue/exposure?chipset=silicon%20labs",
                              headers=viewer).json()
    assert len(exposure["entries"]) == 2
    bad = ops.client.post("/api/catalogue/sync", headers=ops.auth("ada"),
                          json={"cpl": str(tmp_path / "missing.xlsx"), "fir": str(fir)})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert ops.client.get("/api/catalogue", headers=viewer).json()["snapshot_id"] == 2


def test_fleet_pages_upload_and_plans(ops) -> None:  # type: ignore[no-untyped-def]
    """Devices page by limit/offset; an uploaded CSV reports bad rows; a plan lists its
    blocked devices with the next action."""
    viewer = ops.auth("vera")
    first = ops.client.get("/api/fleet/devices?limit=5", headers=viewer).json()
    second = ops.client.get("/api/fleet/devices?limit=5&offset=5", headers=viewer).json()
    assert len(first["items"]) == 5 and first["next_offset"] == 5
    assert not {d["device_id"] for d in first["items"]} & {d["device_id"] for d in
                                                          second["items"]}
    text = (ops.data / "fleet.csv").read_text().splitlines()
    upload = io.StringIO()
    writer = csv.writer(upload)
    writer.writerows([next(csv.reader([text[0]])), next(csv.reader([text[1]])),
                      ["not-a-device"] + [""] * (len(text[0].split(",")) - 1)])
    reply = ops.client.post("/api/fleet/import", headers=ops.auth("olga"),
                            files={"file": ("fleet.csv", upload.getvalue(), "text/csv")},
                            data={"reason": "field survey"})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["imported"], reply.json()["rejected"]) == (1, 1)
    plan = ops.client.post("/api/plans", headers=ops.auth("olga"), json={"target": "latest"})
    assert plan.status_code == 200
    plan_id = plan.json()["plan_id"]
    blocked = ops.client.get(f"/api/plans/{plan_id}/devices?status=blocked&limit=3",
                             headers=viewer).json()["items"]
    assert blocked and all(d["next_action"]["action"] for d in blocked)
    assert ops.client.get("/api/plans/9999", headers=viewer).status_code == 404


def test_metrics_expose_campaign_states_requests_and_inbound(ops) -> None:  # type: ignore[no-untyped-def]
    """/metrics carries per-campaign state gauges from the counters, inbound backlog,
    request latencies, and needs a token."""
    created = ops.client.post("/api/campaigns", headers=ops.auth("olga"),
                              json={"name": "metered"}).json()
    ops.client.post("/duis/receiver", content=b"<junk/>")
    assert ops.client.get("/metrics").status_code == 401
    text = ops.client.get("/metrics", headers=ops.auth("vera")).text
    cid = created["campaign_id"]
    assert f'fwo_campaign_devices{{campaign="metered",campaign_id="{cid}",state="planned"}}' in text
    assert f'fwo_campaign_state{{campaign="metered",campaign_id="{cid}",state="draft"}} 1.0' in text
    assert 'fwo_inbound_messages{status="quarantined"} 1.0' in text
    assert 'fwo_task_latency_seconds_count{task="inbound.receive"} 1.0' in text
    assert 'fwo_http_request_duration_seconds_count{method="POST",route="/api/campaigns"' in text
    assert "fwo_database_up 1.0" in text
