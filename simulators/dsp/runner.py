"""Real-time mode: a background thread lets simulated time flow and delivers due events
(with `lanes` above 1, over that many sender threads, each device's messages in order)."""
from __future__ import annotations

import threading

import structlog

from simulators.dsp.delivery import Lanes
from simulators.dsp.engine import Dsp

log = structlog.get_logger(__name__)


class RealTimeRunner:
    """Runs `dsp.advance_to(clock.now())` while the clock flows at its speed factor."""

    def __init__(self, dsp: Dsp, tick: float = 0.05, lanes: int = 1) -> None:
        self.dsp = dsp
        self.tick = tick
        self.lanes = lanes
        self._lanes: Lanes | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Let time flow and start delivering."""
        if self.running:
            return
        self._stop.clear()
        self._lanes = Lanes(self.dsp.deliver, self.lanes) if self.lanes > 1 else None
        self.dsp.clock.start()
        self._thread = threading.Thread(target=self._loop, name="dsp-real-time", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering and freeze time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._lanes is not None:
            self._lanes.close()
            self._lanes = None
        self.dsp.clock.stop()

    def _wait(self) -> float:
        due = self.dsp.next_event_time()
        if due is None:
            return self.tick
        return min(self.tick, self.dsp.clock.wall_seconds_until(due))

    def _loop(self) -> None:
        hand_off = self._lanes.put if self._lanes is not None else None
        while not self._stop.wait(self._wait()):
            try:
                self.dsp.advance_to(self.dsp.clock.now(), hand_off)
            except Exception:  # the thread must outlive a bad receiver; the error is logged
                log.exception("dsp_real_time_step_failed")
