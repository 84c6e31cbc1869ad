"""Catalogue snapshots, the fleet inventory and stored plans behave alike in every store."""
from __future__ import annotations

import datetime as dt
from typing import Any

from orchestrator.domain.catalogue import CARRIED_KEY
from orchestrator.domain.fleet import Device
from orchestrator.domain.observations import FleetFact
from orchestrator.domain.plan_report import DevicePlan, NextAction, Outcome

from .conftest import NOW, UowFactory, aware

HOUR = dt.timedelta(hours=1)


def _record(content: str = "c1", previous: int | None = None) -> dict[str, Any]:
    return {"created_at": NOW, "cpl_source": "cpl.xlsx", "fir_source": "fir.xlsx",
            "cpl_sheet": None, "fir_sheet": None, "cpl_file_sha256": "a" * 64,
            "fir_file_sha256": "b" * 64, "cpl_content_sha256": "c" * 64,
            "fir_content_sha256": "d" * 64, "content_hash": content, "cpl_rows": 2,
            "fir_rows": 2, "cpl_entries": 2, "fir_entries": 2, "problem_count": 0,
            "problems": [], "diff": {"added": ["E1"]}, "previous_snapshot_id": previous}


def _entry(entry_id: str, predecessors: list[str] | None = None,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cpl_entry_id": entry_id, "device_type": "ESME", "manufacturer": "ACME",
            "model": "M1", "hardware_version": "1", "firmware_version": f"v{entry_id}",
            "image_hash": entry_id * 8, "gbcs_version": "4.0", "han_variant": "2.4GHz",
            "status": "Active", "predecessors": predecessors, "has_fir": True,
            "contact_email": "", "contact_telephone": "", "contact_address": "",
            "release_notes": "", "zigbee_chipset_vendor": "", "zigbee_stack_version": "",
            "zigbee_band_join_option": "", "extra": extra or {}}


def _snapshot(new_uow: UowFactory, *entries: dict[str, Any], current: bool = True) -> int:
    with new_uow() as uow:
        snapshot_id = uow.catalogue.add(_record(), list(entries))
        if current:
            uow.catalogue.make_current(snapshot_id)
        uow.commit()
    return int(snapshot_id)


def test_a_snapshot_becomes_current_only_when_made_so(new_uow: UowFactory) -> None:
    """`add` stores a snapshot; `make_current` moves the pointer; newest listed first."""
    with new_uow() as uow:
        assert uow.catalogue.current_id() is None
    first = _snapshot(new_uow, _entry("E1"))
    second = _snapshot(new_uow, _entry("E1"), _entry("E2", ["E1"]), current=False)
    with new_uow() as uow:
        assert uow.catalogue.current_id() == first
        assert [s.id for s in uow.catalogue.snapshots()] == [second, first]
        found = uow.catalogue.snapshot(second)
        assert uow.catalogue.snapshot(second + 10) is None
        uow.catalogue.make_current(second)
        uow.commit()
    assert found is not None and found.content_hash == "c1" and found.diff == {"added": ["E1"]}
    with new_uow() as uow:
        assert uow.catalogue.current_id() == second


def test_a_snapshot_loads_as_a_catalogue(new_uow: UowFactory) -> None:
    """Entries come back with predecessors as tuples and the carried-over mark as a value."""
    mark = {CARRIED_KEY: {"kept_from_snapshot": 1, "problems": ["bad row"], "part": "entry"},
            "note": "x"}
    snapshot_id = _snapshot(new_uow, _entry("E1"), _entry("E2", ["E1"], mark))
    with new_uow() as uow:
        catalogue = uow.catalogue.load(snapshot_id)
        fields = uow.catalogue.entry_fields(snapshot_id)
    assert catalogue.snapshot_id == snapshot_id and sorted(fields) == ["E1", "E2"]
    e1, e2 = catalogue.get("E1"), catalogue.get("E2")
    assert e1 is not None and e1.predecessors is None and e1.carried_over is None
    assert e2 is not None and e2.predecessors == ("E1",) and dict(e2.extra) == {"note": "x"}
    assert e2.carried_over is not None and e2.carried_over.problems == ("bad row",)


