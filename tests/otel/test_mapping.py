"""Pure parts of the OTLP mapping: rules, histogram quantiles and their documented error."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config.catalog import CatalogError, parse_catalog
from bot.config.otel_rules import MetricMapper, OtelOptions
from bot.otel import buckets, temporality
from bot.otel.amounts import ExplicitHistogram


@pytest.mark.parametrize(("metric", "layer", "bad"), [
    ("vllm:gpu_cache_usage_perc", "runtime", "up"),
    ("vllm:generation_tokens_total", "cost", "up"),
    ("DCGM_FI_DEV_GPU_TEMP", "infra", "up"),
    ("DCGM_FI_DEV_GPU_UTIL", "infra", "both"),
    ("nv_inference_request_failure", "runtime", "up"),
    ("nv_inference_request_success", "runtime", "down"),
    ("http.server.request.duration", "runtime", "up"),
    ("gen_ai.client.token.usage", "cost", "up"),
    ("gen_ai.evaluation.score", "eval", "down"),
    ("something.unknown", "runtime", "both"),
])
def test_builtin_rules(metric: str, layer: str, bad: str) -> None:
    mapped = MetricMapper(OtelOptions()).map(metric)
    assert (mapped.name, mapped.layer, mapped.bad) == (metric, layer, bad)


def test_catalog_rules_come_first_and_rename() -> None:
    options = OtelOptions(rules=[
        {"prefix": "vllm:", "layer": "model", "bad": "down"},
        {"regex": r"^app\.q\.(\w+)$", "layer": "quality", "rename": r"\1"}])
    mapper = MetricMapper(options)
    assert mapper.map("vllm:num_requests_waiting").layer == "model"
    assert (mapper.map("app.q.groundedness").name, mapper.map("app.q.groundedness").bad) == (
        "groundedness", "down")


def test_bad_rules_fail_the_catalog_with_the_path() -> None:
    with pytest.raises(CatalogError, match=r"otel\.rules\[0\]: .*does not compile"):
        parse_catalog({"otel": {"rules": [{"regex": "([", "layer": "quality"}]}})
    with pytest.raises(CatalogError, match=r"otel\.rules\[0\]: .*exactly one of"):
        parse_catalog({"otel": {"rules": [{"layer": "quality"}]}})


def test_quantile_samples_stay_within_the_bucket_width() -> None:
    """The documented error: each sample lies within the bucket that holds its rank."""
    rng = np.random.default_rng(1)
    values = rng.gamma(3.0, 50.0, size=5000)
    bounds = [0, 10, 25, 50, 75, 100, 150, 200, 300, 500, 1000]
    counts, _ = np.histogram(values, bins=[-np.inf, *bounds, np.inf])
    histogram = buckets.explicit(bounds, counts, minimum=values.min(), maximum=values.max())
    samples = np.asarray(buckets.samples(histogram))
    assert samples.size == 512
    ranks = (np.arange(512) + 0.5) / 512
    truth = np.quantile(values, ranks)
    edges = np.asarray([values.min(), *bounds, values.max()])
    width = np.diff(edges)[np.clip(np.searchsorted(edges, truth) - 1, 0, len(bounds))]
    assert np.all(np.abs(samples - truth) <= width + 1e-9)


def test_exponential_buckets_have_relative_error_under_base_minus_one() -> None:
    scale = 3
    base = 2 ** (2 ** -scale)
    rng = np.random.default_rng(2)
    values = rng.lognormal(2.0, 1.0, size=4000)
    index = np.ceil(np.log(values) / np.log(base)).astype(int) - 1
    positive: dict[int, float] = {}
    for i in index:
        positive[int(i)] = positive.get(int(i), 0.0) + 1.0
    histogram = buckets.exponential(scale, positive=positive, negative={}, zero_count=0)
    for q in (0.1, 0.5, 0.9, 0.99):
        estimate = float(buckets.quantiles(histogram, [q])[0])
        truth = float(np.quantile(values, q))
        assert abs(estimate - truth) / truth < base - 1


def test_cumulative_histograms_subtract_and_reset() -> None:
    first = ExplicitHistogram((1.0,), (2.0, 3.0), 5.0, 10.0)
    second = ExplicitHistogram((1.0,), (4.0, 3.0), 7.0, 12.0)
    step = temporality.cumulative(None, start_ns=1, time_ns=2, value=first,
                                  first_max_age_ns=10**12)
    step = temporality.cumulative(step.state, start_ns=1, time_ns=3, value=second,
                                  first_max_age_ns=10**12)
    assert step.amount == ExplicitHistogram((1.0,), (2.0, 0.0), 2.0, 2.0)
    restarted = temporality.cumulative(step.state, start_ns=5, time_ns=6, value=first,
                                       first_max_age_ns=10**12)
    assert restarted.amount == first  # a new start: everything since it, not a negative count
    changed = temporality.cumulative(
        restarted.state, start_ns=5, time_ns=7,
        value=ExplicitHistogram((2.0,), (9.0, 0.0), 9.0), first_max_age_ns=10**12)
    assert changed.amount is None and "bounds changed" in (changed.note or "")
