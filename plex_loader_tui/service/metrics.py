"""Prometheus metrics of a running service, read from :meth:`ServiceControls.status` at scrape time.

A :class:`ServiceCollector` turns one status into gauges and counters when
Prometheus scrapes (no second set of counters to keep in step); the batch
latency histogram is the only metric fed as things happen, through
:meth:`ServiceControls.observe_batches`. Each app has its own
:class:`~prometheus_client.CollectorRegistry` (see :func:`service_registry`),
never the process-wide one: tests start several services in one process.

Labels are few and bounded: ``stage`` (the four stages), ``outcome``,
``service`` (tmdb, imdb, plex), ``kind`` (why a sync ran), ``state`` (the
service state). Never a title or a key. The README's metric table lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .controls import ServiceControls, ServiceState, ServiceStatus

PREFIX = "plex_loader"

#: Batch latency buckets, seconds: a Qdrant upsert of a few points to an embedding batch on a slow CPU.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


def _counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> CounterMetricFamily:
    # prometheus_client adds the ``_total`` suffix of a counter sample itself.
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


def _single(
    family: Callable[[str, str], GaugeMetricFamily | CounterMetricFamily], name: str, doc: str, value: float
) -> GaugeMetricFamily | CounterMetricFamily:
    """A gauge or counter without labels, holding ``value``."""
    metric = family(name, doc)
    metric.add_metric([], value)
    return metric


def _per_label(name: str, doc: str, label: str, counts: Mapping[str, float]) -> CounterMetricFamily:
    """A counter with one sample per value of ``label``."""
    family = _counter(name, doc, (label,))
    for value, count in sorted(counts.items()):
        family.add_metric([value], count)
    return family


class ServiceCollector(Collector):
    """Gauges and counters from one :class:`ServiceStatus`, taken when Prometheus scrapes."""

    def __init__(self, controls: ServiceControls) -> None:
        self._controls = controls

    def collect(self) -> Iterator[Metric]:
        status = self._controls.status()
        yield from self._service(status)
        yield from self._stages(status)
        yield from self._totals(status)

    # -- the service as a whole ------------------------------------------------

    def _service(self, status: ServiceStatus) -> Iterator[Metric]:
        state = _gauge("service_state", "1 for the state the service is in, 0 for the others", ("state",))
        for value in ServiceState:
            state.add_metric([value.value], 1.0 if status.state is value else 0.0)
        yield state
        watch = status.watch
        yield _single(_gauge, "uptime_seconds", "seconds since the service started", status.uptime)
        yield _single(_gauge, "dead_letters_waiting", "failed items waiting for retry-failed", status.failed_waiting)
        yield _single(_gauge, "watch_connected", "1 while Plex's notification stream is connected",
                      1.0 if watch.connected else 0.0)
        yield _single(_gauge, "pending_changes", "changed rating keys waiting for the next targeted sync",
                      watch.pending_changes)
        yield _single(_counter, "notification_events_received", "library timeline entries received from Plex",
                      watch.events_received)
        yield _single(_counter, "notification_events_dropped",
                      "notification entries ignored (not a library item, unknown state, over the cap)",
                      watch.events_dropped)
        yield _single(_counter, "watch_reconnects", "times the notification stream was connected again",
                      watch.reconnects)
        success = status.last_success
        if success is not None:
            yield _single(_gauge, "last_successful_sync_timestamp_seconds",
                          "when the last successful sync finished (epoch)", success.finished_at)
            yield _single(_gauge, "last_successful_sync_duration_seconds", "how long the last successful sync took",
                          success.duration)
        if status.next_sync_at is not None:
            yield _single(_gauge, "next_sync_timestamp_seconds", "when the next periodic reconcile is due (epoch)",
                          status.next_sync_at)

    # -- per stage: the engine's snapshot, else the stage settings ---------------

    def _stages(self, status: ServiceStatus) -> Iterator[Metric]:
        depth = _gauge("queue_depth_items", "items waiting in the stage's input queue", ("stage",))
        capacity = _gauge("queue_capacity_items", "capacity of the stage's input queue", ("stage",))
        busy = _gauge("busy_workers", "workers of the stage working on a batch now", ("stage",))
        workers = _gauge("workers", "workers in the stage's pool", ("stage",))
        batch = _gauge("batch_size_items", "items per batch the stage takes", ("stage",))
        snapshot = status.snapshot
        if snapshot is not None:
            for stage in snapshot.stages:
                depth.add_metric([stage.name], stage.queue_depth)
                capacity.add_metric([stage.name], stage.queue_capacity)
                busy.add_metric([stage.name], stage.busy_workers)
                workers.add_metric([stage.name], stage.workers)
                batch.add_metric([stage.name], stage.batch_size)
            yield from (depth, capacity, busy, workers, batch)
            return
        # No sync has run yet: what the next one will use, and nothing busy.
        for name, config in status.stage_settings.items():
            busy.add_metric([name], 0)
            workers.add_metric([name], config.workers)
            batch.add_metric([name], config.batch_size)
        yield from (busy, workers, batch)

    # -- counters since the service started -------------------------------------

    def _totals(self, status: ServiceStatus) -> Iterator[Metric]:
        totals = status.totals
        items = _counter("items_processed", "items each stage finished, by outcome", ("stage", "outcome"))
        for (stage, outcome), count in sorted(totals.items.items()):
            items.add_metric([stage, outcome], count)
        yield items
        yield _per_label("retries", "batch and request retries, per stage", "stage", totals.retries)
        yield _per_label("errors", "errors, per stage (each retry's cause included)", "stage", totals.errors)
        yield _per_label("rate_limited", "answers that asked us to slow down (429), per service", "service",
                         totals.rate_limited)
        yield _per_label("paced_seconds", "seconds a service's rate limit held lookups back (requests queue: "
                         "never more than the time passed)", "service", totals.paced_seconds)
        yield _per_label("syncs", "syncs run, by why they ran", "kind", totals.syncs)
        yield _single(_counter, "deletions", "points deleted because their item left Plex", totals.deleted)


def service_registry(controls: ServiceControls) -> CollectorRegistry:
    """A private registry with the service's collector and its batch latency histogram.

    The histogram is fed by ``controls.observe_batches`` from whichever thread
    finishes a batch (prometheus_client's metrics are thread-safe).
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(controls))
    latency = Histogram(
        f"{PREFIX}_batch_duration_seconds", "seconds a stage worked on one batch",
        labelnames=("stage",), buckets=BATCH_BUCKETS, registry=registry,
    )

    def observe(stage: str, seconds: float, items: int) -> None:
        latency.labels(stage=stage).observe(seconds)

    controls.observe_batches(observe)
    return registry
