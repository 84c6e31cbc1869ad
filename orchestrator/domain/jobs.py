"""Device jobs: one device's walk along its planned path, one confirmed step at a time.

Per step: planned → distributing (11.1/11.4 accepted) → delivered (N60 / 0x8F72) →
activating (11.3) → activated (code 0 / 0x8F66) → verifying (11.2 sent) → next step | done.
An 11.3 future-dated into the activation window waits in `activating` until the device
reports it ran (0x8F66; 0x8F67 is a failed activation with its result) or the stage
deadline, counted from the execution time, passes: the read-back never precedes it.
A step is confirmed only by an 11.2 read-back showing the step's firmware version, so step
k+1 is never sent before step k is confirmed (invariant 1). `advance` is a pure function
from (job, outcome) to the job's next value and the event that records why.

The fleet's record is a belief, so the running firmware is read before acting on it
(`read_first`): a job's first request is a pre-read (preread → prereading → planned), and a
job about to activate whose last read is missing or older than the policy allows reads again
(reread → rereading → delivered). A read (or a wrong read-back) that shows the device is not
on the step's predecessor never activates: the job follows the re-plan from what the device
really runs (done when it already runs the target) or is blocked with `inventory_drift`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from orchestrator.domain.errors import InvalidTransitionError
from orchestrator.domain.job_model import (
    CHECKS,
    FAILED,
    SEND,
    SENT,
    SENT_CAUSE,
    TERMINAL,
    WAIT,
    Context,
    DeviceJob,
    J,
    JobEvent,
    JobState,
    O,
    Outcome,
    OutcomeKind,
    Replan,
)
from orchestrator.domain.policy import F, Failure, Policy

__all__ = ["CHECKS", "FAILED", "SEND", "SENT", "SENT_CAUSE", "TERMINAL", "WAIT", "Context",
           "DeviceJob", "JobEvent", "JobState", "O", "Outcome", "OutcomeKind", "Replan",
           "advance", "read_first", "sent"]


def read_first(job: DeviceJob, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """The read a due job owes before its request, if any (the dispatcher asks first).

    A job's very first request reads the running firmware (before any 11.1 is spent), and
    a job about to activate reads again when its last read is missing or older than
    `policy.read_max_age_s`: never activate on a belief.
    """
    if (job.state is J.PLANNED and job.step == 0 and job.read_at is None
            and job.failure is None and job.attempt == 1):
        to = J.PREREAD
    elif job.state is J.DELIVERED and (
            job.read_at is None
            or (ctx.now - job.read_at).total_seconds() > ctx.policy.read_max_age_s):
        to = J.REREAD
    else:
        return None
    new = replace(job, state=to, due_at=ctx.now)
    data = {"last_read_at": None if job.read_at is None else job.read_at.isoformat()}
    return new, _event(job, new, ctx, "read_first", None, data=data)


def sent(job: DeviceJob, request_id: str, ctx: Context,
         execute_at: dt.datetime | None = None) -> tuple[DeviceJob, JobEvent]:
    """The job's due request went out: wait for its answer until the stage deadline.

    A future-dated 11.3 (`execute_at`, into the activation window) runs on the device only
    then: its stage deadline counts from the execution time, so nothing reads the device
    back before its activation ran (the 0x8F66/0x8F67 alert, or the deadline, moves it on).
    """
    if job.state not in SENT:
        raise InvalidTransitionError(f"{job.device_id}: nothing to send in {job.state.value}")
    to = SENT[job.state]
    dated = execute_at is not None and to is J.ACTIVATING
    start = max(ctx.now, execute_at) if dated and execute_at is not None else ctx.now
    deadline = start + dt.timedelta(seconds=_timeout(to, ctx.policy))
    new = replace(job, state=to, request_id=request_id, deadline_at=deadline, due_at=None)
    cause = SENT_CAUSE.get(job.state, f"sent_{job.sr_type}")
    data = {"execute_at": execute_at.isoformat()} if dated and execute_at is not None else None
    return new, _event(job, new, ctx, cause, request_id, data=data)


def _timeout(state: JobState, policy: Policy) -> float:
    t = policy.timeouts
    return {J.DISTRIBUTING: t.distributing_s, J.ACTIVATING: t.activating_s}.get(
        state, t.verifying_s)


def advance(job: DeviceJob, outcome: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """Apply an outcome; None when it does not concern the job's current request (stale)."""
    if job.terminal and outcome.kind != O.RETRY:
        return None
    handler = _HANDLERS.get(outcome.kind)
    if handler is None:
        raise InvalidTransitionError(f"unknown outcome {outcome.kind!r}")
    return handler(job, outcome, ctx)


