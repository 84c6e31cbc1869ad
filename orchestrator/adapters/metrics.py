"""Prometheus metrics: process histograms and counters, and a collector that reads the
database at scrape time (maintained campaign counters, sent requests, inbound backlog).

Each `Metrics` has its own registry, so several apps (tests) never collide in the global one.
The throughput series of the dashboard is read here too: job events counted per time bucket.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, Float, Integer, cast, func, literal, select
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.adapters.auth_tables import audit_log
from orchestrator.adapters.campaign_repository import SqlAlchemyCampaignRepository
from orchestrator.adapters.campaign_tables import (
    campaign_counters,
    campaigns,
    inbound_messages,
    job_events,
    pacing_windows,
    sent_requests,
)
from orchestrator.domain.moments import utc
from orchestrator.domain.pacing import Grant, Pacer
from orchestrator.domain.policy import Budget
from orchestrator.domain.ports import SYSTEM_CLOCK, Clock
from orchestrator.domain.waiting import campaign_wait

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TERMINAL_CAMPAIGNS = ("completed", "cancelled", "aborted")
RECENT_FINISHED = 20


class Metrics:
    """The process's metrics and, when given an engine, the database collector."""

    def __init__(self, engine: Engine | None = None, clock: Clock = SYSTEM_CLOCK):
        self.registry = CollectorRegistry()
        self.task_latency = Histogram(
            "fwo_task_latency_seconds", "Time spent in a unit of work (API call, inbound "
            "message, campaign action)", ["task"], registry=self.registry,
            buckets=LATENCY_BUCKETS)
        self.http_latency = Histogram(
            "fwo_http_request_duration_seconds", "HTTP requests by route and status",
            ["method", "route", "status"], registry=self.registry, buckets=LATENCY_BUCKETS)
        self.inbound = Counter("fwo_inbound_received", "DUIS messages received over HTTP, by "
                               "outcome", ["status"], registry=self.registry)
        self.pacing_waits = Counter("fwo_pacing_waits", "Sends held back by an SR budget in "
                                    "this process", ["sr_type"], registry=self.registry)
        if engine is not None:
            self.registry.register(DatabaseCollector(engine, clock))

    @contextmanager
    def timed(self, task: str) -> Iterator[None]:
        """Observe the duration of the enclosed block as `task`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.task_latency.labels(task).observe(time.perf_counter() - started)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MeteredPacer:
    """A Pacer that counts every grant smaller than asked (a pacing wait)."""

    def __init__(self, inner: Pacer, metrics: Metrics):
        self.inner = inner
        self.metrics = metrics

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """As the wrapped pacer; a short grant counts one wait for the SR type."""
        grant = self.inner.acquire(budget, wanted, at)
        if grant.granted < wanted:
            self.metrics.pacing_waits.labels(budget.sr_type).inc()
        return grant


def _audit_head(connection: Any) -> Metric:
    """The audit chain's head (row id, hash as a label): a copy kept outside the database,
    so a rewritten chain (hashes recomputed) no longer leads through a recorded head."""
    head = GaugeMetricFamily("fwo_audit_head", "Id of the audit chain's newest row; the "
                             "label is its hash (compare with `fwo audit verify --head`)",
                             labels=["hash"])
    row = connection.execute(select(audit_log.c.id, audit_log.c.hash)
                             .order_by(audit_log.c.id.desc()).limit(1)).first()
    if row is not None:
        head.add_metric([str(row.hash)], int(row.id))
    return head


class DatabaseCollector(Collector):
    """Reads the database at scrape time; small grouped queries over indexed columns."""

    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK):
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """Every database-derived family, or `fwo_database_up 0` when it cannot be read."""
        up = GaugeMetricFamily("fwo_database_up", "1 when the scrape could read the database")
        try:
            with self.engine.connect() as connection:
                families = list(_families(connection, self.clock.now()))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _families(connection: Any, now: dt.datetime) -> Iterator[Metric]:
    yield from _campaign_families(connection, now)
    yield _audit_head(connection)
    sent = CounterMetricFamily("fwo_sr_sent", "DUIS service requests sent", labels=["sr_type"])
    codes = CounterMetricFamily("fwo_sr_responses", "Synchronous response codes of sent "
                                "requests", labels=["sr_type", "code"])
    by_type: dict[str, int] = {}
    for sr, code, n in connection.execute(select(
            sent_requests.c.sr_type, sent_requests.c.response_code, func.count())
            .group_by(sent_requests.c.sr_type, sent_requests.c.response_code)):
        by_type[sr] = by_type.get(sr, 0) + int(n)
        codes.add_metric([sr, code or "none"], int(n))
    for sr, n in sorted(by_type.items()):
        sent.add_metric([sr], n)
    yield sent
    yield codes
    yield _gauge(connection, "fwo_inbound_messages", "Stored inbound DUIS messages by status "
                 "(received = backlog not yet processed)", "status",
                 select(inbound_messages.c.status, func.count())
                 .group_by(inbound_messages.c.status))
    newest = select(pacing_windows.c.sr_type, func.max(pacing_windows.c.window).label("w")
                    ).group_by(pacing_windows.c.sr_type).subquery()
    yield _gauge(connection, "fwo_pacing_window_used", "Requests taken from the newest pacing "
                 "window of each SR type (database pacer)", "sr_type",
                 select(pacing_windows.c.sr_type, pacing_windows.c.used).join(
                     newest, (newest.c.sr_type == pacing_windows.c.sr_type)
                     & (newest.c.w == pacing_windows.c.window)))


def _gauge(connection: Any, name: str, doc: str, label: str, query: Any) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in connection.execute(query):
        family.add_metric([str(key)], int(value))
    return family


def _campaign_families(connection: Any, now: dt.datetime) -> Iterator[Metric]:
    """Devices per state per campaign from the maintained counters (no scan of jobs)."""
    active = select(campaigns.c.id, campaigns.c.name, campaigns.c.state).where(
        campaigns.c.state.not_in(TERMINAL_CAMPAIGNS))
    finished = select(campaigns.c.id, campaigns.c.name, campaigns.c.state).where(
        campaigns.c.state.in_(TERMINAL_CAMPAIGNS)).order_by(campaigns.c.id.desc()).limit(
        RECENT_FINISHED)
    shown = {r.id: r for q in (active, finished) for r in connection.execute(q)}
    devices = GaugeMetricFamily("fwo_campaign_devices", "Devices per job state per campaign",
                                labels=["campaign_id", "campaign", "state"])
    states = GaugeMetricFamily("fwo_campaign_state", "1 for the state each campaign is in",
                               labels=["campaign_id", "campaign", "state"])
    if shown:
        rows = connection.execute(select(campaign_counters.c.campaign_id,
                                         campaign_counters.c.state,
                                         func.sum(campaign_counters.c.count))
                                  .where(campaign_counters.c.campaign_id.in_(list(shown)))
                                  .group_by(campaign_counters.c.campaign_id,
                                            campaign_counters.c.state))
        for campaign_id, state, count in rows:
            devices.add_metric([str(campaign_id), shown[campaign_id].name, state], int(count))
    for campaign_id, row in sorted(shown.items()):
        states.add_metric([str(campaign_id), row.name, row.state], 1)
    yield devices
    yield states
    yield from _wait_families(connection, now)


def _wait_families(connection: Any, now: dt.datetime) -> Iterator[Metric]:
    """What each unfinished campaign waits for, and each SR budget as last dispatched."""
    labels = ["campaign_id", "campaign", "reason"]
    waits = GaugeMetricFamily("fwo_campaign_waiting", "1 for what each unfinished campaign "
                              "is waiting for (pacing, activation_window, wave_gate, approval, "
                              "backoff, dispatcher, ...)", labels=labels)
    until = GaugeMetricFamily("fwo_campaign_wait_until_seconds", "When the campaign's wait "
                              "ends (Unix time), when known", labels=labels)
    remaining = GaugeMetricFamily("fwo_pacing_budget_remaining", "Requests left in the SR "
                                  "type's pacing window at the last dispatch", labels=["sr_type"])
    resets = GaugeMetricFamily("fwo_pacing_budget_resets_at_seconds", "When the SR type's "
                               "pacing window refills (Unix time)", labels=["sr_type"])
    repository = SqlAlchemyCampaignRepository(connection)
    budgets: dict[str, tuple[Any, dict[str, Any]]] = {}
    for row in connection.execute(select(campaigns.c.id, campaigns.c.dispatched_at,
                                         campaigns.c.pacing).where(
            campaigns.c.state.not_in(TERMINAL_CAMPAIGNS)).order_by(campaigns.c.id)):
        campaign = repository.get(row.id)
        wait = None if campaign is None else campaign_wait(
            campaign, repository.wait_facts(campaign, now))
        if campaign is not None and wait is not None:
            key = [str(row.id), campaign.name, wait.reason]
            waits.add_metric(key, 1)
            if wait.until is not None:
                until.add_metric(key, wait.until.timestamp())
        for sr, facts in (row.pacing or {}).items():
            if sr not in budgets or str(row.dispatched_at) > str(budgets[sr][0]):
                budgets[sr] = (row.dispatched_at, facts)
    for sr, (_, facts) in sorted(budgets.items()):
        refill = dt.datetime.fromisoformat(facts["resets_at"])
        if refill <= now:  # the window the dispatch saw has closed: the budget is whole
            remaining.add_metric([sr], int(facts["limit"]))
            continue
        if facts.get("remaining") is not None:
            remaining.add_metric([sr], int(facts["remaining"]))
        resets.add_metric([sr], refill.timestamp())
    yield from (waits, until, remaining, resets)


def throughput(engine: Engine, campaign_id: int, buckets: int = 40) -> dict[str, Any]:
    """Job events of a campaign counted per time bucket: all transitions, done, failed."""
    with engine.connect() as connection:
        first, last = connection.execute(select(func.min(job_events.c.at),
                                                func.max(job_events.c.at)).where(
            job_events.c.campaign_id == campaign_id)).one()
        if first is None:
            return {"start": None, "bucket_seconds": 0, "series": {}}
        first, last = utc(first), utc(last)
        width = max(1.0, ((last - first).total_seconds() + 1) / buckets)
        index = _bucket(connection.dialect.name, first, width)
        rows = connection.execute(select(index.label("b"), job_events.c.to_state, func.count())
                                  .where(job_events.c.campaign_id == campaign_id)
                                  .group_by("b", job_events.c.to_state))
        series = {name: [0] * buckets for name in ("transitions", "done", "failed")}
        for b, state, n in rows:
            slot = min(max(int(b), 0), buckets - 1)
            series["transitions"][slot] += int(n)
            key = "done" if state == "done" else "failed" if state in _FAILED else None
            if key:
                series[key][slot] += int(n)
    return {"start": first.isoformat(), "bucket_seconds": width, "series": series}


_FAILED = {"rejected", "delivery_failed", "verification_failed", "activation_failed",
           "quarantined", "timed_out"}


def _bucket(dialect: str, start: dt.datetime, width: float) -> Any:
    if dialect == "postgresql":
        seconds = func.extract("epoch", job_events.c.at) - start.timestamp()
        return cast(func.floor(seconds / width), Integer)
    origin = start.replace(tzinfo=None).isoformat(sep=" ")
    seconds = (func.julianday(job_events.c.at) - func.julianday(literal(origin))) * 86400.0
    return cast(cast(seconds, Float) / width, Integer)  # non-negative: truncation is floor
