"""Anomaly detection: count each User's SRs per type per period; quarantine the excess."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from simulators.dsp.config import PERIOD_EPOCH, AnomalyThresholds


class AnomalyDetector:
    """Counts admitted and quarantined SRs per (User, SR type, period start)."""

    def __init__(self, thresholds: AnomalyThresholds) -> None:
        self.thresholds = thresholds
        self.admitted: Counter[tuple[str, str, datetime]] = Counter()
        self.quarantined: Counter[tuple[str, str, datetime]] = Counter()

    def period_start(self, at: datetime) -> datetime:
        """Start of the period holding `at`."""
        period = self.thresholds.period
        return PERIOD_EPOCH + ((at - PERIOD_EPOCH) // period) * period

    def admit(self, user: str, sr: str, at: datetime) -> bool:
        """Count one SR; False (quarantine it) when it would exceed the User's limit."""
        key = (user, sr, self.period_start(at))
        limit = self.thresholds.limits.get(sr)
        if limit is not None and self.admitted[key] >= limit:
            self.quarantined[key] += 1
            return False
        self.admitted[key] += 1
        return True

    def sr_counts(self, user: str | None = None) -> dict[str, dict[datetime, int]]:
        """Admitted SRs per type per period start (all Users, or one)."""
        return _fold(self.admitted, user)

    def quarantine_counts(self, user: str | None = None) -> dict[str, dict[datetime, int]]:
        """Quarantined SRs per type per period start."""
        return _fold(self.quarantined, user)


def _fold(counts: Counter[tuple[str, str, datetime]], user: str | None
          ) -> dict[str, dict[datetime, int]]:
    out: dict[str, dict[datetime, int]] = {}
    for (who, sr, start), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if user is None or who == user:
            per_sr = out.setdefault(sr, {})
            per_sr[start] = per_sr.get(start, 0) + n
    return out
