"""Histograms as quantile samples: what the distribution records need from bucket counts.

An OTLP histogram says how many observations fell in each bucket, not where.
The samples are the histogram's quantile function read at ``M`` evenly spaced
ranks, ``(k + 1/2) / M`` for ``k < M``, ``M = min(count, size)``, assuming the
observations of a bucket are spread evenly across it (the assumption of
Prometheus' ``histogram_quantile``).

Error, documented in docs/otel.md: a sample's rank is exact to ``1/(2M)``; its
value lies inside the bucket that holds that rank, so it is off by at most that
bucket's width (for exponential histograms, a relative error under
``base - 1 = 2**(2**-scale) - 1``). The open-ended buckets are closed by the
point's ``min`` and ``max`` when the exporter sends them, else collapsed onto
their finite bound, so quantiles in them are clamped there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SAMPLES = 512  # the stored sketch size (store.signal_models.SKETCH_SIZE)


@dataclass(frozen=True)
class Buckets:
    """A histogram as intervals ``(low, high]`` with counts, in ascending order."""

    lows: tuple[float, ...]
    highs: tuple[float, ...]
    counts: tuple[float, ...]
    min: float | None = None
    max: float | None = None
    sum: float | None = None

    @property
    def total(self) -> float:
        return float(sum(self.counts))


def explicit(bounds: Sequence[float], counts: Sequence[float], *, minimum: float | None = None,
             maximum: float | None = None, total: float | None = None) -> Buckets:
    """Explicit-bucket histogram: ``len(counts) == len(bounds) + 1`` (checked by the caller)."""
    edges = [float("-inf"), *map(float, bounds), float("inf")]
    return Buckets(tuple(edges[:-1]), tuple(edges[1:]), tuple(float(c) for c in counts),
                   minimum, maximum, total)


def exponential(scale: int, *, positive: Mapping[int, float], negative: Mapping[int, float],
                zero_count: float, zero_threshold: float = 0.0, minimum: float | None = None,
                maximum: float | None = None, total: float | None = None) -> Buckets:
    """Exponential histogram: bucket ``i`` holds ``(base**i, base**(i+1)]``, mirrored below 0.

    ``base = 2**(2**-scale)``; ``positive``/``negative`` map bucket index to count.
    """
    step = 2.0 ** -scale
    lows: list[float] = []
    highs: list[float] = []
    counts: list[float] = []
    for index in sorted(negative, reverse=True):
        if negative[index]:
            lows.append(-float(np.exp2((index + 1) * step)))
            highs.append(-float(np.exp2(index * step)))
            counts.append(float(negative[index]))
    if zero_count:
        lows.append(-abs(zero_threshold))
        highs.append(abs(zero_threshold))
        counts.append(float(zero_count))
    for index in sorted(positive):
        if positive[index]:
            lows.append(float(np.exp2(index * step)))
            highs.append(float(np.exp2((index + 1) * step)))
            counts.append(float(positive[index]))
    return Buckets(tuple(lows), tuple(highs), tuple(counts), minimum, maximum, total)


def merge(histograms: Sequence[Buckets]) -> Buckets:
    """Several histograms of one signal and slice at one time, as one.

    Same bucket layout: counts add. Different layouts (exponential histograms of
    different scales, say): the intervals are pooled, which keeps every
    observation in an interval that holds it.
    """
    first = histograms[0]
    if all(h.lows == first.lows and h.highs == first.highs for h in histograms):
        counts = tuple(float(sum(cs)) for cs in zip(*(h.counts for h in histograms), strict=True))
        lows, highs = first.lows, first.highs
    else:
        pooled = sorted((lo, hi, c) for h in histograms
                        for lo, hi, c in zip(h.lows, h.highs, h.counts, strict=True))
        lows = tuple(p[0] for p in pooled)
        highs = tuple(p[1] for p in pooled)
        counts = tuple(p[2] for p in pooled)
    mins = [h.min for h in histograms if h.min is not None]
    maxs = [h.max for h in histograms if h.max is not None]
    sums = [h.sum for h in histograms if h.sum is not None]
    return Buckets(lows, highs, counts, min(mins) if mins else None,
                   max(maxs) if maxs else None,
                   float(sum(sums)) if len(sums) == len(histograms) else None)


def quantiles(buckets: Buckets, ranks: Sequence[float] | np.ndarray) -> np.ndarray:
    """The histogram's quantile function at ``ranks`` (each in 0..1), by linear interpolation."""
    counts = np.asarray(buckets.counts, dtype=float)
    total = counts.sum()
    if total <= 0:
        return np.empty(0)
    lows = np.asarray(buckets.lows, dtype=float)
    highs = np.asarray(buckets.highs, dtype=float)
    # Close the open ends with the observed extremes, else collapse them onto the bound.
    low_fill = buckets.min if buckets.min is not None else None
    high_fill = buckets.max if buckets.max is not None else None
    lows = np.where(np.isneginf(lows), highs if low_fill is None else min(low_fill, highs[0]),
                    lows)
    highs = np.where(np.isposinf(highs), lows if high_fill is None else max(high_fill, lows[-1]),
                     highs)
    cumulative = np.cumsum(counts)
    target = np.asarray(ranks, dtype=float) * total
    index = np.clip(np.searchsorted(cumulative, target, side="left"), 0, counts.size - 1)
    before = cumulative[index] - counts[index]
    inside = np.divide(target - before, counts[index], out=np.zeros_like(target),
                       where=counts[index] > 0)
    values = lows[index] + np.clip(inside, 0.0, 1.0) * (highs[index] - lows[index])
    if buckets.min is not None:
        values = np.maximum(values, buckets.min)
    if buckets.max is not None:
        values = np.minimum(values, buckets.max)
    return values


def samples(buckets: Buckets, size: int = SAMPLES) -> list[float]:
    """``min(count, size)`` quantile samples at evenly spaced ranks (see the module text)."""
    total = buckets.total
    m = int(min(round(total), size))
    if m <= 0:
        return []
    ranks = (np.arange(m) + 0.5) / m
    return [float(v) for v in quantiles(buckets, ranks)]