def _device(device_id: str, at: dt.datetime = NOW, **kw: Any) -> Device:
    base = {"device_type": "ESME", "manufacturer": "ACME", "model": "M1", "status": "Commissioned",
            "firmware_hash": "h1", "firmware_version": "v1", "tags": (("site", "north"),),
            "source": "csv", "observed_at": at}
    return Device(device_id, **{**base, **kw})


def test_an_upsert_never_replaces_a_newer_observation(new_uow: UowFactory) -> None:
    """The later observation wins, whatever order the upserts come in."""
    with new_uow() as uow:
        uow.fleet.upsert([_device("A", NOW, model="new")])
        uow.fleet.upsert([_device("A", NOW - HOUR, model="old"), _device("B")])
        uow.commit()
    with new_uow() as uow:
        found = uow.fleet.get("A")
        assert found is not None and found.model == "new" and aware(found.observed_at) == NOW
        assert found.tags == (("site", "north"),) and uow.fleet.count() == 2
        assert sorted(uow.fleet.get_many(["A", "B", "Z"])) == ["A", "B"]
        assert uow.fleet.known(["A", "Z"]) == {"A"} and uow.fleet.get("Z") is None


def test_a_later_import_keeps_what_reads_confirmed(new_uow: UowFactory) -> None:
    """A row without read facts keeps the last read time, and the confirmed entry while the
    firmware is unchanged; new firmware drops the confirmation."""
    with new_uow() as uow:
        uow.fleet.upsert([_device("A", firmware_entry="E1", read_at=NOW),
                          _device("B", firmware_entry="E1", read_at=NOW)])
        uow.fleet.upsert([_device("A", NOW + HOUR, status="Suspended"),
                          _device("B", NOW + HOUR, firmware_hash="h2", firmware_version="v2")])
        uow.commit()
    with new_uow() as uow:
        a, b = uow.fleet.get("A"), uow.fleet.get("B")
    assert a.status == "Suspended" and a.firmware_entry == "E1" and aware(a.read_at) == NOW
    assert b.firmware_version == "v2" and b.firmware_entry == "" and aware(b.read_at) == NOW


def test_devices_are_read_by_id_through_filters(new_uow: UowFactory) -> None:
    """Every `column IN values` filter applies; ordered by device ID; limited."""
    with new_uow() as uow:
        uow.fleet.upsert([_device("C", model="M2"), _device("A"), _device("B", model="M2"),
                          _device("D", model="M2", manufacturer="OTHER")])
        uow.commit()
    with new_uow() as uow:
        assert [d.device_id for d in uow.fleet.iter_devices()] == ["A", "B", "C", "D"]
        chosen = uow.fleet.iter_devices({"model": frozenset({"M2"}),
                                         "manufacturer": frozenset({"ACME"})})
        assert [d.device_id for d in chosen] == ["B", "C"]
        assert [d.device_id for d in uow.fleet.iter_devices(limit=2)] == ["A", "B"]


def test_device_histories_and_forecasts(new_uow: UowFactory) -> None:
    """Facts are kept in order per device and counted by kind; the newest forecast is read."""
    facts = [FleetFact("A", "firmware_read", NOW, "11.2", {"version": "v1"}, 3, 9),
             FleetFact("B", "drift", NOW, "8.2"), FleetFact("A", "drift", NOW + HOUR, "8.2")]
    with new_uow() as uow:
        uow.fleet.add_events(facts, NOW)
        assert uow.fleet.latest_forecast() is None
        uow.fleet.add_forecast(NOW, "ada", 1, None, {"devices": 1})
        second = uow.fleet.add_forecast(NOW + HOUR, "bob", 1, NOW + 9 * HOUR, {"devices": 2})
        uow.commit()
    with new_uow() as uow:
        assert [(f.name, f.data, f.campaign_id, f.message_id) for f in uow.fleet.events("A")] == [
            ("firmware_read", {"version": "v1"}, 3, 9), ("drift", {}, None, None)]
        assert [f.device_id for f in uow.fleet.events(names=["drift"], newest_first=True)] == [
            "A", "B"]
        assert len(uow.fleet.events(limit=1)) == 1
        assert uow.fleet.count_events(["drift", "none"]) == {"drift": 2}
        latest = uow.fleet.latest_forecast()
    assert latest is not None and (latest["id"], latest["made_by"], latest["devices"]) == (
        second, "bob", 2)
    assert dt.datetime.fromisoformat(latest["complete_by"]) == NOW + 9 * HOUR


