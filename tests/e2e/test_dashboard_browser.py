"""The dashboard in headless Chromium: sign in, a running dry-run campaign's page with
waves, states, throughput, blocked devices and live refresh, an action form, other pages.

The app is served by uvicorn in a thread on 127.0.0.1 over a SQLite database in which a
dry-run campaign (simulated DSP and fleet) is mid-flight. Under CI=true a missing Chromium
or Playwright is a failure; elsewhere the test is skipped with the reason.
Set FWO_UPDATE_DASHBOARD_PNG=1 to copy the screenshots to docs/ (dashboard.png,
dashboard-compliance.png, dashboard-waiting.png).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from orchestrator.adapters.simulated_gateway import simulated_execution
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Budget, FailureThreshold, Policy, parse_waves
from orchestrator.entrypoints.api import create_app
from orchestrator.service import access, campaigns, catalogue, fleet
from orchestrator.service.access import Principal
from orchestrator.service.driver import run_campaign
from simulators.generate import generate

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]


def need_browser() -> Any:
    """Playwright's sync API, or skip (fail under CI=true) saying what is missing."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        reason = f"playwright not importable: {err}"
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found"
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires the browser test to run")
        pytest.skip(reason)
    return sync_playwright


class _Stop(Exception):
    """Ends a simulated run early, leaving the campaign mid-flight."""


@dataclass
class World:
    """A served app with a campaign in flight, and the means to move it on."""

    app: App
    url: str
    campaign_id: int
    tokens: dict[str, str]
    ex: Any
    sim: Any

    def advance(self, turns: int) -> None:
        """Run the campaign for a few more simulated turns."""
        def stop_after(stats: Any) -> None:
            if stats.turns >= turns:
                raise _Stop

        try:
            run_campaign(self.ex, self.sim, self.campaign_id, on_turn=stop_after)
        except _Stop:
            pass


def _policy(read_budget: int = 10**6) -> Policy:
    """Two waves, loose thresholds; 11.2 (reads) limited to `read_budget` a day."""
    return Policy(waves=parse_waves("40%,100%"), success_threshold=0.5,
                  failure_thresholds=(FailureThreshold(percent=80.0),),
                  budgets=(*(Budget(sr, 10**6, 86400.0) for sr in ("11.1", "11.4", "11.3")),
                           Budget("11.2", read_budget, 86400.0)))


def _mid_flight(app: App, data: Path, policy: Policy) -> tuple[Any, Any, int]:
    ex, world = simulated_execution(app, data, faults="default", seed=2,
                                    thresholds={"11.1": 200, "11.4": 200, "11.3": 200_000,
                                                "11.2": 200_000})
    olga = Principal("olga", "operator")
    created = campaigns.create_campaign(campaigns.CreateCampaign(
        "spring security release", policy=policy, created_by=olga), app.uow(), ex.clock.now())
    for action in ("submit", "start"):
        campaigns.act(ex, created["campaign_id"], action, olga)
    return ex, world, int(created["campaign_id"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    """uvicorn in a thread serving the app; a dry-run campaign 25 turns in (or the policy
    and number of turns given as the fixture's parameter)."""
    data = tmp_path / "data"
    generate(data, entries=16, devices=80, seed=3, image_size=512)
    app = bootstrap(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/ui.sqlite3",
                             keys_dir=data / "keys", image_dir=data / "images"))
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")),
                             app.uow(), app.fetch_options())
    fleet.import_fleet(app.uow(), data / "fleet.csv")
    setup = access.Principal("setup", "admin")
    tokens = {name: access.create_user(app.uow(), name, role, setup, dt.datetime.now(dt.UTC))[
        "token"] for name, role in (("olga", "operator"), ("vera", "viewer"))}
    policy, turns = getattr(request, "param", None) or (_policy(), 25)
    ex, sim, campaign_id = _mid_flight(app, data, policy)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app, ex), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    world = World(app, f"http://127.0.0.1:{port}", campaign_id, tokens, ex, sim)
    world.advance(turns)
    yield world
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


def _forecast(world: World, work: Path) -> dict[str, Any]:
    """`fwo fleet forecast` on the served database, as olga: the compliance page's forecast."""
    import json

    from typer.testing import CliRunner

    from orchestrator.entrypoints.cli.main import app as cli

    result = CliRunner().invoke(cli, ["fleet", "forecast", "--json"], env={
        "FWO_DATABASE_URL": str(world.app.engine.url), "FWO_DATA_DIR": str(work / "cli"),
        "FWO_TOKEN": world.tokens["olga"]})
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _done(page: Any) -> str:
    return str(page.locator("#states").inner_text())


