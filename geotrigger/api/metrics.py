"""``/metrics`` in the Prometheus text format: pings by result and reason, decisions by rule,
outcome and gate, moments fired, request latency per route; and, when they run in this
process, weather sweeps (readings, fetch errors by kind, outages) and deliveries.

Counts live where the work happens (the ingestor, a sweep, the relay) as plain counters; a
collector reads them when scraped, so the hot path pays nothing for Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from geotrigger.jobs.ingest import IngestStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Latency buckets in seconds: the single-ping target is p99 < 5 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

# Counts of jobs running beside the API, keyed as Sweep.counts: (name, provider[, label]).
JobCounts = Callable[[], Mapping[tuple[str, ...], int]]


class _Collector(Collector):
    def __init__(self, stats: IngestStats, jobs: list[JobCounts], loaded: Callable[[], int]):
        self.stats, self.jobs, self.loaded = stats, jobs, loaded

    def collect(self) -> Iterator[Any]:
        pings = CounterMetricFamily(
            "geotrigger_pings", "Pings by result and reason", labels=["result", "reason"]
        )
        for (result, reason), n in sorted(self.stats.pings.items()):
            pings.add_metric([result, reason], n)
        yield pings
        decisions = CounterMetricFamily(
            "geotrigger_decisions",
            "Decisions by rule, outcome and the gate or condition that decided",
            labels=["rule", "outcome", "gate"],
        )
        moments = CounterMetricFamily("geotrigger_moments", "Moments fired", labels=["rule"])
        fired: dict[str, int] = {}
        for (rule, outcome, gate), n in sorted(self.stats.decisions.items()):
            decisions.add_metric([rule, outcome, gate], n)
            if outcome == "fired":
                fired[rule] = fired.get(rule, 0) + n
        for rule, n in sorted(fired.items()):
            moments.add_metric([rule], n)
        yield decisions
        yield moments
        yield from _job_families(self.jobs)
        places = GaugeMetricFamily("geotrigger_places", "Places in the index")
        places.add_metric([], self.loaded())
        yield places


def _job_families(jobs: Iterable[JobCounts]) -> Iterator[Any]:
    """One counter family per count name of the jobs (sweeps, readings, fetch errors, ...)."""
    families: dict[str, CounterMetricFamily] = {}
    for counts in jobs:
        for key, n in sorted(counts().items()):
            name, provider, *label = key
            labels = ["provider", "kind"] if label else ["provider"]
            family = families.get(name)
            if family is None:
                family = CounterMetricFamily(
                    f"geotrigger_{name}", name.replace("_", " "), labels=labels
                )
                families[name] = family
            family.add_metric([provider, *label], n)
    yield from families.values()


class Metrics:
    """The registry of one API process."""

    def __init__(self, stats: IngestStats, loaded: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.jobs: list[JobCounts] = []
        self.registry.register(_Collector(stats, self.jobs, loaded))
        self.latency = Histogram(
            "geotrigger_request_seconds",
            "Request latency by route and status",
            ["route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def add_job(self, counts: JobCounts) -> None:
        """Export a job's counts (a sweep's, the relay's) with the API's."""
        self.jobs.append(counts)

    def render(self) -> bytes:
        return generate_latest(self.registry)
