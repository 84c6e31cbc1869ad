"""Waves: which devices go in which wave, and the gate that opens the next one or pauses."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orchestrator.domain.policy import Policy, Wave


def assign_waves(device_ids: Sequence[str], waves: Sequence[Wave], seed: str = "") -> dict[str, int]:
    """Spread devices over waves (1-based) in a stable pseudo-random order."""
    order = sorted(device_ids, key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).digest())
    total = len(order)
    assigned: dict[str, int] = {}
    start = 0
    for number, wave in enumerate(waves, start=1):
        end = max(start, wave.cumulative_size(total))
        for device in order[start:end]:
            assigned[device] = number
        start = end
    for device in order[start:]:
        assigned[device] = len(waves)
    return assigned


@dataclass
class WaveCounts:
    """Maintained counters of one wave: how many devices, done, failed (by reason)."""

    total: int = 0
    done: int = 0
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """All failed devices of the wave."""
        return sum(self.failed.values())

    @property
    def finished(self) -> bool:
        """True when every device of the wave is terminal."""
        return self.done + self.failures >= self.total


@dataclass(frozen=True)
class GateDecision:
    """What the wave gate says: carry on, open the next wave, pause (with why), or complete."""

    action: str
    reason: str = ""


def evaluate_gate(policy: Policy, current_wave: int, last_wave: int,
                  counts: Mapping[int, WaveCounts]) -> GateDecision:
    """Failure thresholds pause; a finished wave above the success threshold opens the next."""
    wave = counts.get(current_wave, WaveCounts())
    for threshold in policy.failure_thresholds:
        failures = (wave.failures if threshold.failure == "*"
                    else wave.failed.get(threshold.failure, 0))
        if threshold.breached(failures, wave.total):
            limit = (f"{threshold.count}" if threshold.count is not None
                     else f"{threshold.percent:g}%")
            return GateDecision("pause", f"wave {current_wave}: {failures} {threshold.failure} "
                                f"failure(s) of {wave.total} reached the threshold {limit}")
    if not wave.finished:
        return GateDecision("continue")
    success = wave.done / wave.total if wave.total else 1.0
    if current_wave < last_wave:
        if success < policy.success_threshold:
            return GateDecision("pause", f"wave {current_wave}: success {success:.1%} is below "
                                f"the {policy.success_threshold:.0%} needed to open the next")
        return GateDecision("open_next")
    return GateDecision("complete")