def test_a_running_campaign_page_in_chromium(served: World, tmp_path: Path) -> None:
    """Signed in, the page shows waves, states, throughput bars and who to contact for
    blocked devices; it refreshes itself as the campaign moves; a pause from the form works."""
    sync_playwright = need_browser()
    cid = served.campaign_id
    some_device = httpx.get(f"{served.url}/api/campaigns/{cid}/devices?state=planned&limit=1",
                            headers={"Authorization": f"Bearer {served.tokens['olga']}"}
                            ).json()["items"][0]["device_id"]
    httpx.post(f"{served.url}/api/campaigns/{cid}/devices/{some_device}/cancel",
               headers={"Authorization": f"Bearer {served.tokens['olga']}"},
               json={"reason": "customer asked to wait"}).raise_for_status()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{served.url}/ui/campaigns/{cid}")
        assert page.locator("#token").is_visible()  # 401 shows the sign-in form
        page.fill("#token", served.tokens["olga"])
        page.click("#sign-in")
        page.wait_for_url(f"**/ui/campaigns/{cid}")
        assert "spring security release" in page.locator("h1").inner_text()
        assert page.locator("#state").inner_text() == "running"
        assert page.locator("#waves .wave-bar").count() == 3  # blocked (0), wave 1, wave 2
        assert page.locator("#throughput rect.tp").count() > 5
        assert "@" in page.locator("#blocked").inner_text()  # a manufacturer contact
        assert "cancelled" in page.locator("#failures").inner_text()
        before = _done(page)
        served.advance(15)
        page.wait_for_function("Number(document.getElementById('updated').dataset.refreshes) >= 1",
                               timeout=15_000)
        page.wait_for_function(f"document.getElementById('states').innerText !== {before!r}",
                               timeout=15_000)
        shot = tmp_path / "campaign.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("FWO_UPDATE_DASHBOARD_PNG") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "dashboard.png")
        page.select_option("#action", "pause")
        page.fill("input[name=reason]", "3 a.m. alarm")
        page.click("#actions button")
        page.wait_for_url(f"**/ui/campaigns/{cid}")
        assert page.locator("#state").inner_text() == "paused"
        assert "3 a.m. alarm" in page.locator("#pause-reason").inner_text()
        page.goto(f"{served.url}/ui/campaigns")
        assert page.locator("#campaigns .badge.paused").count() == 1
        page.goto(f"{served.url}/ui/devices/{some_device}")
        assert "cancelled" in page.locator("#jobs").inner_text()
        page.goto(f"{served.url}/ui/catalogue")
        assert page.locator("#entries tr").count() == 17 and "16 added" in page.locator(
            "#diff").inner_text()
        made = _forecast(served, tmp_path)
        page.click("header >> text=Compliance")
        page.wait_for_url("**/ui/compliance")
        assert page.locator("#complete-by").inner_text() == made["complete_by"][:10]
        assert f"Forecast {made['id']} made" in page.locator("#forecast").inner_text()
        assert "devices against catalogue snapshot" in page.locator("#totals").inner_text()
        assert page.locator("#models tr").count() > 1
        assert page.locator("#zigbee tr").count() > 1
        shot = tmp_path / "compliance.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("FWO_UPDATE_DASHBOARD_PNG") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "dashboard-compliance.png")
        browser.close()


@pytest.mark.parametrize("served", [(_policy(read_budget=8), 2)], indirect=True)
def test_a_paced_campaign_shows_what_it_waits_for(served: World, tmp_path: Path) -> None:
    """With 11.2 budgeted at 8 a day (fewer than wave 1's pre-reads), the campaign's page says it waits for pacing of SR 11.2
    and until when, shows the policy with the budget used up, counts in flight only devices
    with a request out, and offers only pause and cancel; the list says so too."""
    sync_playwright = need_browser()
    cid = served.campaign_id
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(f"{served.url}/ui/login")
        page.fill("#token", served.tokens["olga"])
        page.click("#sign-in")
        page.goto(f"{served.url}/ui/campaigns/{cid}")
        page.wait_for_function("document.getElementById('wait-until').innerText !== ''",
                               timeout=15_000)
        wait = " ".join(page.locator("#waiting").inner_text().split())
        assert wait.startswith("Waiting for pacing until ")
        assert "SR 11.2 budget used up (8 per day)" in wait
        policy = page.locator("#policy").inner_text()
        assert "11.2: 8 per day (0 left" in policy and "40%, 100%" in policy
        assert [o.inner_text() for o in page.locator("#action option").all()] == [
            "pause", "cancel"]
        legend = page.locator("#legend").inner_text()
        assert "in flight" in legend and "queued" in legend
        assert page.locator("#dispatched").inner_text() != "never"  # a dispatcher was seen
        shot = tmp_path / "waiting.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("FWO_UPDATE_DASHBOARD_PNG") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "dashboard-waiting.png")
        page.goto(f"{served.url}/ui/campaigns")
        assert "waiting: pacing until" in page.locator("#campaigns").inner_text()
        browser.close()
