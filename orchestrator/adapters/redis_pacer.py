"""Global pacing in Redis: one fixed-window counter per SR type, shared by every worker.

A Lua script takes from the window atomically, so N workers on M machines together never
exceed a budget (the DCC's anomaly thresholds).
"""
from __future__ import annotations

import datetime as dt

import redis

from orchestrator.domain.pacing import Grant, window_end, window_of
from orchestrator.domain.policy import Budget
from orchestrator.errors import PacingUnavailableError

_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[1]), math.max(0, tonumber(ARGV[2]) - used))
if grant > 0 then
  redis.call('INCRBY', KEYS[1], grant)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {grant, used + grant}
"""


class RedisPacer:
    """Fixed-window budgets per SR type, counted in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = "fwo:pacing"):
        self.client = client
        self.prefix = prefix
        self._take = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "fwo:pacing") -> RedisPacer:
        """A pacer on the Redis at `url`."""
        return cls(redis.Redis.from_url(url), prefix)

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """Grant up to `wanted` sends from the window of `at`."""
        key = f"{self.prefix}:{budget.sr_type}:{int(budget.period_s)}:{window_of(budget, at)}"
        try:
            granted, used = (int(n) for n in self._take(
                keys=[key], args=[wanted, budget.limit, int(budget.period_s) * 2 + 60]))
        except redis.RedisError as err:
            raise PacingUnavailableError(f"pacing store unavailable: {err}") from err
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     max(0, budget.limit - used))
