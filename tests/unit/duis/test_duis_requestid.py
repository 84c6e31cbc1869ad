"""RequestID parsing/formatting and the counter source."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duis.errors import DuisError, IdentifierError
from duis.requestid import (
    InMemoryCounterSource,
    RequestId,
    eui_bytes,
    eui_from_bytes,
    next_request_id,
    normalize_eui,
    parse_request_id,
)

eui_st = st.binary(min_size=8, max_size=8).map(eui_from_bytes)


def test_parses_a_dcc_template_request_id() -> None:
    """The three parts of a template RequestID come back typed."""
    rid = parse_request_id("90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000")
    assert (rid.originator, rid.target, rid.counter) == (
        "90-B3-D5-1F-30-01-00-00",
        "90-B3-D5-1F-30-00-00-02",
        1000,
    )


def test_lower_case_euis_are_normalised() -> None:
    """EUIs are upper-cased so equal IDs compare equal."""
    assert str(parse_request_id("00-db-12-34-56-78-90-a0:90-b3-d5-1f-30-00-00-02:7")) == (
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02:7"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02",
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02:1:2",
        "00-DB-12-34-56-78-90:90-B3-D5-1F-30-00-00-02:1",
        "00DB12345678 90A0:90-B3-D5-1F-30-00-00-02:1",
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02:01",
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02:-1",
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-00-00-02:18446744073709551616",
        "00-DB-12-34-56-78-90-ZZ:90-B3-D5-1F-30-00-00-02:1",
    ],
)
def test_malformed_request_ids_raise_identifier_error(text: str) -> None:
    """Each kind of malformed RequestID is refused with a typed error."""
    with pytest.raises(IdentifierError):
        parse_request_id(text)


def test_largest_uint64_counter_is_accepted() -> None:
    """The counter may use the whole uint64 range."""
    assert parse_request_id(f"{'00-' * 7}01:{'00-' * 7}02:{2**64 - 1}").counter == 2**64 - 1


@given(eui_st, eui_st, st.integers(0, 2**64 - 1))
def test_format_then_parse_round_trips(a: str, b: str, n: int) -> None:
    """Any valid RequestID survives formatting and parsing."""
    rid = RequestId(a, b, n)
    assert parse_request_id(str(rid)) == rid


@given(st.text(max_size=80))
def test_arbitrary_text_only_raises_identifier_errors(text: str) -> None:
    """Arbitrary text parses or raises IdentifierError, nothing else."""
    try:
        parse_request_id(text)
    except IdentifierError:
        pass


def test_eui_bytes_round_trip() -> None:
    """An EUI converts to its 8 bytes and back."""
    assert eui_from_bytes(eui_bytes("00-db-12-34-56-78-90-a0")) == "00-DB-12-34-56-78-90-A0"
    with pytest.raises(DuisError):
        normalize_eui("00-DB-12-34-56-78-90-A0,")


def test_counter_source_is_strictly_increasing_per_originator() -> None:
    """Counters rise per originator, independently, and start above the floor."""
    source = InMemoryCounterSource(floor=1000)
    a = [source.next("90-B3-D5-1F-30-01-00-00") for _ in range(3)]
    b = source.next("90-b3-d5-1f-30-01-00-01")
    assert a == [1001, 1002, 1003] and b == 1001


def test_counter_source_never_repeats_across_threads() -> None:
    """Concurrent callers never receive the same counter."""
    source, seen = InMemoryCounterSource(), []
    lock = threading.Lock()

    def grab() -> None:
        values = [source.next("90-B3-D5-1F-30-01-00-00") for _ in range(500)]
        with lock:
            seen.extend(values)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2000


def test_next_request_id_uses_the_counter_source() -> None:
    """A fresh RequestID takes the next counter for its originator."""
    source = InMemoryCounterSource(floor=41)
    rid = next_request_id(source, "90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0")
    assert rid.counter == 42 and rid.target == "00-DB-12-34-56-78-90-A0"
