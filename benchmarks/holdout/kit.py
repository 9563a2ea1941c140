"""Building blocks for hand-written held-out incidents: scrape grids with jitter and
missed scrapes, daily traffic, binomial ratios per slice cell that add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # a Monday evening; history runs into the night
Records = list[dict[str, Any]]
H = 3600.0


def ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def grid(rng: np.random.Generator, step: float, hours: float, *, jitter: float = 0.1,
         missed: float = 0.02) -> np.ndarray:
    """Scrape times: every ``step`` seconds with jitter, a share of scrapes missed."""
    t = np.arange(0.0, hours * 3600.0, step)
    t = t + rng.uniform(0, jitter * step, t.size)
    keep = rng.random(t.size) >= missed
    return t[keep]


def daily(t: np.ndarray, low: float = 0.35) -> np.ndarray:
    """Traffic shape: 1 at the afternoon peak, ``low`` at night (T0 is 18:00 UTC)."""
    hour = (18.0 + t / 3600.0) % 24.0
    return low + (1 - low) * 0.5 * (1 + np.cos((hour - 15.0) / 24.0 * 2 * np.pi))


def ramp(t: np.ndarray, on: float, minutes: float) -> np.ndarray:
    """0 before ``on``, rising linearly to 1 over ``minutes``."""
    return np.clip((t - on) / (minutes * 60.0), 0.0, 1.0)


def step(t: np.ndarray, on: float, until: float | None = None) -> np.ndarray:
    s = (t >= on).astype(float)
    if until is not None:
        s *= (t < until)
    return s


class Out:
    """Records of one service."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.records: Records = []

    def gauge(self, layer: str, name: str, t: np.ndarray, v: np.ndarray, bad: str,
              slice_: dict[str, str] | None = None) -> None:
        for ti, vi in zip(t, v, strict=True):
            self.records.append({"type": "signal", "ts": ts(ti), "service": self.service,
                                 "layer": layer, "name": name, "value": float(vi), "bad": bad,
                                 "slice": slice_ or {}})

    def ratio(self, layer: str, name: str, t: np.ndarray, n: np.ndarray, events: np.ndarray,
              bad: str = "up", slice_: dict[str, str] | None = None) -> None:
        for ti, ni, ei in zip(t, n, events, strict=True):
            if ni > 0:
                self.records.append({"type": "signal", "ts": ts(ti), "service": self.service,
                                     "layer": layer, "name": name, "value": float(ei / ni),
                                     "count": int(ni), "kind": "ratio", "bad": bad,
                                     "slice": slice_ or {}})

    def cells(self, rng: np.random.Generator, layer: str, name: str, t: np.ndarray,
              volume: dict[tuple[str, str], float], p: dict[tuple[str, str], np.ndarray],
              bad: str = "up", shape: np.ndarray | None = None) -> None:
        """A ratio per slice value of one dimension, plus the all-traffic total that adds up."""
        shape = np.ones(t.size) if shape is None else shape
        total_n = np.zeros(t.size)
        total_e = np.zeros(t.size)
        for key, vol in volume.items():
            n = rng.poisson(vol * shape).astype(float)
            e = rng.binomial(n.astype(int), np.clip(p[key], 0, 1)).astype(float)
            self.ratio(layer, name, t, n, e, bad, {key[0]: key[1]})
            total_n += n
            total_e += e
        self.ratio(layer, name, t, total_n, total_e, bad)

    def change(self, seconds: float, kind: str, ref: str, **extra: Any) -> None:
        self.records.append({"type": "change", "ts": ts(seconds), "service": self.service,
                             "kind": kind, "ref": ref, **extra})

    def state(self, layer: str, name: str, t: np.ndarray, value: list[str],
              expected: list[str], slice_: dict[str, str] | None = None) -> None:
        for ti, vi, ei in zip(t, value, expected, strict=True):
            self.records.append({"type": "state", "ts": ts(ti), "service": self.service,
                                 "layer": layer, "name": name, "value": vi, "expected": ei,
                                 "slice": slice_ or {}})


def noise(rng: np.random.Generator, size: int, sd: float, bursty: float = 0.0) -> np.ndarray:
    """Gaussian noise with occasional bursts (a heavy tail), as real gauges have."""
    e = rng.normal(0, sd, size)
    if bursty:
        spikes = rng.random(size) < bursty
        e[spikes] += rng.exponential(4 * sd, spikes.sum())
    return e
