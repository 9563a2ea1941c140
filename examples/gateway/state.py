"""The toy model gateway's state, and the signals that state produces.

Quality, latency and cost are a pure function of the configuration (model and
prompt version, retrieval index, fallback mode, flags, replicas, token cap) plus a
little seeded noise. So a bad model version really drags groundedness down and
thumbs-down up, and rolling it back really brings them back: the runbooks that
act on this gateway can be verified against its own signals.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Per model version: groundedness, thumbs-down rate, p95 latency (ms), tokens per request.
MODELS: dict[str, dict[str, float]] = {
    "v6": {"groundedness": 0.89, "thumbs_down_rate": 0.05, "latency": 380, "tokens": 650},
    "v7": {"groundedness": 0.91, "thumbs_down_rate": 0.04, "latency": 420, "tokens": 700},
    "v8": {"groundedness": 0.62, "thumbs_down_rate": 0.19, "latency": 430, "tokens": 720},
}
PROMPTS: dict[str, float] = {"p12": 0.0, "p13": -0.22}  # groundedness shift
INDEXES: dict[str, float] = {"idx-2026-11-25": 0.82, "idx-2026-11-26": 0.48}  # relevance
FALLBACKS: dict[str, dict[str, float]] = {
    "cached": {"groundedness": 0.86, "thumbs_down_rate": 0.07, "latency": 40, "tokens": 0},
    "smaller-model": {"groundedness": 0.84, "thumbs_down_rate": 0.08, "latency": 250,
                      "tokens": 500},
    "retrieval-only": {"groundedness": 0.88, "thumbs_down_rate": 0.09, "latency": 120,
                       "tokens": 0},
    "rules-based": {"groundedness": 0.80, "thumbs_down_rate": 0.10, "latency": 15, "tokens": 0},
}
FLAG_EFFECTS: dict[str, float] = {"experimental_reranker": -0.25}  # relevance shift when on
USD_PER_TOKEN = 0.000003
LOAD_RPS = 300.0
RPS_PER_REPLICA = 100.0
REQUESTS_PER_TICK = 200


class Refused(ValueError):
    """A change the gateway will not make (unknown version, bad value)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Gateway:
    service: str = "rag-assistant"
    model_version: str = "v7"
    prompt_version: str = "p12"
    retrieval_index: str = "idx-2026-11-25"
    fallback_mode: str | None = None
    flags: dict[str, bool] = field(default_factory=lambda: {"experimental_reranker": False,
                                                            "streaming": True})
    replicas: int = 4
    token_cap: int | None = None
    seed: int = 7
    records: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    # -- configuration -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"service": self.service, "model_version": self.model_version,
                    "prompt_version": self.prompt_version,
                    "retrieval_index": self.retrieval_index,
                    "fallback_mode": self.fallback_mode, "flags": dict(self.flags),
                    "replicas": self.replicas, "token_cap": self.token_cap,
                    "known": {"models": sorted(MODELS), "prompts": sorted(PROMPTS),
                              "indexes": sorted(INDEXES), "fallbacks": sorted(FALLBACKS)}}

    def _change(self, kind: str, ref: str, previous: Any, author: str | None) -> None:
        self.records.append({"type": "change", "ts": _ts(_now()), "service": self.service,
                             "kind": kind, "ref": ref,
                             "previous": None if previous is None else str(previous),
                             "author": author or "gateway-api",
                             "description": f"{kind} set to {ref}"})

    def set_model(self, version: str, author: str | None = None) -> str:
        if version not in MODELS:
            raise Refused(f"unknown model version {version!r} (known: {', '.join(MODELS)})")
        with self.lock:
            previous, self.model_version = self.model_version, version
            if previous != version:
                self._change("model", version, previous, author)
        return previous

    def set_prompt(self, version: str, author: str | None = None) -> str:
        if version not in PROMPTS:
            raise Refused(f"unknown prompt version {version!r} (known: {', '.join(PROMPTS)})")
        with self.lock:
            previous, self.prompt_version = self.prompt_version, version
            if previous != version:
                self._change("prompt", version, previous, author)
        return previous

    def set_index(self, index: str, author: str | None = None) -> str:
        if index not in INDEXES:
            raise Refused(f"unknown retrieval index {index!r} (known: {', '.join(INDEXES)})")
        with self.lock:
            previous, self.retrieval_index = self.retrieval_index, index
            if previous != index:
                self._change("retrieval", index, previous, author)
        return previous

    def set_fallback(self, mode: str | None, author: str | None = None) -> str | None:
        if mode in ("", "off", "none"):
            mode = None
        if mode is not None and mode not in FALLBACKS:
            raise Refused(f"unknown fallback mode {mode!r} (known: {', '.join(FALLBACKS)}, off)")
        with self.lock:
            previous, self.fallback_mode = self.fallback_mode, mode
            if previous != mode:
                self._change("config", f"fallback={mode or 'off'}", previous, author)
        return previous

    def set_flag(self, name: str, enabled: bool, author: str | None = None) -> bool | None:
        with self.lock:
            previous = self.flags.get(name)
            self.flags[name] = enabled
            if previous != enabled:
                self._change("config", f"flag {name}={'on' if enabled else 'off'}", previous,
                             author)
        return previous

    def set_replicas(self, count: int, author: str | None = None) -> int:
        if not 1 <= count <= 64:
            raise Refused(f"replicas must be 1..64, got {count}")
        with self.lock:
            previous, self.replicas = self.replicas, count
            if previous != count:
                self._change("infra", f"replicas={count}", previous, author)
        return previous

    def set_token_cap(self, cap: int | None, author: str | None = None) -> int | None:
        if cap is not None and not 16 <= cap <= 32768:
            raise Refused(f"token cap must be 16..32768 or null, got {cap}")
        with self.lock:
            previous, self.token_cap = self.token_cap, cap
            if previous != cap:
                self._change("config", f"token_cap={cap}", previous, author)
        return previous

    # -- behaviour ---------------------------------------------------------------

    def profile(self) -> dict[str, float]:
        """Expected quality, latency and cost of the current configuration (no noise)."""
        with self.lock:
            base = dict(FALLBACKS[self.fallback_mode] if self.fallback_mode
                        else MODELS[self.model_version])
            relevance = INDEXES[self.retrieval_index]
            for flag, shift in FLAG_EFFECTS.items():
                if self.flags.get(flag):
                    relevance += shift
            groundedness = base["groundedness"]
            if self.fallback_mode not in ("cached", "rules-based"):
                groundedness += PROMPTS[self.prompt_version] + (relevance - 0.82) * 0.6
            tokens = base["tokens"]
            if self.token_cap is not None and tokens > self.token_cap:
                if self.token_cap < 256:
                    groundedness -= 0.05
                tokens = float(self.token_cap)
            load = LOAD_RPS / (self.replicas * RPS_PER_REPLICA)
            latency = base["latency"] * max(1.0, load) ** 2
            thumbs = base["thumbs_down_rate"] + max(0.0, 0.85 - groundedness) * 0.3
            return {"groundedness": max(0.0, min(1.0, groundedness)),
                    "thumbs_down_rate": max(0.0, min(1.0, thumbs)),
                    "retrieval_relevance": max(0.0, min(1.0, relevance)),
                    "latency_p95_ms": latency, "tokens_per_request": tokens,
                    "cost_per_request_usd": tokens * USD_PER_TOKEN,
                    "error_rate": 0.002 if load <= 1 else min(1.0, 0.002 * load ** 3)}

    def answer(self, prompt: str) -> dict[str, Any]:
        """The toy model: echoes the configuration that would have served ``prompt``."""
        state, profile = self.snapshot(), self.profile()
        served_by = state["fallback_mode"] or f"model {state['model_version']}"
        words = prompt.split()[: int(profile["tokens_per_request"]) or 20]
        return {"answer": f"[{served_by}] " + " ".join(reversed(words)),
                "model_version": state["model_version"], "fallback": state["fallback_mode"],
                "grounded": profile["groundedness"] > 0.8}

    def tick(self, moment: datetime | None = None) -> list[dict[str, Any]]:
        """Emit one interval's signal records (all traffic and per model version)."""
        moment = moment or _now()
        profile = self.profile()
        with self.lock:
            jitter = self._random.uniform
            ts, service = _ts(moment), self.service
            slice_ = {"model_version": self.model_version,
                      "fallback": self.fallback_mode or "none"}
            served = self.model_version
        out: list[dict[str, Any]] = []

        def signal(layer: str, name: str, value: float, kind: str, bad: str) -> None:
            for piece in ({}, slice_):
                out.append({"type": "signal", "ts": ts, "service": service, "layer": layer,
                            "name": name, "value": round(value, 6), "count": REQUESTS_PER_TICK,
                            "kind": kind, "bad": bad, "slice": piece})

        signal("quality", "groundedness",
               min(1.0, max(0.0, profile["groundedness"] + jitter(-0.01, 0.01))), "gauge", "down")
        signal("quality", "thumbs_down_rate",
               min(1.0, max(0.0, profile["thumbs_down_rate"] + jitter(-0.005, 0.005))),
               "ratio", "up")
        signal("quality", "retrieval_relevance",
               min(1.0, max(0.0, profile["retrieval_relevance"] + jitter(-0.01, 0.01))),
               "gauge", "down")
        signal("runtime", "latency_p95_ms", profile["latency_p95_ms"] * jitter(0.95, 1.05),
               "gauge", "up")
        signal("runtime", "error_rate", profile["error_rate"], "ratio", "up")
        signal("cost", "tokens_per_request", profile["tokens_per_request"], "gauge", "up")
        signal("cost", "cost_per_request_usd", profile["cost_per_request_usd"], "gauge", "up")
        out.append({"type": "state", "ts": ts, "service": service, "layer": "control",
                    "name": "served_model_version", "value": served, "slice": {}})
        with self.lock:
            self.records.extend(out)
        return out

    def since(self, start: datetime | None, end: datetime | None = None) -> list[dict[str, Any]]:
        with self.lock:
            records = list(self.records)
        if start is None and end is None:
            return records
        chosen = []
        for record in records:
            moment = datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
            if (start is None or moment >= start) and (end is None or moment <= end):
                chosen.append(record)
        return chosen
