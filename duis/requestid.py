"""EUI-64 identifiers, RequestIDs and the originator counter source."""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Protocol

from duis.errors import IdentifierError

_EUI_RE = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}")
_COUNTER_RE = re.compile(r"0|[1-9][0-9]{0,19}")
UINT64_MAX = 2**64 - 1


@functools.lru_cache(maxsize=65536)
def normalize_eui(value: str) -> str:
    """Return the EUI-64 in canonical upper-case `00-DB-12-34-56-78-90-A0` form (a fleet's
    device IDs recur in every message: each spelling is checked once)."""
    text = value.strip()
    if not _EUI_RE.fullmatch(text):
        raise IdentifierError(f"not an EUI-64 like 00-DB-12-34-56-78-90-A0: {value[:40]!r}")
    return text.upper()


def eui_bytes(value: str) -> bytes:
    """Return the 8 bytes of an EUI-64."""
    return bytes.fromhex(normalize_eui(value).replace("-", ""))


def eui_from_bytes(raw: bytes) -> str:
    """Format 8 bytes as an EUI-64."""
    if len(raw) != 8:
        raise IdentifierError(f"an EUI-64 has 8 bytes, got {len(raw)}")
    return "-".join(f"{b:02X}" for b in raw)


@dataclass(frozen=True, slots=True)
class RequestId:
    """`BusinessOriginatorID:BusinessTargetID:OriginatorCounter`."""

    originator: str
    target: str
    counter: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "originator", normalize_eui(self.originator))
        object.__setattr__(self, "target", normalize_eui(self.target))
        if not 0 <= self.counter <= UINT64_MAX:
            raise IdentifierError(f"counter {self.counter} is outside uint64")

    def __str__(self) -> str:
        return format_request_id(self)


def format_request_id(rid: RequestId) -> str:
    """Render a RequestID in its DUIS text form."""
    return f"{rid.originator}:{rid.target}:{rid.counter}"


def parse_request_id(text: str) -> RequestId:
    """Parse a DUIS RequestID (or ResponseID), raising IdentifierError on any defect."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise IdentifierError(
            f"RequestID needs 3 ':'-separated parts, got {len(parts)}: {text[:80]!r}"
        )
    originator, target, counter = parts
    if not _COUNTER_RE.fullmatch(counter):
        raise IdentifierError(f"RequestID counter is not a decimal uint64: {counter[:30]!r}")
    return RequestId(normalize_eui(originator), normalize_eui(target), int(counter))


class CounterSource(Protocol):
    """Hands out strictly increasing, never reused originator counters per originator."""

    def next(self, originator: str) -> int:
        """Return the next counter for this originator."""
        ...


class InMemoryCounterSource:
    """A thread-safe in-process CounterSource; starts above `floor` (e.g. epoch ms)."""

    def __init__(self, floor: int = 0) -> None:
        self._floor = floor
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, originator: str) -> int:
        """Return a counter strictly greater than any returned before for this originator."""
        key = normalize_eui(originator)
        with self._lock:
            value = max(self._last.get(key, self._floor), self._floor) + 1
            if value > UINT64_MAX:
                raise IdentifierError(f"counter for {key} exhausted uint64")
            self._last[key] = value
            return value


def next_request_id(source: CounterSource, originator: str, target: str) -> RequestId:
    """Allocate a fresh RequestID for originator -> target from the counter source."""
    return RequestId(originator, target, source.next(normalize_eui(originator)))
