"""The bot's own Prometheus metrics, on a registry per app so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts_received = Counter(
            "resilio_alerts_received_total", "Alerts received, by source and outcome",
            ["source", "outcome"], registry=self.registry)
        self.incidents_opened = Counter(
            "resilio_incidents_opened_total", "Incidents opened, by source",
            ["source"], registry=self.registry)
        self.signals_received = Counter(
            "resilio_signal_records_total", "Exchange-format records, by outcome",
            ["outcome"], registry=self.registry)
        self.request_latency = Histogram(
            "resilio_http_request_seconds", "HTTP request latency by route",
            ["route", "method", "status"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.slack_api_calls = Counter(
            "resilio_slack_api_calls_total", "Slack Web API calls by method and result",
            ["method", "result"], registry=self.registry)
        self.background_errors = Counter(
            "resilio_background_errors_total", "Failed background tasks, by kind",
            ["kind"], registry=self.registry)
        self.is_leader = Gauge(
            "resilio_scheduler_leader", "1 when this replica runs the scheduled work",
            registry=self.registry)
        self.outbox_tasks = Gauge(
            "resilio_outbox_tasks", "Follow-up work rows by state (dead: gave up, look)",
            ["state"], registry=self.registry)
        self.outbox_failures = Counter(
            "resilio_outbox_failures_total", "Failed follow-up attempts, by handler",
            ["handler"], registry=self.registry)
        self.open_incidents = Gauge(
            "resilio_open_incidents", "Incidents not yet resolved", registry=self.registry)
