"""The real Prometheus on loopback for tests: the demo's lab (bot/demo/prometheus_lab.py).

One implementation serves both, so what the demo shows is what the tests check.
"""

from bot.demo.prometheus_lab import (
    LATENCY_BOUNDS,
    FeedbackLedger,
    PrometheusProcess,
    free_port,
    next_second,
    openmetrics_history,
)

__all__ = ["LATENCY_BOUNDS", "FeedbackLedger", "PrometheusProcess", "free_port", "next_second",
           "openmetrics_history"]
