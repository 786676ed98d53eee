"""Prometheus metrics: HTTP requests counted in each web process, everything else read from
the database when /metrics is scraped.

With gunicorn, each worker process has its own counters. When PROMETHEUS_MULTIPROC_DIR is
set in the environment (before the process starts: prometheus_client reads it on import),
every process writes its values to files in that directory and a scrape adds them up;
gunicorn's child_exit hook must call prometheus_client.multiprocess.mark_process_dead(pid),
and the directory must be emptied before the server starts.

Celery task outcomes come from the ops tables the workers write (council.ops.records), so
they are right however many worker containers run, and survive restarts.
"""

from __future__ import annotations

import logging
import os

from django.db import DatabaseError
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

logger = logging.getLogger(__name__)

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "council_http_requests",
    "HTTP requests answered, by method, route name and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "council_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by method and route name.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

API_RESPONSE_CACHE = Counter(
    "council_api_response_cache",
    "Token-authenticated API GETs looked up in the response cache, by outcome (hit or miss).",
    ["outcome"],
)


def observe_response_cache(hit: bool) -> None:
    API_RESPONSE_CACHE.labels("hit" if hit else "miss").inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "other"  # labels stay a small, fixed set
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


class DatabaseCollector:
    """Values computed at scrape time from the database."""

    def collect(self):
        from council.ops import records
        from progress.models import MeasureRequest, MeasureStatus, ProgressReport

        up = GaugeMetricFamily("council_metrics_database_up", "1 if the database answered this scrape's queries.")
        try:
            totals = records.totals()
            overdue_reports = ProgressReport.objects.with_overdue().filter(overdue=True).count()
            open_measures = MeasureRequest.objects.filter(status=MeasureStatus.OPEN)
            open_count = open_measures.count()
            overdue_measures = open_measures.with_overdue().filter(overdue=True).count()
        except DatabaseError as exc:
            logger.warning("metrics: the database did not answer: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        tasks = CounterMetricFamily(
            "council_celery_tasks", "Celery task runs by task name and outcome, as recorded by the workers.",
            labels=["task", "state"],
        )
        for task_name, state, count in totals:
            tasks.add_metric([task_name, state], count)
        yield tasks
        yield GaugeMetricFamily(
            "council_progress_reports_overdue", "Progress reports due or returned, past their due date.",
            value=overdue_reports,
        )
        yield GaugeMetricFamily(
            "council_measure_requests_open", "Measure requests awaiting a response.", value=open_count
        )
        yield GaugeMetricFamily(
            "council_measure_requests_overdue", "Measure requests awaiting a response past their due date.",
            value=overdue_measures,
        )


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def exposition(accept: str | None) -> tuple[bytes, str]:
    """One scrape: (body, content type), in the format the scraper's Accept header asks for
    (Prometheus text 0.0.4 by default, or OpenMetrics)."""
    registry = CollectorRegistry()
    if directory := multiprocess_dir():
        multiprocess.MultiProcessCollector(registry, path=directory)  # every process's HTTP metrics
    else:
        registry.register(REGISTRY)  # this process's (and the runtime's) metrics
    registry.register(DatabaseCollector())
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