def _expects(job: DeviceJob, outcome: Outcome, *states: JobState) -> bool:
    """The outcome answers the job's current request (by RequestID, or by image hash)."""
    if job.state not in states:
        return False
    if outcome.request_id is not None:
        return outcome.request_id == job.request_id
    return True


def _same_image(outcome: Outcome, ctx: Context) -> bool:
    """A device alert naming an image hash concerns this step only if it is this image."""
    return (outcome.firmware_hash is None or not ctx.expected_hash
            or outcome.firmware_hash.lower() == ctx.expected_hash.lower())


def _move(job: DeviceJob, outcome: Outcome, ctx: Context, *, cause: str | None = None,
          data: dict[str, Any] | None = None, **changes: Any) -> tuple[DeviceJob, JobEvent]:
    new = replace(job, **changes)
    return new, _event(job, new, ctx, cause or outcome.kind, outcome.request_id,
                       outcome.detail, data)


def _event(old: DeviceJob, new: DeviceJob, ctx: Context, cause: str, request_id: str | None,
           detail: str = "", data: dict[str, Any] | None = None) -> JobEvent:
    data = {**(data or {}), **({"detail": detail} if detail else {})}
    if new.failure and (new.failure != old.failure or new.state in FAILED
                        or new.attempt > old.attempt):
        data["failure"] = new.failure
    return JobEvent(old.device_id, old.campaign_id, f"job_{new.state.value}", ctx.now,
                    old.state.value, new.state.value, old.step, cause, request_id, data)


