"""Reading before acting (pure domain): pre-reads, re-reads, re-plans and fleet drift."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from orchestrator.domain.fleet import Device
from orchestrator.domain.jobs import (
    Context,
    DeviceJob,
    JobState,
    Outcome,
    Replan,
    advance,
    read_first,
    sent,
)
from orchestrator.domain.observations import FirmwareRead, drifted, observe_read
from orchestrator.domain.policy import Policy, policy_from_dict, policy_to_dict

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
J = JobState


def ctx(replan: Replan | None = None, version: str = "00000002", *, now: dt.datetime = T0,
        policy: Policy | None = None) -> Context:
    return Context(now, policy or Policy(), version, random.Random(1), replan=replan)


def read(rid: str, version: str) -> Outcome:
    return Outcome("version_read", rid, firmware_version=version)


def prereading(path: tuple[str, ...] = ("E2", "E3")) -> DeviceJob:
    job, _ = read_first(DeviceJob(1, "D1", path), ctx())  # type: ignore[misc]
    job, _ = sent(job, "r0", ctx())
    return job


def test_a_new_job_reads_before_it_distributes() -> None:
    """The first request of a job is an 11.2 pre-read; a retried or later job is not."""
    job = DeviceJob(1, "D1", ("E2",))
    pre, event = read_first(job, ctx())  # type: ignore[misc]
    assert (pre.state, pre.sr_type, event.cause) == (J.PREREAD, "11.2", "read_first")
    assert sent(pre, "r0", ctx())[0].state is J.PREREADING
    assert read_first(replace(job, read_at=T0), ctx()) is None
    assert read_first(replace(job, failure="preread_timed_out"), ctx()) is None


def test_a_read_showing_the_predecessor_lets_the_job_distribute() -> None:
    """The re-plan from what the device runs is the job's path: go on to 11.1."""
    job, event = advance(prereading(), read("r0", "00000001"),
                         ctx(Replan("planned", ("E2", "E3"))))  # type: ignore[misc]
    assert (job.state, job.path, job.read_at, event.cause) == (J.PLANNED, ("E2", "E3"), T0,
                                                                "preread")
    assert job.sr_type == "11.1"


def test_a_device_already_on_the_target_ends_done_without_any_firmware_request() -> None:
    """A pre-read showing the target (an earlier campaign did it) ends the job done."""
    job, event = advance(prereading(), read("r0", "00000003"),
                         ctx(Replan("up_to_date")))  # type: ignore[misc]
    assert (job.state, event.data["read_version"]) == (J.DONE, "00000003")


def test_a_device_on_another_version_follows_the_new_path() -> None:
    """The job takes the re-planned path from its first step, never the old one."""
    job, event = advance(prereading(("E2", "E3", "E4")), read("r0", "00000002"),
                         ctx(Replan("planned", ("E3", "E4"))))  # type: ignore[misc]
    assert (job.state, job.path, job.step) == (J.PLANNED, ("E3", "E4"), 0)
    assert event.data["remaining_path"] == ["E2", "E3", "E4"]


def test_a_device_with_no_path_from_what_it_runs_is_blocked_with_the_read_value() -> None:
    """No plan from the version read: blocked with inventory_drift and the value."""
    job, event = advance(prereading(), read("r0", "0000000F"),
                         ctx(Replan("blocked", reason="unknown_firmware")))  # type: ignore[misc]
    assert (job.state, job.failure) == (J.BLOCKED, "inventory_drift")
    assert (event.data["read_version"], event.data["plan_reason"]) == ("0000000F",
                                                                       "unknown_firmware")


def test_a_failed_pre_read_falls_back_to_distribution() -> None:
    """No answer to the pre-read: distribute anyway; the read before 11.3 still happens."""
    job, _ = advance(prereading(), Outcome("timed_out", "r0"), ctx())  # type: ignore[misc]
    assert (job.state, job.failure, job.read_at) == (J.PLANNED, "preread_timed_out", None)
    assert read_first(job, ctx()) is None
    delivered = replace(job, state=J.DELIVERED)
    assert read_first(delivered, ctx())[0].state is J.REREAD  # type: ignore[index]


