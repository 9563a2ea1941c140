"""Real exporter metric names, mapped to the exchange format's layers, and their scrapes.

Each service kind exports what its stack would: vLLM (``vllm:*``), NVIDIA DCGM
(``DCGM_FI_*``), kube-state-metrics, OpenTelemetry HTTP and GenAI semantic
conventions (``http.server.*``, ``gen_ai.*``), and application metrics for data,
freshness, model, quality, eval, cost and control. Every metric belongs to a
*source* (an exporter or job) with its own scrape interval (15 s to 5 min), delay,
jitter, missed scrapes and outages; a service may lack whole sources. Values are
aggregates over the world's cells for each scrape window, so a slice's series
and the all-traffic series are breakdowns of the same requests.

Which series are broken down by slice follows where the labels live, not which
failure is drawn: every per-request rate or mean that a source handling the
request records (the HTTP server, the gateway, the application, billing,
validation; ``REQUEST_SOURCES``) carries the request's slice values, as set B's
per-cell traffic makes every such layer add up. The serving engine's, the GPU's and
the cluster's gauges and counts, the freshness gauges, and the sampled offline jobs
(eval, labels) see no request attributes and stay unsliced, except where a metric
says ``sliced`` itself (groundedness per slice from the eval job).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.simulator.independent.world import World

RETENTION_POINTS = 900


@dataclass(frozen=True)
class Metric:
    name: str
    layer: str
    source: str
    how: str            # rate | mean | gauge | count | dist
    latent: str
    bad: str | None = None
    sliced: bool = False
    scale: float = 1.0  # unit conversion (ms, %, MiB ...)
    sd: float = 0.3     # relative SD per request (mean) or per scrape (gauge)


@dataclass(frozen=True)
class Source:
    name: str
    interval: float     # seconds
    delay: float
    jitter: float       # SD, seconds
    missed: float       # probability a scrape is lost
    outage: tuple[float, float] | None  # seconds (start, end) with no scrapes


M = Metric
_GPU = [M("DCGM_FI_DEV_GPU_UTIL", "infra", "dcgm", "gauge", "util", None, scale=100, sd=0.04),
        M("DCGM_FI_DEV_FB_USED", "infra", "dcgm", "gauge", "mem", "up", scale=81920, sd=0.01),
        M("DCGM_FI_DEV_GPU_TEMP", "infra", "dcgm", "gauge", "temp", "up", sd=0.01),
        M("DCGM_FI_DEV_SM_CLOCK", "infra", "dcgm", "gauge", "per_replica", "down", scale=1980,
          sd=0.005),
        M("DCGM_FI_DEV_XID_ERRORS", "infra", "dcgm", "count", "xid", "up")]
_KUBE = [M("kube_pod_container_status_restarts_total", "infra", "kube", "count", "restarts",
           "up"),
         M("kube_deployment_status_replicas_available", "infra", "kube", "gauge", "replicas",
           "down", sd=0.0)]
_HTTP = [M("http.server.request.duration_p95", "runtime", "otel", "mean", "lat_eff", "up",
           sliced=True, sd=0.6),
         M("http.server.request.error_ratio", "runtime", "otel", "rate", "err_eff", "up",
           sliced=True)]
_VLLM = [M("vllm:num_requests_waiting", "runtime", "vllm", "gauge", "queue", "up", sd=0.05),
         M("vllm:gpu_cache_usage_perc", "runtime", "vllm", "gauge", "kv", "up", sd=0.02),
         M("vllm:num_preemptions_total", "runtime", "vllm", "count", "preempt", "up"),
         M("vllm:e2e_request_latency_seconds_p95", "runtime", "vllm", "mean", "lat_eff", "up",
           scale=1.0, sd=0.6)]
_RAG = [M("rag.query.length", "data", "app", "dist", "x_mean"),
        M("input.unexpected_language_ratio", "data", "app", "rate", "lang_other", "up",
          sliced=True),
        M("input.truncated_prompt_ratio", "data", "app", "rate", "trunc", "up"),
        M("vector_index_age_seconds", "freshness", "indexer", "gauge", "index_age", "up",
          sd=0.01),
        M("embedding.backlog_documents", "freshness", "indexer", "gauge", "embed_backlog", "up",
          sd=0.1),
        M("rag.retrieval.relevance", "quality", "app", "mean", "relev", "down", sd=0.3),
        M("rag.groundedness", "quality", "eval_job", "mean", "ground_eff", "down", sliced=True,
          sd=0.2),
        M("rag.retrieval.top_k", "cost", "app", "mean", "top_k", "up", sd=0.0)]
_CHAT = [M("model.answer_confidence", "model", "app", "mean", "conf", "both", sd=0.2),
         M("gen_ai.response.output_tokens", "model", "app", "mean", "tok_out_eff", "both",
           sd=0.5),
         M("feedback.thumbs_down_ratio", "quality", "app", "rate", "thumbs_eff", "up",
           sliced=True),
         M("guardrail.block_ratio", "eval", "app", "rate", "block", "up"),
         M("safety.refusal_ratio", "eval", "app", "rate", "refusal", "up", sliced=True),
         M("eval.judge_score", "eval", "eval_job", "mean", "judge", "down", sd=0.2),
         M("gen_ai.client.token.usage.input", "cost", "billing", "mean", "tok_in", "up",
           sliced=True, sd=0.4),
         M("llm.cost.usd_per_1k_requests", "cost", "billing", "mean", "cost", "up", sd=0.5),
         M("gen_ai.cache.hit_ratio", "cost", "gateway", "rate", "cache_hit", "down"),
         M("router.fallback_ratio", "control", "gateway", "rate", "fallback", "up"),
         M("prompt.template_mismatch_ratio", "control", "gateway", "rate", "mismatch", "up",
           sliced=True)]
_HOSTED = [M("gen_ai.client.operation.duration_p95", "runtime", "gateway", "mean", "lat_eff",
             "up", sliced=True, sd=0.6),
           M("gen_ai.client.error_ratio", "runtime", "gateway", "rate", "err_eff", "up",
             sliced=True),
           M("gen_ai.request.expensive_model_share", "cost", "gateway", "rate", "exp_share",
             "up"),
           M("agent.tool_calls_per_request", "cost", "gateway", "mean", "tools", "up", sd=0.5),
           M("input.prompt_length", "data", "app", "dist", "x_mean"),
           M("input.unexpected_language_ratio", "data", "app", "rate", "lang_other", "up",
             sliced=True),
           M("input.truncated_prompt_ratio", "data", "app", "rate", "trunc", "up")]
_TABULAR = [M("features.null_ratio", "data", "validation", "rate", "null", "up", sliced=True),
            M("features.schema_violation_ratio", "data", "validation", "rate", "invalid", "up"),
            M("features.join_miss_ratio", "data", "validation", "rate", "join_miss", "up"),
            M("feature_store.feature_age_seconds", "freshness", "feature_store", "gauge",
              "feat_age", "up", sd=0.02),
            M("inference.cost_usd_per_1k", "cost", "billing", "mean", "cost", "up", sd=0.3),
            M("policy.filtered_ratio", "eval", "app", "rate", "block", "up"),
            M("router.fallback_ratio", "control", "gateway", "rate", "fallback", "up")]
_RANKING = [M("feature.item_price", "data", "validation", "dist", "x_mean"),
            M("ranker.score_mean", "model", "app", "mean", "score", "both", sliced=True,
              sd=0.5),
            M("ranker.confidence", "model", "app", "mean", "conf", "both", sd=0.2),
            M("ranking.ndcg_at_10", "quality", "eval_job", "mean", "ndcg", "down", sd=0.3),
            M("ranking.ctr", "quality", "app", "rate", "ctr", "down", sliced=True)]
_FRAUD = [M("transaction.amount", "data", "validation", "dist", "x_mean"),
          M("transaction.amount_mean", "data", "validation", "mean", "amount", "both",
            sliced=True, sd=1.0),
          M("features.invalid_value_ratio", "data", "validation", "rate", "invalid", "up",
            sliced=True),
          M("fraud.score_mean", "model", "app", "mean", "score", "both", sliced=True, sd=0.6),
          M("fraud.flag_ratio", "model", "app", "rate", "flag", "both", sliced=True),
          M("fraud.chargeback_ratio", "quality", "labels_job", "rate", "chargeback", "up"),
          M("rules.block_ratio", "eval", "app", "rate", "block", "up", sliced=True)]
_CPU = [M("container_cpu_utilization_ratio", "infra", "kube", "gauge", "util", None, sd=0.04),
        M("kube_pod_container_status_restarts_total", "infra", "kube", "count", "restarts",
          "up"),
        M("kube_deployment_status_replicas_available", "infra", "kube", "gauge", "replicas",
          "down", sd=0.0)]

CATALOG: dict[str, list[Metric]] = {
    "rag_vllm": _GPU + _KUBE + _VLLM + _HTTP + _RAG + _CHAT,
    "hosted_chat": _HOSTED + _CHAT,
    "ranking": _GPU + _KUBE + _HTTP + _TABULAR + _RANKING,
    "fraud": _CPU + _HTTP + _TABULAR + _FRAUD,
}
# sources that record each request with its attributes: their rates and means are per slice
REQUEST_SOURCES = frozenset({"otel", "gateway", "app", "billing", "validation"})


def per_slice(m: Metric) -> bool:
    """Whether ``m`` is exported per slice value (see the module's docstring)."""
    return m.sliced or (m.how in ("rate", "mean") and m.source in REQUEST_SOURCES)


_SLOW_SOURCES = {"eval_job", "billing", "labels_job", "validation", "indexer"}


def derive(w: World) -> None:
    """Latents computed from others: cost per request and the mean transaction amount."""
    c = w.cell
    tokens = c["tok_in"] * (1 - 0.7 * c["cache_hit"]) + 3 * c["tok_out_eff"]
    if w.kind == "hosted_chat" or w.kind == "rag_vllm":
        per_request = tokens * 4e-6 * (1 + 9 * c["exp_share"]) + 0.002 * c["tools"]
        if w.has_pool:
            per_request = per_request * 0.3 + (w.glob["gpu_price"] * w.glob["replicas"] / 3600
                                               * w.dt / np.maximum(w.rate, 1))[None, :] * 0.7
    else:
        per_request = (w.glob["gpu_price"] * w.glob["replicas"] / 3600 * w.dt
                       / np.maximum(w.rate, 1))[None, :] * np.ones_like(c["score"])
    c["cost"] = per_request * 1000
    c["amount"] = np.exp(c["x_mean"] + c["x_sd"] ** 2 / 2) * (1 + 99 * c["unit_frac"])


def draw_sources(rng: np.random.Generator, names: set[str], span: float) -> dict[str, Source]:
    out = {}
    for name in sorted(names):
        choices = [60.0, 300.0, 300.0] if name in _SLOW_SOURCES else [15.0, 30.0, 60.0, 60.0,
                                                                      120.0, 300.0]
        interval = float(rng.choice(choices))
        outage = None
        if rng.random() < 0.2:
            at = rng.uniform(0, span)
            outage = (at, at + rng.uniform(300, 1800))
        out[name] = Source(name, interval, delay=float(rng.uniform(0, min(interval, 60))),
                           jitter=float(rng.uniform(0, 0.15) * interval),
                           missed=float(rng.choice([0.0, 0.01, 0.03, 0.08])), outage=outage)
    return out


def _scrapes(rng: np.random.Generator, src: Source, span: float, dt: float) -> np.ndarray:
    """Scrape times (seconds from the start) kept by the source's retention."""
    t = np.arange(src.interval, span, src.interval)
    t = t + rng.normal(0, src.jitter, t.size) if src.jitter else t
    keep = rng.random(t.size) >= src.missed
    if src.outage:
        keep &= (t < src.outage[0]) | (t >= src.outage[1])
    t = np.sort(np.clip(t[keep], dt, span - 1e-6))
    return t[-RETENTION_POINTS:]


class Renderer:
    """Turns a world into exchange records, metric by metric."""

    def __init__(self, w: World, sources: dict[str, Source], explicit_bad: float) -> None:
        self.w, self.sources, self.rng = w, sources, w.rng
        self.explicit_bad = explicit_bad
        self.requests = w.rng.poisson(np.maximum(w.traffic, 0))  # (C, T) realised
        # the noise of the slice views that ``per_slice`` adds comes from a stream of its
        # own: the series a metric flagged ``sliced`` always had, and every all-traffic
        # series, are drawn as before, so the breakdowns add to what was there
        self.slice_rng = w.rng.spawn(1)[0]
        self.views: list[tuple[dict[str, str], np.ndarray]] = [({}, np.ones(len(w.cells), bool))]
        for dim, values in w.dims.items():
            for value in values:
                self.views.append(({dim: value}, w.where(dim, value)))
        span = w.steps * w.dt
        self.times = {name: _scrapes(w.rng, s, span, w.dt) for name, s in sources.items()}

    def _base(self, m: Metric, seconds: float, slice_: dict[str, str]) -> dict[str, Any]:
        src = self.sources[m.source]
        record: dict[str, Any] = {"type": "signal", "ts": self.w.ts(seconds + src.delay),
                                  "service": self.w.service, "layer": m.layer, "name": m.name}
        if slice_:
            record["slice"] = dict(slice_)
        return record

    def render(self, m: Metric) -> list[dict[str, Any]]:
        w, rng = self.w, self.rng
        times = self.times[m.source]
        if times.size == 0:
            return []
        idx = np.minimum((times / w.dt).astype(int), w.steps - 1)
        edges = np.concatenate([[max(idx[0] - int(self.sources[m.source].interval / w.dt), 0)],
                                idx])
        bad = m.bad if (m.bad and rng.random() < self.explicit_bad) else None
        out: list[dict[str, Any]] = []
        if m.how in ("gauge", "count"):
            series = w.glob[m.latent]
            if m.how == "gauge":
                values = series[idx] * m.scale * (1 + rng.normal(0, m.sd, idx.size))
            else:
                cum = np.concatenate([[0.0], np.cumsum(rng.poisson(np.maximum(series, 0)))])
                values = cum[edges[1:] + 1] - cum[edges[:-1] + 1]
            for k, s in enumerate(times):
                record = self._base(m, s, {})
                record["value"] = round(float(values[k]), 6)
                if m.how == "count":
                    record["kind"] = "count"
                if bad:
                    record["bad"] = bad
                out.append(record)
            return out
        if m.how == "dist":
            return self._distribution(m, times, idx)
        views = self.views if per_slice(m) else self.views[:1]
        n_cell = self.requests
        if m.how == "rate":
            p = np.clip(w.cell[m.latent], 0, 1)
            numer_cell = rng.binomial(n_cell, p)
        else:
            numer_cell = n_cell * w.cell[m.latent]
        for slice_, mask in views:
            if slice_ and not m.sliced:
                rng = self.slice_rng
            n_cum = np.concatenate([[0.0], np.cumsum(n_cell[mask].sum(0))])
            e_cum = np.concatenate([[0.0], np.cumsum(numer_cell[mask].sum(0))])
            n_win = n_cum[edges[1:] + 1] - n_cum[edges[:-1] + 1]
            e_win = e_cum[edges[1:] + 1] - e_cum[edges[:-1] + 1]
            for k, s in enumerate(times):
                if n_win[k] < 1:
                    continue
                value = e_win[k] / n_win[k]
                record = self._base(m, s, slice_)
                if m.how == "rate":
                    record["value"] = round(float(min(value, 1.0)), 6)
                    record["count"] = int(n_win[k])
                    if rng.random() < 0.5:
                        record["kind"] = "ratio"
                else:
                    noisy = value * (1 + rng.normal(0, m.sd) / np.sqrt(n_win[k]))
                    record["value"] = round(float(noisy * m.scale), 6)
                if bad:
                    record["bad"] = bad
                out.append(record)
        return out

    def _distribution(self, m: Metric, times: np.ndarray, idx: np.ndarray
                      ) -> list[dict[str, Any]]:
        w, rng = self.w, self.rng
        out = []
        c = w.cell
        every = max(int(300 // self.sources[m.source].interval), 1)  # a sample per 5 min
        for s, i in zip(times[::every], idx[::every], strict=True):
            weights = np.maximum(w.traffic[:, i], 0)
            if weights.sum() <= 0:
                continue
            picks = rng.choice(len(w.cells), 200, p=weights / weights.sum())
            v = rng.lognormal(c["x_mean"][picks, i], c["x_sd"][picks, i])
            v = np.where(rng.random(200) < c["unit_frac"][picks, i], v * 100, v)
            cut = np.exp(c["x_mean"][picks, i]) * 0.5
            v = np.where(rng.random(200) < c["trunc"][picks, i] * 5, np.minimum(v, cut), v)
            record = {"type": "distribution", "ts": w.ts(s + self.sources[m.source].delay),
                      "service": w.service, "layer": m.layer, "name": m.name,
                      "values": [round(float(x), 3) for x in v]}
            out.append(record)
        return out
