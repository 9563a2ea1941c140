"""A service as traffic per slice cell, an autoscaled pool and latent per-request rates.

Premises, unlike ``bot/simulator/world.py`` (which draws each series on its own and
dilutes slice effects by a share): here the unit is the *cell*, one combination of
slice values (tenant x region x model_version ...). Requests arrive per cell, every
per-request quantity (error probability, latency, tokens, quality) is a latent array
per cell and time step, and every exported series, all traffic or one slice value,
is an aggregate over cells, so breakdowns add up. A GPU pool serves the total load:
it scales with a lag up to a cap, and what it cannot serve waits in a queue, which
makes latency, timeouts and truncated answers. Failures (``failures.py``) edit the
latents; exporters (``exporters.py``) scrape the result the way real ones do.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.core.clock import format_ts

SERVICE_KINDS = ("rag_vllm", "hosted_chat", "ranking", "fraud")
DIMENSIONS = {
    "tenant": ["acme", "globex", "initech", "umbrella", "hooli"],
    "segment": ["free", "pro", "enterprise"],
    "language": ["en", "de", "ja", "pt"],
    "model_version": ["m-2024-10", "m-2024-11"],
    "route": ["chat", "search", "summarise"],
    "region": ["us-east", "eu-west", "ap-south"],
}
MAX_CELLS = 48


@dataclass
class World:
    """Latent state of one service on a regular grid of ``dt`` seconds."""

    rng: np.random.Generator
    kind: str
    service: str
    start: datetime
    dt: float
    steps: int
    dims: dict[str, list[str]]
    cells: list[dict[str, str]]
    share: np.ndarray                       # (C, T) share of traffic per cell
    rate: np.ndarray                        # (T,) requests per step, all cells
    cell: dict[str, np.ndarray] = field(default_factory=dict)   # (C, T) latents
    glob: dict[str, np.ndarray] = field(default_factory=dict)   # (T,) latents
    changes: list[dict[str, Any]] = field(default_factory=list)
    has_pool: bool = True
    # the deployer's plan when a failure makes a deploy miss a slice ({"at", "missed"})
    version_plan: dict[str, Any] | None = None

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.steps) * self.dt

    @property
    def traffic(self) -> np.ndarray:
        """Expected requests per cell and step."""
        return self.share * self.rate[None, :]

    def ts(self, seconds: float) -> str:
        return format_ts(self.start + timedelta(seconds=float(seconds)))

    def where(self, dim: str, value: str) -> np.ndarray:
        return np.array([c.get(dim) == value for c in self.cells])

    def profile(self, start: float, ramp: float = 0.0, end: float | None = None) -> np.ndarray:
        """0 before ``start`` (seconds), rising linearly over ``ramp`` to 1, 0 after ``end``."""
        t = self.t
        p = np.clip((t - start) / ramp, 0.0, 1.0) if ramp > 0 else (t >= start).astype(float)
        if end is not None:
            p = np.where(t >= end, 0.0, p)
        return p

    def scale(self, name: str, factor: float, prof: np.ndarray,
              mask: np.ndarray | None = None) -> None:
        """Multiply a latent by ``1 + (factor - 1) * prof`` (in the cells of ``mask``)."""
        m = (1.0 + (factor - 1.0) * prof)
        if name in self.glob:
            self.glob[name] = self.glob[name] * m
            return
        arr = self.cell[name]
        sel = np.ones(len(self.cells), bool) if mask is None else mask
        arr[sel] = arr[sel] * m[None, :]

    def shift(self, name: str, delta: float, prof: np.ndarray,
              mask: np.ndarray | None = None) -> None:
        """Add ``delta * prof`` to a latent (in the cells of ``mask``)."""
        if name in self.glob:
            self.glob[name] = self.glob[name] + delta * prof
            return
        sel = np.ones(len(self.cells), bool) if mask is None else mask
        self.cell[name][sel] = self.cell[name][sel] + delta * prof[None, :]


def _diurnal(t_hours: np.ndarray, phase: float, depth: float) -> np.ndarray:
    """Day traffic, a deep night trough (not a sine: mornings ramp fast)."""
    x = np.cos(2 * math.pi * (t_hours - 14.0 + phase) / 24.0)
    return 1.0 + depth * np.tanh(1.5 * x) / math.tanh(1.5)


def _bursts(rng: np.random.Generator, steps: int, dt: float, sd: float) -> np.ndarray:
    """Bursty multiplicative noise: AR(1) wobble plus a few short bursts per day."""
    phi = math.exp(-dt / 600.0)
    z = rng.normal(0, sd, steps)
    for i in range(1, steps):
        z[i] += phi * z[i - 1]
    out = np.exp(z * math.sqrt(1 - phi * phi))
    for _ in range(rng.poisson(steps * dt / 86400 * 6)):
        at, length = int(rng.integers(0, steps)), int(rng.uniform(60, 900) / dt) + 1
        out[at:at + length] *= rng.uniform(1.1, 1.6)
    return out


def _dims(rng: np.random.Generator, kind: str, force: str | None) -> dict[str, list[str]]:
    wanted = {"rag_vllm": ["tenant", "language", "route", "region", "model_version", "segment"],
              "hosted_chat": ["tenant", "language", "route", "segment", "region"],
              "ranking": ["segment", "region", "model_version", "language"],
              "fraud": ["tenant", "region", "segment", "model_version"]}[kind]
    n = int(rng.choice([0, 1, 2, 2, 3, 3, 4, 5]))
    chosen = [str(d) for d in rng.permutation(wanted)[:n]]
    if force is not None:
        chosen = [force] + [d for d in chosen if d != force]
    dims: dict[str, list[str]] = {}
    for d in chosen:
        values = DIMENSIONS[d]
        k = len(values) if d == "model_version" else int(rng.integers(2, len(values) + 1))
        dims[d] = values[:k]
    while math.prod(len(v) for v in dims.values()) > MAX_CELLS:
        dims.popitem()
    return dims


def _shares(rng: np.random.Generator, dims: dict[str, list[str]],
            cells: list[dict[str, str]]) -> np.ndarray:
    """Cell shares: products of per-dimension shares, a tiny value now and then, and
    language tied to region (eu speaks de, ap speaks ja) so dimensions correlate."""
    per_dim = {}
    for d, values in dims.items():
        p = rng.dirichlet(np.full(len(values), 2.0))
        if len(values) > 2 and rng.random() < 0.4:
            p[-1] = rng.uniform(0.01, 0.04)  # a small value: noisy when sliced
        per_dim[d] = p / p.sum()
    out = np.ones(len(cells))
    for i, c in enumerate(cells):
        for d, v in c.items():
            out[i] *= per_dim[d][dims[d].index(v)]
        if c.get("region") == "eu-west" and c.get("language") == "de":
            out[i] *= 4.0
        if c.get("region") == "ap-south" and c.get("language") == "ja":
            out[i] *= 4.0
    return out / out.sum()


_REQUESTS_PER_MIN = {"rag_vllm": (40, 900), "hosted_chat": (20, 600), "ranking": (300, 6000),
                     "fraud": (100, 3000)}


def build_world(rng: np.random.Generator, kind: str, service: str, start: datetime,
                hours: float, dt: float, force_dim: str | None = None) -> World:
    """A healthy service: traffic, cells, baseline latents (failures come later)."""
    steps = int(hours * 3600 / dt)
    dims = _dims(rng, kind, force_dim)
    cells = [dict(zip(dims, combo, strict=True))
             for combo in itertools.product(*dims.values())] or [{}]
    base_share = _shares(rng, dims, cells) if dims else np.ones(1)
    share = np.repeat(base_share[:, None], steps, axis=1)
    t_hours = start.hour + start.minute / 60 + np.arange(steps) * dt / 3600
    lo, hi = _REQUESTS_PER_MIN[kind]
    per_min = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    rate = (per_min * dt / 60 * _diurnal(t_hours, rng.uniform(-2, 2), rng.uniform(0.3, 0.8))
            * _bursts(rng, steps, dt, rng.uniform(0.05, 0.2)))
    w = World(rng=rng, kind=kind, service=service, start=start, dt=dt, steps=steps, dims=dims,
              cells=cells, share=share, rate=rate, has_pool=kind in ("rag_vllm", "ranking"))
    C, u = len(cells), rng.uniform
    wobble = lambda sd: np.exp(rng.normal(0, sd, (C, 1)))  # noqa: E731 - per-cell spread
    full = lambda x: np.full((C, steps), 1.0) * x  # noqa: E731
    chatty = kind in ("rag_vllm", "hosted_chat")
    w.cell.update({
        "err": full(u(0.001, 0.01) * wobble(0.3)),
        "lat": full(u(0.8, 4.0) if chatty else u(0.02, 0.15)) * wobble(0.15),
        "tok_in": full(u(600, 2500) if chatty else u(50, 200)) * wobble(0.2),
        "tok_out": full(u(100, 500) if chatty else 1.0) * wobble(0.2),
        "exp_share": full(u(0.02, 0.1)),
        "cache_hit": full(u(0.3, 0.7)),
        "tools": full(u(0.5, 2.0)),
        "top_k": full(float(rng.choice([4, 5, 8]))),
        "refusal": full(u(0.005, 0.03)), "block": full(u(0.002, 0.02)),
        "judge": full(u(0.7, 0.9)),
        "thumbs": full(u(0.02, 0.07)) * wobble(0.2),
        "relev": full(u(0.65, 0.85)), "ground": full(u(0.8, 0.93)),
        "ndcg": full(u(0.4, 0.6)), "ctr": full(u(0.05, 0.15)) * wobble(0.2),
        "chargeback": full(u(0.002, 0.01)),
        "null": full(u(0.002, 0.02)), "invalid": full(u(0.0005, 0.005)),
        "join_miss": full(u(0.002, 0.01)),
        "x_mean": full(u(3.0, 4.5)) + rng.normal(0, 0.1, (C, 1)), "x_sd": full(u(0.5, 0.9)),
        "unit_frac": full(0.0),
        "lang_other": full(u(0.002, 0.02)), "trunc": full(u(0.001, 0.01)),
        "score": full(u(0.1, 0.4)) * wobble(0.1), "conf": full(u(0.65, 0.9)),
        "flag": full(u(0.01, 0.05)) * wobble(0.2),
        "mismatch": full(u(0.0, 0.004)), "fallback": full(u(0.005, 0.03)),
        "cut": full(0.0),   # share of answers a dependency cut off mid-stream
    })
    cap = int(rng.integers(4, 17))
    feat_period, index_period = u(300, 900), u(1800, 3600)
    t = w.t
    w.glob.update({
        "cap": np.full(steps, float(cap)),
        "per_replica": np.full(steps, 1.0),     # capacity multiplier (throttling lowers it)
        "temp": np.full(steps, u(55, 70)), "xid": np.zeros(steps), "restarts": np.zeros(steps),
        "mem": np.full(steps, u(0.55, 0.8)),
        "feat_age": u(30, 90) + (t % feat_period), "feat_period": np.full(steps, feat_period),
        "index_age": u(60, 300) + (t % index_period), "embed_backlog": np.full(steps, u(0, 50)),
        "gpu_price": np.full(steps, u(1.5, 3.5)), "vendor_lat": np.full(steps, 1.0),
        "job": np.zeros(steps),                 # extra load from a batch job (work units)
    })
    w.glob["cap_target"] = np.full(steps, float(cap))
    return w


def stall(w: World, name: str, start: float) -> None:
    """A saw-tooth age that stops resetting at ``start``: it only grows from there."""
    age = w.glob[name]
    i = int(start / w.dt)
    if i < w.steps:
        age[i:] = age[i] + (w.t[i:] - w.t[i])


def run_pool(w: World) -> None:
    """Autoscaled replicas with a lag and a cap; the excess load queues.

    Writes ``replicas``, ``util``, ``queue`` (requests waiting), ``kv`` (KV-cache use),
    ``preempt`` and ``timeout`` (a probability per request), and the per-cell
    effective ``lat_eff``/``err_eff``; timeouts cut answers short, which shows in
    quality (a truncated answer is a bad one) and, on streamed answers, in fewer
    output tokens, though nothing in the model changed.
    """
    steps, dt = w.steps, w.dt
    tokens = (w.traffic * (w.cell["tok_in"] * 0.2 + w.cell["tok_out"])).sum(0) / np.maximum(
        w.rate, 1e-9)
    work = w.rate * tokens / tokens[: max(steps // 10, 1)].mean() + w.glob["job"]
    per_replica = float(np.quantile(work, 0.98)) / (0.7 * w.glob["cap"][0]) * w.glob[
        "per_replica"]
    replicas = np.empty(steps)
    queue = np.zeros(steps)
    current, q = max(1.0, math.ceil(work[0] / (0.6 * per_replica[0]))), 0.0
    lag_steps = max(int(240 / dt), 1)
    for i in range(steps):
        want = math.ceil(work[max(i - lag_steps, 0)] / (0.6 * per_replica[i]))
        if want > current:
            current = min(want, current + 1)
        elif want < current - 1 and i % max(int(600 / dt), 1) == 0:
            current -= 1
        current = max(1.0, min(current, w.glob["cap"][i]))
        replicas[i] = current
        served = current * per_replica[i]
        q = max(0.0, q + work[i] - served)
        queue[i] = q
    util = np.minimum(work / (replicas * per_replica), 1.0)
    wait = queue / np.maximum(replicas * per_replica, 1e-9) * dt       # seconds in the queue
    congestion = 1.0 / (1.0 - np.minimum(util, 0.92)) / (1.0 / (1.0 - 0.6))
    w.glob.update({"replicas": replicas, "util": util, "queue": queue * w.rate / np.maximum(
        work, 1e-9)})
    kv = np.clip(util * tokens / tokens[: max(steps // 10, 1)].mean() * 0.75
                 + w.glob.get("kv_bias", 0.0), 0, 1)
    w.glob["kv"] = kv
    w.glob["preempt"] = np.where(kv > 0.95, (kv - 0.95) * 200, 0.0)
    lat = w.cell["lat"] * (np.maximum(congestion, 1.0) * (1 + 2.0 * w.glob["preempt"] / 10)
                           )[None, :] + wait[None, :]
    _finish(w, lat)


def run_hosted(w: World) -> None:
    """A hosted model API: the vendor's latency, no pool to saturate."""
    w.glob.update({"replicas": np.ones(w.steps), "util": np.zeros(w.steps),
                   "queue": np.zeros(w.steps), "kv": np.zeros(w.steps),
                   "preempt": np.zeros(w.steps)})
    _finish(w, w.cell["lat"] * w.glob["vendor_lat"][None, :])


def _finish(w: World, lat: np.ndarray) -> None:
    slo = np.quantile(lat[:, : max(w.steps // 10, 1)], 0.5) * 4
    timeout = np.clip((lat / slo - 1.0) * 0.5, 0, 0.6)
    # a streamed answer cut off by a timeout keeps what came so far (about 40 %): it is
    # shorter and worse, and the model did nothing different
    cut = np.clip(w.cell["cut"] + timeout, 0, 1)
    w.cell["lat_eff"] = np.minimum(lat, slo * 1.5)
    w.cell["err_eff"] = np.clip(w.cell["err"] + timeout, 0, 0.99)
    w.cell["thumbs_eff"] = np.clip(w.cell["thumbs"] + 0.6 * cut, 0, 0.99)
    w.cell["ground_eff"] = np.clip(w.cell["ground"] - 0.5 * cut, 0, 1)
    w.cell["tok_out_eff"] = w.cell["tok_out"] * (1 - 0.6 * cut)
    w.glob["timeout"] = (timeout * w.traffic).sum(0) / np.maximum(w.rate, 1e-9)
