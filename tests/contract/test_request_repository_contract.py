"""RequestID counters, the sent log and the inbound store behave alike in every store."""
from __future__ import annotations

import datetime as dt

from .conftest import NOW, UowFactory

A, B = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-02-00-00"


def _sent(request_id: str, sr: str = "11.1", campaign: int | None = 1,
          at: dt.datetime = NOW) -> dict[str, object]:
    return {"request_id": request_id, "campaign_id": campaign, "sr_type": sr,
            "command_variant": 1, "entry": "E1", "device_count": 1, "sent_at": at}


def test_counters_strictly_increase_and_are_never_handed_out_twice(new_uow: UowFactory) -> None:
    """Reservations across units of work never overlap and always climb, per originator."""
    handed: list[int] = []
    for count in (3, 1, 5):
        with new_uow() as uow:
            handed += uow.requests.reserve_counters(A, count, 0)
            uow.commit()
    assert handed == sorted(handed) and len(set(handed)) == 9
    assert handed == list(range(handed[0], handed[0] + 9))
    with new_uow() as uow:
        assert uow.requests.reserve_counters(B, 2, 0) == [1, 2]


def test_counters_start_above_the_floor_and_stay_above_what_was_handed_out(
        new_uow: UowFactory) -> None:
    """The floor (epoch ms) lifts counters, but a lower floor never takes them back down."""
    with new_uow() as uow:
        first = uow.requests.reserve_counters(A, 2, 1_000)
        uow.commit()
    with new_uow() as uow:
        second = uow.requests.reserve_counters(A, 1, 10)
        uow.commit()
    with new_uow() as uow:
        third = uow.requests.reserve_counters(A, 1, 5_000)
    assert first == [1_001, 1_002] and second == [1_003] and third == [5_001]


def test_a_reservation_rolled_back_is_not_kept(new_uow: UowFactory) -> None:
    """A unit of work left without commit leaves the counter where it was."""
    with new_uow() as uow:
        uow.requests.reserve_counters(A, 4, 0)
    with new_uow() as uow:
        assert uow.requests.reserve_counters(A, 1, 0) == [1]


def test_sent_requests_await_their_response_code(new_uow: UowFactory) -> None:
    """Requests without a code before the cut-off are unacknowledged until one is recorded."""
    early, late = NOW - dt.timedelta(minutes=10), NOW
    with new_uow() as uow:
        uow.requests.record_sent([_sent("r1", at=early), _sent("r2", at=early),
                                  _sent("r3", at=late)])
        uow.requests.record_response_codes({"r1": "I0"})
        uow.commit()
    with new_uow() as uow:
        assert uow.requests.unacknowledged(NOW - dt.timedelta(minutes=1), 10) == ["r2"]
        assert uow.requests.unacknowledged(NOW + dt.timedelta(minutes=1), 1) in (["r2"], ["r3"])
        uow.requests.record_response_codes({"r2": "LOST", "r3": "I0"})
        uow.commit()
    with new_uow() as uow:
        assert uow.requests.unacknowledged(NOW + dt.timedelta(days=1), 10) == []


def test_sent_counts_and_sent_ids(new_uow: UowFactory) -> None:
    """Counts per SR type (all, or one campaign); which RequestIDs this deployment sent."""
    with new_uow() as uow:
        uow.requests.record_sent([_sent("a", "11.1", 1), _sent("b", "11.3", 1),
                                  _sent("c", "11.3", 2), _sent("d", "11.2", None)])
        uow.commit()
    with new_uow() as uow:
        assert uow.requests.sent_counts() == {"11.1": 1, "11.3": 2, "11.2": 1}
        assert uow.requests.sent_counts(1) == {"11.1": 1, "11.3": 1}
        assert uow.requests.sent_counts(3) == {}
        assert uow.requests.sent_request_ids(["a", "zz", "d"]) == {"a", "d"}


def test_inbound_messages_are_stored_once_by_digest(new_uow: UowFactory) -> None:
    """A repeat (in the batch or later) gets the first copy's id and is not new."""
    with new_uow() as uow:
        stored = uow.requests.store_many([("s1", b"one"), ("s2", b"two"), ("s1", b"one")], NOW)
        uow.commit()
    (id1, new1), (id2, new2), (id3, new3) = stored
    assert (new1, new2, new3) == (True, True, False) and id3 == id1 != id2
    with new_uow() as uow:
        assert uow.requests.store_raw("s2", b"two", NOW) == (id2, False)
        again = uow.requests.store_many([("s1", b"one"), ("s3", b"three")], NOW)
        uow.commit()
    assert again[0] == (id1, False) and again[1][1] is True and again[1][0] not in (id1, id2)
    with new_uow() as uow:
        assert uow.requests.inbound_counts() == {"received": 3}
        assert [i for i, _ in uow.requests.pending_messages(10)] == sorted([id1, id2,
                                                                           again[1][0]])
        assert uow.requests.raw_messages([id2]) == [(id2, b"two")]


def test_marked_messages_leave_the_pending_set_and_claims(new_uow: UowFactory) -> None:
    """Applied and quarantined messages are neither pending nor claimable; applied
    content digests are found again."""
    with new_uow() as uow:
        (m1, _), (m2, _), (m3, _) = uow.requests.store_many(
            [("s1", b"1"), ("s2", b"2"), ("s3", b"3")], NOW)
        uow.commit()
    with new_uow() as uow:
        uow.requests.mark_many([(m1, "applied", "", {"kind": "response", "request_id": "r1",
                                                      "content_sha256": "c1"}),
                                (m2, "quarantined", "bad signature", {})], NOW)
        uow.commit()
    with new_uow() as uow:
        assert uow.requests.pending_messages(10) == [(m3, b"3")]
        assert uow.requests.pending_messages(10, received_before=NOW) == []  # not yet waited
        later = NOW + dt.timedelta(seconds=1)
        assert uow.requests.pending_messages(10, received_before=later) == [(m3, b"3")]
        assert uow.requests.raw_messages([m1, m2, m3]) == [(m3, b"3")]
        assert uow.requests.claim([m1, m2, m3]) == {m3}
        assert uow.requests.applied_contents(["c1", "c2"]) == {"c1": m1}
        assert uow.requests.inbound_counts() == {"applied": 1, "quarantined": 1,
                                                 "received": 1}
        uow.requests.mark(m3, "applied", NOW, content_sha256="c3")
        uow.commit()
    with new_uow() as uow:
        assert uow.requests.applied_contents(["c3"]) == {"c3": m3}
        assert uow.requests.claim([m3]) == set()
