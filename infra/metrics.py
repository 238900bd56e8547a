"""Prometheus metrics of every process, and `GET /metrics` that serves them in the text format.

Under `ocs up` each process writes its samples to a shared directory (prometheus-client's multiprocess
mode, `PROMETHEUS_MULTIPROC_DIR`), so the API's `/metrics` shows the relay, projector and workers too.
Consumer lag is read from Kafka when scraped.
"""

import logging
import os
import time

from flask import Flask, Response, g, request
from kafka import KafkaAdminClient, KafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from infra.kafka import CONSUMER_GROUPS
from infra.web import install_error_handlers

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter("ocs_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
HTTP_SECONDS = Histogram(
    "ocs_http_request_seconds", "Time to answer an HTTP request", ["method", "endpoint"], buckets=LATENCY_BUCKETS
)
EVENTS_PUBLISHED = Counter("ocs_events_published_total", "Events the relay published to Kafka", ["topic"])
EVENTS_PARKED = Counter(
    "ocs_events_parked_total", "Events parked as dead letters instead of published or applied", ["group"]
)
EVENTS_PROJECTED = Counter("ocs_events_projected_total", "Events the projector applied to the read models")
PROJECTOR_APPLY_SECONDS = Histogram(
    "ocs_projector_apply_seconds", "Time to apply one batch of events to MongoDB", buckets=LATENCY_BUCKETS
)
COMMAND_TO_READ_MODEL_SECONDS = Histogram(
    "ocs_command_to_read_model_seconds",
    "From an event being recorded to the read models showing it",
    buckets=LATENCY_BUCKETS,
)
LLM_CALL_SECONDS = Histogram(
    "ocs_llm_call_seconds", "Time of one LLM call, retries included", ["provider"], buckets=LATENCY_BUCKETS
)
LLM_ERRORS = Counter("ocs_llm_errors_total", "LLM calls that gave no reply", ["provider", "reason"])
WEBHOOK_ATTEMPTS = Counter(
    "ocs_webhook_attempts_total", "Webhook delivery attempts, by outcome (delivered, failed, parked)", ["outcome"]
)
WEBHOOK_SECONDS = Histogram(
    "ocs_webhook_attempt_seconds", "Time of one webhook delivery attempt", buckets=LATENCY_BUCKETS
)


def instrument(app: Flask) -> None:
    """Count and time every request of a Flask app, by its route template (never the raw path)."""

    def started():
        g.metrics_started = time.perf_counter()

    # First of all hooks, so that requests refused by authentication are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, started)

    @app.after_request
    def finished(response):
        endpoint = request.url_rule.rule if request.url_rule else "unrouted"
        HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        started_at = g.get("metrics_started")
        if started_at is not None:
            HTTP_SECONDS.labels(request.method, endpoint).observe(time.perf_counter() - started_at)
        return response


class ConsumerLag:
    """`ocs_consumer_lag{group,topic,partition}`: messages each consumer group has yet to handle."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap

    def collect(self):
        gauge = GaugeMetricFamily(
            "ocs_consumer_lag", "Messages a consumer group has not handled yet", labels=["group", "topic", "partition"]
        )
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="ocs-metrics")
            consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, allow_auto_create_topics=False)
            try:
                for group, committed in admin.list_group_offsets(list(CONSUMER_GROUPS)).items():
                    ends = consumer.end_offsets(list(committed)) if committed else {}
                    for partition, offset in committed.items():
                        lag = max(ends.get(partition, offset.offset) - offset.offset, 0)
                        gauge.add_metric([group, partition.topic, str(partition.partition)], lag)
            finally:
                consumer.close()
                admin.close()
        except Exception as exc:  # a scrape must still answer while Kafka is down
            log.warning("consumer lag not available: %s", exc)
        yield gauge


class PipelineState:
    """What `/healthz` says of the pipeline, as gauges: `ocs_component_status{component,status}` (1 for the
    component's current status: ok, down, stuck; parked for dead letters), `ocs_dead_letters_pending` and
    `ocs_relay_backlog_events` (events recorded but not yet published)."""

    STATUSES = ("ok", "down", "stuck", "parked")

    def __init__(self, pipeline_report):
        self.pipeline_report = pipeline_report

    def collect(self):
        try:
            report = self.pipeline_report()
        except Exception as exc:  # a scrape must still answer while MongoDB is down
            log.warning("pipeline health not available: %s", exc)
            return
        status = GaugeMetricFamily(
            "ocs_component_status", "1 for each background component's current status", labels=["component", "status"]
        )
        for component, current in report.components.items():
            for value in self.STATUSES:
                status.add_metric([component, value], 1 if value == current else 0)
        yield status
        yield GaugeMetricFamily("ocs_dead_letters_pending", "Events parked and not replayed", value=report.parked)
        if report.relay_backlog is not None:
            yield GaugeMetricFamily(
                "ocs_relay_backlog_events", "Events recorded but not yet published", value=report.relay_backlog
            )


def create_app(kafka_bootstrap: str | None, pipeline_report=None) -> Flask:
    """`pipeline_report`: what `/healthz` reports of the pipeline (`infra.health.PipelineHealth.report`)."""
    app = Flask("metrics")
    install_error_handlers(app)

    @app.get("/metrics")
    def metrics():
        if os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        text = generate_latest(registry)
        scraped = CollectorRegistry()
        if kafka_bootstrap:
            scraped.register(ConsumerLag(kafka_bootstrap))
        if pipeline_report is not None:
            scraped.register(PipelineState(pipeline_report))
        text += generate_latest(scraped)
        return Response(text, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Content-Type": CONTENT_TYPE_LATEST})

    return app
