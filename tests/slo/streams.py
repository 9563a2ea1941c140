"""Synthetic signal streams for the SLO tests: one record per signal per minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config.catalog import parse_catalog
from bot.config.slo_spec import SLO
from bot.core.exchange_records import SignalRecord

START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def signal(ts: datetime, name: str, value: float, *, layer: str, count: float | None = None,
           service: str = "rag-assistant", **slice_: str) -> SignalRecord:
    data: dict[str, Any] = {"type": "signal", "ts": ts, "service": service, "layer": layer,
                            "name": name, "value": value, "slice": slice_}
    if count is not None:
        data["count"] = count
    return SignalRecord.model_validate(data)


def minutes(start: datetime, count: int) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(count)]


def rag_stream(start: datetime, count: int,
               values: Callable[[int], dict[str, float]]) -> list[SignalRecord]:
    """The rag-assistant's signals each minute; ``values(i)`` overrides the healthy ones."""
    healthy = {"error_rate": 0.001, "latency_p95_ms": 800.0, "thumbs_down_rate": 0.05,
               "groundedness": 0.92, "index_lag_seconds": 60.0, "cost_per_1k_requests": 1.8}
    layers = {"error_rate": "runtime", "latency_p95_ms": "runtime", "thumbs_down_rate": "quality",
              "groundedness": "quality", "index_lag_seconds": "freshness",
              "cost_per_1k_requests": "cost"}
    records = []
    for i, ts in enumerate(minutes(start, count)):
        now = {**healthy, **values(i)}
        for name, value in now.items():
            count_ = 200.0 if name in ("error_rate", "thumbs_down_rate", "groundedness") else None
            records.append(signal(ts, name, value, layer=layers[name], count=count_))
    return records


def slo(**spec: Any) -> SLO:
    return SLO.model_validate(spec)


def catalog_with(slos: list[dict[str, Any]], name: str = "rag-assistant") -> Any:
    return parse_catalog({"services": [{"name": name, "slos": slos}]})
