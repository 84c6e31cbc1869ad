"""Campaign input as people type it, checked once for the CLI, the API and the dry run.

Every value that reaches a `Policy` passes here: waves strictly increasing, above 0 and at
most 100%; an activation window of two different valid HH:MM times in a real time zone;
budgets `SR=LIMIT[/SECONDS]` for a known SR type with a positive whole limit and a positive
finite period, each overriding the default of its own SR type only; finite numbers only.
A bad value raises `PolicyError` with one line naming it.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.domain.errors import PolicyError
from orchestrator.domain.policy import (
    SR_TYPES,
    ActivationWindow,
    Budget,
    Failure,
    FailureThreshold,
    Policy,
    check_waves,
    finite_within,
    parse_number,
    parse_waves,
)

NAME_MAX = 200


def parse_budgets(specs: Iterable[str]) -> tuple[Budget, ...]:
    """Several budgets, at most one per SR type."""
    budgets = [Budget.parse(spec) for spec in specs]
    seen: set[str] = set()
    for budget in budgets:
        if budget.sr_type in seen:
            raise PolicyError(f"budget for SR {budget.sr_type} given twice")
        seen.add(budget.sr_type)
    return tuple(budgets)


def merge_budgets(defaults: Iterable[Budget], given: Iterable[Budget]) -> tuple[Budget, ...]:
    """The defaults with each given budget replacing the default of its SR type only."""
    merged = {b.sr_type: b for b in defaults}
    merged.update((b.sr_type, b) for b in given)
    return tuple(merged.values())


def parse_window(text: str, timezone: str) -> ActivationWindow:
    """`01:00-05:00` in a real IANA time zone; the two times must differ."""
    check_timezone(timezone)
    return ActivationWindow.parse(text, timezone)


def check_timezone(name: str) -> None:
    """A real IANA time zone name (`Europe/London`, `UTC`), else PolicyError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise PolicyError(f"time zone {name!r} is not a known IANA time zone "
                          "(e.g. Europe/London, UTC)") from err


def check_name(name: str) -> str:
    """A campaign name: not blank, no control characters, at most 200 characters."""
    cleaned = name.strip()
    if not cleaned:
        raise PolicyError("the campaign name is empty")
    if len(cleaned) > NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise PolicyError(f"the campaign name must be at most {NAME_MAX} printable characters")
    return cleaned


def parse_success(text: str) -> float:
    """A wave's success threshold: `95%` or `0.95` (a fraction from 0 to 1)."""
    value = text.strip()
    if value.endswith("%"):
        return parse_number(value[:-1], "success threshold") / 100
    return parse_number(value, "success threshold")


def parse_failure_threshold(spec: str) -> FailureThreshold:
    """`KIND=N` (pause at N failures of that kind in a wave) or `KIND=P%` (at P% of the wave);
    KIND `*` is any failure."""
    kind, sep, amount = (part.strip() for part in spec.partition("="))
    if not sep or not kind or not amount:
        raise PolicyError(f"failure threshold {spec!r} is not KIND=N or KIND=P% "
                          "(e.g. *=10%, timeout=5)")
    if amount.endswith("%"):
        return FailureThreshold(kind, percent=parse_number(amount[:-1], "failure threshold percent"))
    count = parse_number(amount, "failure threshold count")
    if count != int(count):
        raise PolicyError(f"failure threshold count {amount!r} is not a whole number")
    return FailureThreshold(kind, count=int(count))


def campaign_policy(*, waves: str = "100%", window: str | None = None,
                    timezone: str = "Europe/London", budgets: Iterable[str] = (),
                    success: str | None = None, failures: Iterable[str] = (),
                    base: Policy | None = None) -> Policy:
    """The policy from typed values over `base` (the defaults); PolicyError names a bad one.

    `window=None` is no window; an empty string is an empty window, refused. Failure
    thresholds given replace the default ones; none given keeps them.
    """
    base = base or Policy()
    check_timezone(timezone)
    given_failures = tuple(parse_failure_threshold(f) for f in failures)
    policy = replace(base, waves=parse_waves(waves),
                     success_threshold=(base.success_threshold if success is None
                                        else parse_success(success)),
                     failure_thresholds=given_failures or base.failure_thresholds,
                     budgets=merge_budgets(base.budgets, parse_budgets(budgets)),
                     activation_window=None if window is None else parse_window(window, timezone))
    check_policy(policy)
    return policy


def check_policy(policy: Policy) -> None:
    """Every rule a policy must keep before a campaign uses it; PolicyError on the first broken."""
    check_waves(policy.waves)
    for budget in policy.budgets:
        if budget.sr_type not in SR_TYPES:
            raise PolicyError(f"budget for unknown SR type {budget.sr_type!r}; known: "
                              f"{', '.join(SR_TYPES)}")
        budget.check()
    if len({b.sr_type for b in policy.budgets}) < len(policy.budgets):
        raise PolicyError("more than one budget for the same SR type")
    if policy.activation_window is not None:
        window = policy.activation_window
        check_timezone(window.timezone)
        if window.start == window.end:
            raise PolicyError("the activation window is empty (start and end are equal)")
    if not (math.isfinite(policy.success_threshold) and 0 <= policy.success_threshold <= 1):
        raise PolicyError(f"success threshold {policy.success_threshold} is not within 0..1")
    for threshold in policy.failure_thresholds:
        finite_within(threshold.percent, "failure threshold percent", 0, 100)
        finite_within(threshold.count, "failure threshold count", 1, math.inf)
    unknown = sorted(set(policy.retry.retry_on) - set(Failure))
    if unknown:
        raise PolicyError(f"retry on unknown failure(s) {', '.join(unknown)}; known: "
                          f"{', '.join(Failure)}")
    if policy.device_id_list_max < 1:
        raise PolicyError("the DeviceIDList maximum must be at least 1")
    finite_within(policy.read_max_age_s, "read_max_age_s", 0, math.inf)
