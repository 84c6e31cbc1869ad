"""`FWO_CLOCK`: the wall clock, or the simulated DSP's time read from its `GET /health`."""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from orchestrator.adapters.dsp_clock import DspClock
from orchestrator.bootstrap import App
from orchestrator.config import Settings
from orchestrator.domain.ports import SystemClock
from orchestrator.errors import ConfigurationError, DspUnavailableError

SIM_NOW = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def health() -> Iterator[tuple[str, dict[str, object]]]:
    """A server answering GET /health with what the test puts in the dict."""
    answer: dict[str, object] = {"now": SIM_NOW.isoformat(), "speed": 3600.0,
                                 "real_time": True}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answer).encode()
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", answer
    finally:
        server.shutdown()


def test_the_clock_setting_is_the_wall_clock_or_the_dsp_and_nothing_else() -> None:
    """`system` by default; an unknown value or `dsp` without a DSP URL is one clear line."""
    assert isinstance(App(Settings(), None).clock(), SystemClock)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="FWO_CLOCK='moon'"):
        App(Settings(clock="moon"), None).clock()  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="needs FWO_DSP_URL"):
        App(Settings(clock="dsp"), None).clock()  # type: ignore[arg-type]


def test_the_dsp_clock_flows_from_the_simulators_time_and_never_runs_back(
        health: tuple[str, dict[str, object]]) -> None:
    """It starts at the simulator's `now`, flows at its speed, and a re-read showing an
    earlier time (a stepped simulator, a slow answer) never moves it backwards."""
    url, answer = health
    clock = DspClock(url, resync_s=0.0)
    first = clock.now()
    assert SIM_NOW <= first < SIM_NOW + dt.timedelta(hours=1)
    answer["now"], answer["real_time"] = (SIM_NOW - dt.timedelta(days=1)).isoformat(), False
    assert clock.now() >= first  # re-read each call (resync 0): earlier, so it holds
    answer["now"] = (SIM_NOW + dt.timedelta(days=2)).isoformat()
    assert clock.now() == SIM_NOW + dt.timedelta(days=2)  # stepped: exactly the DSP's time


def test_the_dsp_clock_says_which_url_it_could_not_read() -> None:
    """No simulator there: a DspUnavailableError naming the URL, not a traceback of httpx."""
    with pytest.raises(DspUnavailableError, match="cannot read the simulated DSP's time"):
        DspClock("http://127.0.0.1:9").now()