def _delivered(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    if not _expects(job, o, J.DISTRIBUTING) or not _same_image(o, ctx):
        return None
    return _move(job, o, ctx, state=J.DELIVERED, attempt=1, due_at=ctx.now, deadline_at=None)


def _transferred(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """The hub passed the image to the device (N60); its own verdict (0x8F72) comes next."""
    if not _expects(job, o, J.DISTRIBUTING):
        return None
    soon = ctx.now + dt.timedelta(seconds=ctx.policy.timeouts.verifying_s)
    deadline = min(job.deadline_at, soon) if job.deadline_at else soon
    return _move(job, o, ctx, deadline_at=deadline)


def _no_image(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """Activation found no image held (code 1): distribute the step again if allowed."""
    if not _expects(job, o, J.ACTIVATING):
        return None
    if ctx.policy.retry.should_retry(F.NO_IMAGE_HELD, job.attempt):
        delay = ctx.policy.retry.delay_s(job.attempt, ctx.rng)
        return _move(job, o, ctx, state=J.PLANNED, attempt=job.attempt + 1,
                     failure=F.NO_IMAGE_HELD, deadline_at=None, request_id=None,
                     due_at=ctx.now + dt.timedelta(seconds=delay))
    return _move(job, o, ctx, state=J.ACTIVATION_FAILED, failure=F.NO_IMAGE_HELD,
                 due_at=None, deadline_at=None)


def _activated(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    if not _expects(job, o, J.ACTIVATING):
        return None
    return _move(job, o, ctx, state=J.ACTIVATED, attempt=1, due_at=ctx.now, deadline_at=None)


def _version_read(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    if _expects(job, o, *CHECKS):
        return _checked(job, o, ctx)
    if not _expects(job, o, J.VERIFYING):
        return None
    if (o.firmware_version or "").upper() != ctx.expected_version.upper():
        return _mismatch(job, o, ctx)
    if job.step + 1 >= len(job.path):
        return _move(job, o, ctx, state=J.DONE, deadline_at=None, request_id=None,
                     read_at=ctx.now)
    return _move(job, o, ctx, state=J.PLANNED, step=job.step + 1, attempt=1, due_at=ctx.now,
                 deadline_at=None, request_id=None, read_at=ctx.now)


def _on_predecessor(job: DeviceJob, ctx: Context) -> bool:
    """The re-plan from what the device runs is the job's own remaining path."""
    r = ctx.replan
    return r is not None and r.status == "planned" and r.path == job.path[job.step:]


def _checked(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent]:
    """A read before distribution or activation: go on only from the step's predecessor."""
    cause = job.state.value.removesuffix("ing")  # preread | reread
    if not _on_predecessor(job, ctx):
        return _replanned(job, o, ctx, cause)
    return _move(job, o, ctx, cause=cause,
                 state=CHECKS[job.state], due_at=ctx.now, deadline_at=None, request_id=None,
                 read_at=ctx.now, data={"read_version": o.firmware_version})


def _replanned(job: DeviceJob, o: Outcome, ctx: Context, cause: str
               ) -> tuple[DeviceJob, JobEvent]:
    """The device does not run the step's predecessor: never activate; follow what it runs."""
    r = ctx.replan
    data: dict[str, Any] = {"read_version": o.firmware_version,
                            "remaining_path": list(job.path[job.step:])}
    common: dict[str, Any] = {"deadline_at": None, "request_id": None, "read_at": ctx.now}
    if r is not None and r.status == "up_to_date":
        return _move(job, o, ctx, cause=cause, data=data, state=J.DONE, due_at=None, **common)
    if r is None or r.status != "planned" or not r.path:
        data["plan_reason"] = None if r is None else r.reason
        return _move(job, o, ctx, cause=cause, data=data, state=J.BLOCKED,
                     failure=F.INVENTORY_DRIFT, due_at=None, **common)
    data["new_path"] = list(r.path)
    return _move(job, o, ctx, cause=cause, data=data, state=J.PLANNED, path=r.path, step=0,
                 attempt=1, due_at=ctx.now, **common)


def _mismatch(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent]:
    """The read-back shows another version: activate again if allowed (then re-distribute),
    unless it shows the device is not on the step's predecessor either (drift: re-plan)."""
    if ctx.replan is not None and not _on_predecessor(job, ctx):
        return _replanned(job, o, ctx, "version_drift")
    if ctx.policy.retry.should_retry(F.VERSION_MISMATCH, job.attempt):
        delay = ctx.policy.retry.delay_s(job.attempt, ctx.rng)
        return _move(job, o, ctx, state=J.DELIVERED, attempt=job.attempt + 1,
                     failure=F.VERSION_MISMATCH, deadline_at=None, request_id=None,
                     due_at=ctx.now + dt.timedelta(seconds=delay), read_at=ctx.now)
    return _move(job, o, ctx, state=J.ACTIVATION_FAILED, failure=F.VERSION_MISMATCH,
                 due_at=None, deadline_at=None, read_at=ctx.now)


def _fail(job: DeviceJob, o: Outcome, ctx: Context, failure: Failure,
          terminal: JobState) -> tuple[DeviceJob, JobEvent]:
    """Retry the stage with backoff when the policy allows, else end in `terminal`.

    A failed pre-read is not retried: the job distributes, and reads before activating.
    """
    if job.state is J.PREREADING:
        return _move(job, o, ctx, state=J.PLANNED, failure=f"preread_{failure}",
                     due_at=ctx.now, deadline_at=None, request_id=None)
    if ctx.policy.retry.should_retry(failure, job.attempt):
        back = WAIT.get(job.state, job.state)
        delay = ctx.policy.retry.delay_s(job.attempt, ctx.rng)
        return _move(job, o, ctx, state=back, attempt=job.attempt + 1, failure=failure,
                     due_at=ctx.now + dt.timedelta(seconds=delay), deadline_at=None)
    return _move(job, o, ctx, state=terminal, failure=failure, due_at=None, deadline_at=None)


Handler = Callable[[DeviceJob, "Outcome", "Context"], "tuple[DeviceJob, JobEvent] | None"]


def _failure(kind: Failure, terminal: JobState, *states: JobState) -> Handler:
    def handle(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
        if not _expects(job, o, *(states or tuple(WAIT))) or not _same_image(o, ctx):
            return None
        return _fail(job, o, ctx, kind, terminal)
    return handle


def _image_failed(job: DeviceJob, o: Outcome, ctx: Context
                  ) -> tuple[DeviceJob, JobEvent] | None:
    """0x8F1C: the device computed another hash over the image it received (a corrupted
    transfer; the hash differs by definition, so it is not matched against the step's). The
    step ends `verification_failed` with that hash, or the image is distributed again when
    the policy retries `verification_failed`."""
    if not _expects(job, o, J.DISTRIBUTING, J.DELIVERED, J.ACTIVATING):
        return None
    data = {"computed_hash": o.firmware_hash, "expected_hash": ctx.expected_hash or None}
    if ctx.policy.retry.should_retry(F.VERIFICATION_FAILED, job.attempt):
        delay = ctx.policy.retry.delay_s(job.attempt, ctx.rng)
        return _move(job, o, ctx, data=data, state=J.PLANNED, attempt=job.attempt + 1,
                     failure=F.VERIFICATION_FAILED, deadline_at=None, request_id=None,
                     due_at=ctx.now + dt.timedelta(seconds=delay))
    return _move(job, o, ctx, data=data, state=J.VERIFICATION_FAILED,
                 failure=F.VERIFICATION_FAILED, due_at=None, deadline_at=None)


def _refused(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """The DSP refused the request (error code, HTTP 4xx): the device's job is rejected."""
    if not _expects(job, o, *WAIT):
        return None
    return _fail(job, o, ctx, F.REFUSED, J.REJECTED)


def _timed_out(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """No answer by the deadline; a lost activation answer is recovered by a read-back."""
    if not _expects(job, o, *WAIT):
        return None
    if job.state is J.ACTIVATING:
        return _move(job, o, ctx, state=J.ACTIVATED, due_at=ctx.now, deadline_at=None,
                     failure=F.TIMED_OUT)
    return _fail(job, o, ctx, F.TIMED_OUT, J.TIMED_OUT)


def _answer_rejected(job: DeviceJob, o: Outcome, ctx: Context
                     ) -> tuple[DeviceJob, JobEvent] | None:
    """The DSP's answer to the job's request failed verification (not signed by the DCC, or
    not an answer to that request): a security event, never retried by policy, and a
    failed pre-read does not carry on either. The device stops `quarantined` with the reason
    until a person has looked (the answer itself is kept quarantined in the inbound store)."""
    if not _expects(job, o, *WAIT):
        return None
    return _move(job, o, ctx, state=J.QUARANTINED, failure=F.ANSWER_REJECTED, due_at=None,
                 deadline_at=None)


def _retry(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    """Ops retry a failed device: its current step starts again from distribution, and the
    old failure (`cancelled` among them) no longer stands."""
    if job.state not in FAILED or job.state is J.BLOCKED:
        return None
    return _move(job, o, ctx, state=J.PLANNED, attempt=1, due_at=ctx.now, deadline_at=None,
                 request_id=None, failure=None)


def _cancel(job: DeviceJob, o: Outcome, ctx: Context) -> tuple[DeviceJob, JobEvent] | None:
    return _move(job, o, ctx, state=J.CANCELLED, failure=F.CANCELLED, due_at=None,
                 deadline_at=None)


_HANDLERS: dict[OutcomeKind, Handler] = {
    O.DELIVERED: _delivered,
    O.TRANSFERRED: _transferred,
    O.NO_IMAGE_HELD: _no_image,
    O.ACTIVATED: _activated,
    O.VERSION_READ: _version_read,
    O.REJECTED: _failure(F.REJECTED, J.REJECTED, J.DISTRIBUTING),
    O.BUSY: _failure(F.BUSY, J.REJECTED, J.DISTRIBUTING),
    O.DELIVERY_FAILED: _failure(F.DELIVERY_FAILED, J.DELIVERY_FAILED, J.DISTRIBUTING),
    O.IMAGE_VERIFICATION_FAILED: _image_failed,
    O.ACTIVATION_FAILED: _failure(F.ACTIVATION_FAILED, J.ACTIVATION_FAILED, J.ACTIVATING),
    O.COMMS_FAILURE: _failure(F.COMMS_FAILURE, J.TIMED_OUT),
    O.QUARANTINED: _failure(F.QUARANTINED, J.QUARANTINED),
    O.TIMED_OUT: _timed_out,
    O.REFUSED: _refused,
    O.DSP_UNAVAILABLE: _failure(F.DSP_UNAVAILABLE, J.TIMED_OUT),
    O.ANSWER_REJECTED: _answer_rejected,
    O.CANCEL: _cancel,
    O.RETRY: _retry,
}
