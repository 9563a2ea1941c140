"""What one OTLP data point carries, as values that subtract: sums and the two histograms.

Cumulative streams become per-interval amounts by subtracting the previous
point; these types say how, and when they cannot (a count went down: the
stream was reset; the bucket layout changed: the points do not compare).
Each has a JSON form, because the previous point is stored (see ``temporality``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.otel import buckets


class Incomparable(ValueError):
    """Two points of a stream that cannot be subtracted (bucket layout changed)."""


@dataclass(frozen=True)
class ExplicitHistogram:
    bounds: tuple[float, ...]
    counts: tuple[float, ...]
    count: float
    sum: float | None = None
    min: float | None = None
    max: float | None = None

    def minus(self, earlier: ExplicitHistogram) -> ExplicitHistogram | None:
        """This point less an earlier one; ``None`` when a count went down (a reset)."""
        if self.bounds != earlier.bounds:
            raise Incomparable("the bucket bounds changed")
        counts = tuple(a - b for a, b in zip(self.counts, earlier.counts, strict=True))
        if any(c < 0 for c in counts) or self.count < earlier.count:
            return None
        total = None if self.sum is None or earlier.sum is None else self.sum - earlier.sum
        return ExplicitHistogram(self.bounds, counts, self.count - earlier.count, total)

    def to_buckets(self) -> buckets.Buckets:
        return buckets.explicit(self.bounds, self.counts, minimum=self.min, maximum=self.max,
                                total=self.sum)

    def to_json(self) -> dict[str, Any]:
        return {"h": "explicit", "bounds": list(self.bounds), "counts": list(self.counts),
                "count": self.count, "sum": self.sum}


def _downscale(counts: Mapping[int, float], by: int) -> dict[int, float]:
    """Bucket counts at a scale ``by`` lower: ``2**by`` neighbours merge (index >> by)."""
    out: dict[int, float] = {}
    for index, count in counts.items():
        out[index >> by] = out.get(index >> by, 0.0) + count
    return out


@dataclass(frozen=True)
class ExponentialHistogram:
    scale: int
    positive: Mapping[int, float]
    negative: Mapping[int, float]
    zero_count: float
    count: float
    zero_threshold: float = 0.0
    sum: float | None = None
    min: float | None = None
    max: float | None = None

    def at_scale(self, scale: int) -> ExponentialHistogram:
        if scale == self.scale:
            return self
        by = self.scale - scale
        return ExponentialHistogram(scale, _downscale(self.positive, by),
                                    _downscale(self.negative, by), self.zero_count, self.count,
                                    self.zero_threshold, self.sum)

    def minus(self, earlier: ExponentialHistogram) -> ExponentialHistogram | None:
        """This point less an earlier one, both at the lower of the two scales."""
        scale = min(self.scale, earlier.scale)
        a, b = self.at_scale(scale), earlier.at_scale(scale)
        if a.zero_threshold != b.zero_threshold:
            raise Incomparable("the zero threshold changed")
        positive = {i: a.positive.get(i, 0.0) - b.positive.get(i, 0.0)
                    for i in set(a.positive) | set(b.positive)}
        negative = {i: a.negative.get(i, 0.0) - b.negative.get(i, 0.0)
                    for i in set(a.negative) | set(b.negative)}
        zero = a.zero_count - b.zero_count
        if (zero < 0 or a.count < b.count or any(c < 0 for c in positive.values())
                or any(c < 0 for c in negative.values())):
            return None
        total = None if a.sum is None or b.sum is None else a.sum - b.sum
        return ExponentialHistogram(scale, {i: c for i, c in positive.items() if c},
                                    {i: c for i, c in negative.items() if c}, zero,
                                    a.count - b.count, a.zero_threshold, total)

    def to_buckets(self) -> buckets.Buckets:
        return buckets.exponential(self.scale, positive=self.positive, negative=self.negative,
                                   zero_count=self.zero_count,
                                   zero_threshold=self.zero_threshold, minimum=self.min,
                                   maximum=self.max, total=self.sum)

    def to_json(self) -> dict[str, Any]:
        return {"h": "exponential", "scale": self.scale, "zero": self.zero_count,
                "zt": self.zero_threshold, "count": self.count, "sum": self.sum,
                "pos": {str(k): v for k, v in self.positive.items()},
                "neg": {str(k): v for k, v in self.negative.items()}}


Amount = float | ExplicitHistogram | ExponentialHistogram


def minus(current: Amount, earlier: Amount) -> Amount | None:
    """``current - earlier``; ``None`` when it went down (a reset)."""
    if isinstance(current, float | int):
        if not isinstance(earlier, float | int):
            raise Incomparable("the point type changed")
        return None if current < earlier else float(current) - float(earlier)
    if isinstance(current, ExplicitHistogram) and isinstance(earlier, ExplicitHistogram):
        return current.minus(earlier)
    if isinstance(current, ExponentialHistogram) and isinstance(earlier, ExponentialHistogram):
        return current.minus(earlier)
    raise Incomparable("the point type changed")


def to_json(amount: Amount) -> dict[str, Any]:
    if isinstance(amount, float | int):
        return {"v": float(amount)}
    return amount.to_json()


def from_json(data: Mapping[str, Any]) -> Amount:
    if "v" in data:
        return float(data["v"])
    if data.get("h") == "explicit":
        return ExplicitHistogram(tuple(data["bounds"]), tuple(data["counts"]), data["count"],
                                 data.get("sum"))
    return ExponentialHistogram(int(data["scale"]),
                                {int(k): v for k, v in data["pos"].items()},
                                {int(k): v for k, v in data["neg"].items()}, data["zero"],
                                data["count"], data.get("zt", 0.0), data.get("sum"))
