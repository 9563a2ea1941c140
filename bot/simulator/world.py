"""A simulated service: signal generators with noise, daily cycles and slices.

Each signal is a baseline (level, noise, optional daily cycle and AR(1) noise)
plus *effects* (a multiplier or an offset from some minute, optionally ramping in
and confined to a slice). The scenario module decides which effects an incident
has; this module only turns them into exchange-format records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.core.clock import format_ts


@dataclass
class Effect:
    start: float            # minute from the scenario start
    size: float             # relative (level * (1 + size)) or absolute for 'add'
    mode: str = "relative"  # relative | add | ramp (adds size per minute)
    ramp: float = 0.0       # minutes to reach full size
    slice: tuple[str, str] | None = None
    end: float | None = None  # minute it is undone (a rollback); None: lasts to the end


@dataclass
class Signal:
    layer: str
    name: str
    level: float
    noise: float             # relative SD of the point noise
    kind: str = "gauge"      # gauge | ratio
    bad: str | None = None
    seasonal: float = 0.0    # relative amplitude of the daily cycle
    ar: float = 0.0
    sliced: bool = False
    effects: list[Effect] = field(default_factory=list)


@dataclass
class World:
    service: str
    start: datetime
    minutes: int
    step: float
    rng: np.random.Generator
    dims: dict[str, list[str]]
    shares: dict[str, np.ndarray]
    traffic: float           # requests per minute, all slices
    phase: float
    jitter: float = 0.0

    def times(self) -> np.ndarray:
        t = np.arange(0.0, self.minutes, self.step)
        if self.jitter:
            t = t + self.rng.uniform(-self.jitter, self.jitter, t.size) * self.step
            t = np.clip(np.sort(t), 0, self.minutes - 1e-3)
        return t

    def ts(self, minute: float) -> str:
        return format_ts(self.start + timedelta(minutes=float(minute)))

    def cycle(self, t: np.ndarray) -> np.ndarray:
        hour = (self.start.hour + self.start.minute / 60 + t / 60.0)
        return np.sin(2 * math.pi * hour / 24.0 + self.phase)

    def counts(self, t: np.ndarray, share: float) -> np.ndarray:
        base = self.traffic * share * self.step * (1 + 0.3 * self.cycle(t))
        return np.maximum(self.rng.poisson(np.maximum(base, 1.0)), 1)


def _apply(values: np.ndarray, t: np.ndarray, effects: list[Effect], level: float,
           where: tuple[str, str] | None) -> np.ndarray:
    out = values.copy()
    for e in effects:
        if e.slice is not None and e.slice != where and where is not None:
            continue
        active = (t >= e.start) & (t < e.end) if e.end is not None else t >= e.start
        frac = np.clip((t - e.start) / e.ramp, 0, 1) if e.ramp > 0 else active.astype(float)
        frac = np.where(active, frac, 0.0)
        if e.mode == "relative":
            out = out * (1 + e.size * frac)
        elif e.mode == "add":
            out = out + e.size * frac
        else:  # ramp: grows with time since start
            out = out + np.where(active, (t - e.start) * e.size, 0.0)
    return out


def _noise(rng: np.random.Generator, n: int, sd: float, ar: float) -> np.ndarray:
    z = rng.normal(0, sd, n)
    if ar > 0:
        for i in range(1, n):
            z[i] += ar * z[i - 1]
        z *= math.sqrt(1 - ar * ar)
    return z


def _share_of(world: World, where: tuple[str, str]) -> float:
    dim, value = where
    return float(world.shares[dim][world.dims[dim].index(value)])


def _diluted(effects: list[Effect], world: World) -> list[Effect]:
    """All-traffic view of slice-confined effects: scaled by the slice's share."""
    out = []
    for e in effects:
        if e.slice is None:
            out.append(e)
        else:
            share = _share_of(world, e.slice)
            out.append(Effect(e.start, e.size * share, e.mode, e.ramp, None, e.end))
    return out


def render(world: World, signal: Signal) -> list[dict[str, Any]]:
    """Exchange records of one signal: all traffic, plus one series per slice value."""
    t = world.times()
    rng = world.rng
    views: list[tuple[tuple[str, str] | None, float]] = [(None, 1.0)]
    if signal.sliced:
        for dim, values in world.dims.items():
            for i, value in enumerate(values):
                views.append(((dim, value), float(world.shares[dim][i])))
    records = []
    for where, share in views:
        effects = signal.effects if where is not None else _diluted(signal.effects, world)
        base = signal.level * (1 + signal.seasonal * world.cycle(t))
        if signal.kind == "ratio":
            n = world.counts(t, share)
            p = np.clip(_apply(base, t, effects, signal.level, where), 1e-5, 0.999)
            p = np.clip(p * np.exp(_noise(rng, t.size, signal.noise, signal.ar)), 1e-5, 0.999)
            values = rng.binomial(n, p) / n
        else:
            n = None
            scale = abs(signal.level) * signal.noise / math.sqrt(max(share, 0.05))
            values = _apply(base, t, effects, signal.level, where) + _noise(
                rng, t.size, scale, signal.ar)
        for i, minute in enumerate(t):
            record: dict[str, Any] = {"type": "signal", "ts": world.ts(minute),
                                      "service": world.service, "layer": signal.layer,
                                      "name": signal.name, "value": round(float(values[i]), 6)}
            if n is not None:
                record["count"] = int(n[i])
                record["kind"] = "ratio"
            if signal.bad:
                record["bad"] = signal.bad
            if where is not None:
                record["slice"] = {where[0]: where[1]}
            records.append(record)
    return records


def render_distribution(world: World, layer: str, name: str, every: float, size: int,
                        shift_at: float | None, shift: float, scale: float = 1.0,
                        categories: dict[str, float] | None = None,
                        new_categories: dict[str, float] | None = None) -> list[dict]:
    """Numeric samples (lognormal-ish) or category counts, one record per ``every`` minutes."""
    records = []
    rng = world.rng
    for minute in np.arange(0.0, world.minutes, every):
        after = shift_at is not None and minute >= shift_at
        record: dict[str, Any] = {"type": "distribution", "ts": world.ts(minute),
                                  "service": world.service, "layer": layer, "name": name}
        if categories is None:
            mu = 3.0 + (shift if after else 0.0)
            sigma = 0.5 * (scale if after else 1.0)
            record["values"] = [round(float(v), 3) for v in rng.lognormal(mu, sigma, size)]
        else:
            probs = new_categories if after and new_categories else categories
            keys = list(probs)
            p = np.array([probs[k] for k in keys], dtype=float)
            drawn = rng.multinomial(size, p / p.sum())
            record["counts"] = {k: int(c) for k, c in zip(keys, drawn, strict=True)}
        records.append(record)
    return records
