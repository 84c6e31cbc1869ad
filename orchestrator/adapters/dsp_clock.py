"""`FWO_CLOCK=dsp`: the orchestrator keeps the simulated DSP's time, not the wall clock.

`fwo sim dsp` runs its own simulated time, usually faster than the wall clock (`--speed`),
and its devices execute a future-dated 11.3 when *that* time reaches the execution time.
Against it, an orchestrator on the wall clock dates activations into a window the simulated
devices reach at another moment (years away, or already past), so windowed campaigns stall
or activate out of their window. With this clock every process of a deployment (workers,
beat, `fwo run`, the receiver) reads the simulator's `GET /health` (`now`, `speed`) and lets
time flow at that speed from there, re-reading it every few seconds; it never runs
backwards. Only for trying campaigns against the simulator: a real DCC keeps real time.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import httpx

from orchestrator.errors import ConfigurationError, DspUnavailableError

RESYNC_S = 5.0  # wall seconds between reads of the simulator's time


class DspClock:
    """Simulated time as the simulated DSP at `base_url` keeps it (a `Clock`)."""

    def __init__(self, base_url: str, resync_s: float = RESYNC_S) -> None:
        if not base_url:
            raise ConfigurationError("FWO_CLOCK=dsp needs FWO_DSP_URL (the simulated DSP)")
        self.base_url, self.resync_s = base_url.rstrip("/"), resync_s
        self._anchor: dt.datetime | None = None
        self._wall = 0.0
        self._speed = 1.0
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The simulator's current time (UTC), never earlier than a time given before."""
        with self._lock:
            if self._anchor is None or time.monotonic() - self._wall > self.resync_s:
                self._sync()
            assert self._anchor is not None
            moment = self._anchor + dt.timedelta(
                seconds=(time.monotonic() - self._wall) * self._speed)
            self._last = max(self._last, moment)
            return self._last

    def _sync(self) -> None:
        try:
            response = httpx.get(f"{self.base_url}/health", timeout=10)
            response.raise_for_status()
            health = response.json()
            anchor = dt.datetime.fromisoformat(health["now"])
            speed = float(health["speed"]) if health.get("real_time") else 0.0
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as err:
            if self._anchor is not None:  # keep flowing on the last reading
                return
            raise DspUnavailableError(f"FWO_CLOCK=dsp: cannot read the simulated DSP's time "
                                      f"at {self.base_url}/health: {err}") from err
        self._anchor, self._wall, self._speed = anchor, time.monotonic(), speed