def _plan(new_uow: UowFactory, snapshot_id: int, entries: list[str],
          devices: dict[str, str]) -> int:
    planned = Outcome("planned", None, "E1", "E2", ("E2",), NextAction("upgrade", "go"))
    blocked = Outcome("blocked", "unknown_firmware", None, None, (),
                      NextAction("investigate", "unknown", details=(("hash", "x"),)))
    plans = [DevicePlan(_device(d), planned if s == "planned" else blocked)
             for d, s in devices.items()]
    record = {"created_at": NOW, "snapshot_id": snapshot_id, "target": "latest",
              "selection": {}, "policy": {}, "summary": {"devices": len(plans)},
              "entries": entries, "device_count": len(plans), "stale": False}
    with new_uow() as uow:
        plan_id = uow.plans.add(record, plans)
        uow.commit()
    return int(plan_id)


def test_plans_read_back_with_their_devices(new_uow: UowFactory) -> None:
    """A plan's record and rows (by device ID, optionally one status), newest plan first."""
    snapshot_id = _snapshot(new_uow, _entry("E1"))
    first = _plan(new_uow, snapshot_id, ["E1", "E2"], {"B": "planned", "A": "blocked"})
    second = _plan(new_uow, snapshot_id, ["E2"], {"C": "planned"})
    with new_uow() as uow:
        plan = uow.plans.get(first)
        rows = list(uow.plans.devices(first))
        assert [p.id for p in uow.plans.recent()] == [second, first]
        assert [d.device_id for d in uow.plans.devices(first, "planned")] == ["B"]
        assert len(list(uow.plans.devices(first, limit=1))) == 1
        assert uow.plans.get(second + 5) is None
    assert plan is not None and plan.device_count == 2 and not plan.stale
    assert [(d.device_id, d.status, d.path) for d in rows] == [("A", "blocked", ()),
                                                              ("B", "planned", ("E2",))]
    assert rows[0].next_action == {"action": "investigate", "message": "unknown", "hash": "x"}


def test_plans_go_stale_once_with_their_first_reason(new_uow: UowFactory) -> None:
    """Plans holding changed devices go stale; the first reason is kept; stale plans are
    no longer open."""
    snapshot_id = _snapshot(new_uow, _entry("E1"))
    one = _plan(new_uow, snapshot_id, ["E1"], {"A": "planned", "B": "planned"})
    two = _plan(new_uow, snapshot_id, ["E2"], {"C": "planned"})
    with new_uow() as uow:
        assert uow.plans.open_plans() == [(one, ["E1"]), (two, ["E2"])]
        assert uow.plans.mark_stale_for_devices(["B", "Z"], "firmware changed", NOW) == [one]
        uow.plans.mark_stale(one, "catalogue changed", NOW)
        uow.commit()
    with new_uow() as uow:
        assert uow.plans.open_plans() == [(two, ["E2"])]
        assert uow.plans.mark_stale_for_devices(["A"], "again", NOW) == []
        stale = uow.plans.get(one)
    assert stale is not None and stale.stale and stale.stale_reason == "firmware changed"


def test_pruning_keeps_the_newest_snapshots_entries_and_the_current_ones(
        new_uow: UowFactory) -> None:
    """Entries of older snapshots go (records stay); the current snapshot is always kept."""
    first = _snapshot(new_uow, _entry("E1"), _entry("E2"))
    middle = _snapshot(new_uow, _entry("E1"), current=False)
    newest = _snapshot(new_uow, _entry("E1"), _entry("E2"), _entry("E3"), current=False)
    with new_uow() as uow:
        assert uow.catalogue.prune(keep=1) == 1  # `middle`'s one entry; `first` is current
        uow.commit()
    with new_uow() as uow:
        counts = [uow.catalogue.entry_count(i) for i in (first, middle, newest)]
        assert counts == [2, 0, 3] and len(uow.catalogue.snapshots()) == 3