def test_an_activation_needs_a_read_younger_than_the_policy_allows() -> None:
    """A delivered job reads again before 11.3 when its last read is too old."""
    policy = Policy(read_max_age_s=3600)
    job = DeviceJob(1, "D1", ("E2",), state=J.DELIVERED, read_at=T0)
    assert read_first(job, ctx(policy=policy, now=T0 + dt.timedelta(minutes=59))) is None
    later = ctx(policy=policy, now=T0 + dt.timedelta(minutes=61))
    reread, _ = read_first(job, later)  # type: ignore[misc]
    assert (reread.state, reread.sr_type) == (J.REREAD, "11.2")
    waiting, _ = sent(reread, "r9", later)
    back, event = advance(waiting, read("r9", "00000001"),
                          replace(later, replan=Replan("planned", ("E2",))))  # type: ignore[misc]
    assert (back.state, back.sr_type, event.cause) == (J.DELIVERED, "11.3", "reread")


def test_a_reread_off_the_predecessor_never_activates() -> None:
    """Changed after delivery: the job is re-planned instead of sending its 11.3."""
    job = DeviceJob(1, "D1", ("E2", "E3"), state=J.REREADING, request_id="r")
    moved, _ = advance(job, read("r", "00000002"),
                       ctx(Replan("planned", ("E3",))))  # type: ignore[misc]
    assert (moved.state, moved.path) == (J.PLANNED, ("E3",))


def test_a_wrong_read_back_off_the_predecessor_is_replanned_not_reactivated() -> None:
    """A read-back showing neither the step nor its predecessor is drift: re-plan."""
    job = DeviceJob(1, "D1", ("E2", "E3"), state=J.VERIFYING, request_id="r")
    moved, event = advance(job, read("r", "00000009"),
                           ctx(Replan("blocked", reason="no_permitted_path")))  # type: ignore[misc]
    assert (moved.state, moved.failure, event.cause) == (J.BLOCKED, "inventory_drift",
                                                         "version_drift")
    again, _ = advance(job, read("r", "00000001"),
                       ctx(Replan("planned", ("E2", "E3"))))  # type: ignore[misc]
    assert (again.state, again.failure) == (J.DELIVERED, "version_mismatch")


def test_the_read_age_survives_the_stored_policy() -> None:
    """read_max_age_s round-trips; a policy stored before it existed gets the default."""
    stored = policy_to_dict(Policy(read_max_age_s=60))
    assert policy_from_dict(stored).read_max_age_s == 60
    del stored["read_max_age_s"]
    assert policy_from_dict(stored).read_max_age_s == Policy().read_max_age_s


DEVICE = Device("00-DB-12-00-00-00-00-01", "ESME", "00DB", "0001", "Commissioned",
                firmware_version="00000001", firmware_hash="a" * 64, firmware_entry="E1",
                source="csv", observed_at=T0)


def test_a_confirming_read_records_entry_hash_version_and_time_without_drift() -> None:
    """The step a campaign verified is recorded on the device and is not a drift finding."""
    at = T0 + dt.timedelta(hours=1)
    confirmed = FirmwareRead(DEVICE.device_id, "00000002", at, "11.2 read-back", entry="E2",
                             entry_hash="b" * 64, expected="00000002", campaign_id=3)
    device, facts = observe_read(DEVICE, confirmed, "00000001")
    assert (device.firmware_version, device.firmware_entry, device.firmware_hash,
            device.read_at, device.source) == ("00000002", "E2", "b" * 64, at,
                                               "11.2 read-back")
    assert [f.name for f in facts] == ["firmware_read"]
    assert facts[0].data["previous_version"] == "00000001" and facts[0].campaign_id == 3


def test_an_unexplained_read_is_a_drift_finding_and_forgets_the_old_entry() -> None:
    """A read disagreeing with the record is drift; the stale hash and entry are dropped."""
    device, facts = observe_read(DEVICE, FirmwareRead(DEVICE.device_id, "00000005",
                                                      T0 + dt.timedelta(hours=1)), "00000001")
    assert (device.firmware_version, device.firmware_hash, device.firmware_entry) == (
        "00000005", "", "")
    drift = [f for f in facts if f.name == "drift"]
    assert drift and drift[0].data["held_version"] == "00000001"
    assert not drifted("", "00000005") and not drifted("0000000a", "0000000A")
