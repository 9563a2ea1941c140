"""Exchange records built from numpy arrays of seconds since ``T0``, for hand-written
failure patterns (``test_issue13_patterns``, ``test_onsets_and_culprits``): one
service, real exporter names, any cadence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
Records = list[dict[str, Any]]


def stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def gauge(out: Records, layer: str, name: str, t: np.ndarray, v: np.ndarray, bad: str,
          slice_: dict[str, str] | None = None) -> None:
    for ti, vi in zip(t, v, strict=True):
        out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": layer,
                    "name": name, "value": float(vi), "bad": bad, "slice": slice_ or {}})


def ratio(out: Records, layer: str, name: str, t: np.ndarray, n: np.ndarray, p: np.ndarray,
          rng: np.random.Generator, slice_: dict[str, str] | None = None) -> np.ndarray:
    """Binomial events out of ``n`` at rate ``p``, stored as a ratio; returns the events
    so a test can add the cells up into an all-traffic total."""
    events = rng.binomial(n.astype(int), np.clip(p, 0, 1))
    for ti, ni, ei in zip(t, n, events, strict=True):
        if ni > 0:
            out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": layer,
                        "name": name, "value": float(ei / ni), "count": int(ni),
                        "kind": "ratio", "bad": "up", "slice": slice_ or {}})
    return events


def ratio_cells(out: Records, layer: str, name: str, t: np.ndarray, dimension: str,
                volumes: dict[str, float], p: dict[str, np.ndarray],
                rng: np.random.Generator) -> None:
    """A ratio per value of one slice dimension (Poisson requests at ``volumes``, events
    at ``p``), then the all-traffic total that adds the cells up, as an exporter's
    breakdown would."""
    total_n, total_e = np.zeros(t.size), np.zeros(t.size)
    for value, volume in volumes.items():
        n = rng.poisson(volume, t.size).astype(float)
        total_n += n
        total_e += ratio(out, layer, name, t, n, p[value], rng, {dimension: value})
    for ti, ni, ei in zip(t, total_n, total_e, strict=True):
        out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": layer,
                    "name": name, "value": float(ei / ni), "count": int(ni),
                    "kind": "ratio", "bad": "up"})


def change(out: Records, seconds: float, kind: str, ref: str, **extra: Any) -> None:
    out.append({"type": "change", "ts": stamp(seconds), "service": "svc", "kind": kind,
                "ref": ref, **extra})
