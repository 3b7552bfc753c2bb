"""What `/metrics` shows, in Prometheus's text format.

Counters that grow with traffic (requests, latencies, reservation outcomes, audit findings) are
prometheus_client metrics updated as things happen. Gauges of the live state (tasks by status,
outbox depth, failed deliveries) and the store's own counters are read when scraped, so nothing
on the request path keeps them up to date.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from taskrouter.engine.engine import Outcome
from taskrouter.events.outbox import FAILED, PENDING
from taskrouter.events.outbox import TABLE as OUTBOX

if TYPE_CHECKING:
    from taskrouter.service.service import Service

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds; the hot paths answer in about a millisecond, commits on a slow disk in tens.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self, service: Service) -> None:
        self.service = service
        # One registry per app: tests run several servers in one process.
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "taskrouter_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "taskrouter_http_request_duration_seconds",
            "Time from a request's arrival to its response's start, by route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reservations = Counter(
            "taskrouter_reservations",
            "Reservations created and ended, by outcome (created, accepted, rejected, timeout,"
            " canceled, rescinded, completed, wrapup).",
            ("outcome",),
            registry=self.registry,
        )
        self.audit_findings = Counter(
            "taskrouter_audit_findings",
            "Broken invariants found by the periodic audit, by kind.",
            ("kind",),
            registry=self.registry,
        )
        self.audit_runs = Counter(
            "taskrouter_audit_runs", "Periodic audits run.", registry=self.registry
        )
        self._live = _LiveState(service)
        self.registry.register(self._live)
        service.runtime.observers.append(self.observe)
        # (method, route, status) -> its request counter and latency histogram: looking a
        # labelled child up in prometheus_client costs more than the update itself.
        self._answered: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request answered with `status` after `seconds`."""
        key = (method, route, status)
        children = self._answered.get(key)
        if children is None:
            children = self._answered[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe(self, outcome: Outcome) -> None:
        for event in outcome.events:
            kind, _, what = event.event_type.partition(".")
            if kind == "reservation":
                self.reservations.labels(what).inc()

    async def render(self) -> bytes:
        """The exposition text; reads what only the store knows first."""
        await self._live.refresh()
        return generate_latest(self.registry)


class _LiveState(Collector):
    def __init__(self, service: Service) -> None:
        self.service = service
        self.outbox: Tally[str] = Tally()

    async def refresh(self) -> None:
        store = self.service.runtime.store
        self.outbox = Tally(
            {
                status: len(await store.query(OUTBOX, {"status": status}))
                for status in (PENDING, FAILED)
            }
        )
        # Event callbacks have no outbox row while pending: the courier counts them.
        self.outbox[PENDING] += await self.service.runtime.events.courier.backlog()

    def collect(self) -> Iterable[Metric]:
        return list(self._collect())

    def _collect(self) -> Iterator[Metric]:
        runtime = self.service.runtime
        tasks = GaugeMetricFamily(
            "taskrouter_tasks", "Tasks held in memory, by assignment status.", labels=["status"]
        )
        workspaces = runtime.workspaces.values()
        by_status = Tally(t.assignment_status for s in workspaces for t in s.engine.tasks.values())
        for status in ("pending", "reserved", "assigned", "wrapping", "completed", "canceled"):
            tasks.add_metric([status], by_status.get(status, 0))
        yield tasks
        yield GaugeMetricFamily(
            "taskrouter_workspaces", "Workspaces loaded.", value=len(runtime.workspaces)
        )
        yield GaugeMetricFamily(
            "taskrouter_outbox_depth",
            "Callbacks (event and assignment) owed and not yet delivered.",
            value=self.outbox.get(PENDING, 0),
        )
        yield GaugeMetricFamily(
            "taskrouter_deliveries_failed",
            "Deliveries whose retry period ran out (see the Deliveries admin route).",
            value=self.outbox.get(FAILED, 0),
        )
        limiter = runtime.rate_limiter
        yield CounterMetricFamily(
            "taskrouter_rate_limited_requests",
            "Requests refused with 429 by the per-account rate limit.",
            value=0 if limiter is None else limiter.refused,
        )
        stats = getattr(runtime.store, "stats", None)
        if stats is not None:
            yield _batch_histogram(stats.batch_sizes)
            for name, help_text, value in (
                ("commits", "commit() calls made durable", stats.commits),
                ("transactions", "database transactions committed", stats.transactions),
                ("changes", "row changes made durable", stats.changes),
                ("failed_commits", "commits the database refused", stats.failed_commits),
            ):
                yield CounterMetricFamily(
                    f"taskrouter_store_{name}",
                    help_text.capitalize()
                    + (
                        "; commits / transactions is the mean group-commit batch size."
                        if name == "transactions"
                        else "."
                    ),
                    value=value,
                )


BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def _batch_histogram(sizes: dict[int, int]) -> Metric:
    """Group commit at work: how many commands each database transaction carried."""
    buckets: list[tuple[str, float]] = []
    for bound in BATCH_BUCKETS:
        buckets.append((str(bound), sum(n for size, n in sizes.items() if size <= bound)))
    buckets.append(("+Inf", sum(sizes.values())))
    return HistogramMetricFamily(
        "taskrouter_store_commit_batch_size",
        "Commands (commit() calls) per database transaction.",
        buckets=buckets,
        sum_value=sum(size * n for size, n in sizes.items()),
    )
