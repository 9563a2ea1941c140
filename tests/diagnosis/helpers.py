"""Small hand-built exchange records for diagnosis tests (no simulator randomness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def ts(minute: float) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def series(name: str, layer: str, level: float, sd: float, *, minutes: int = 180,
           onset: float | None = None, factor: float = 1.0, service: str = "rag-assistant",
           seed: int = 0, count: int | None = None, slice_: dict | None = None
           ) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for m in range(minutes):
        value = level * (factor if onset is not None and m >= onset else 1.0)
        record: dict[str, Any] = {"type": "signal", "ts": ts(m), "service": service,
                                  "layer": layer, "name": name}
        if count:
            record["value"] = float(rng.binomial(count, min(value, 1.0)) / count)
            record["count"] = count
        else:
            record["value"] = float(value + rng.normal(0, sd))
        if slice_:
            record["slice"] = slice_
        out.append(record)
    return out


def quality_only(service: str = "rag-assistant", seed: int = 0, minutes: int = 180
                 ) -> list[dict[str, Any]]:
    """Only a user-facing quality signal drops: the defaults call this ``model``."""
    return (series("groundedness", "quality", 0.9, 0.01, onset=minutes - 40, factor=0.8,
                   service=service, seed=seed, minutes=minutes)
            + series("gpu_util", "infra", 60, 1, service=service, seed=seed + 1,
                     minutes=minutes))
