"""Input validation shared by the detectors: ``<name>_iv`` helpers that return clean arrays.

Each helper checks options first and names the parameter and the bad value in its
error, so a caller sees ``min_segment must be an integer >= 1, got 0`` rather than
a numpy traceback three frames deep. The module is private to ``classifiers`` (its
callers are the detectors, not users); its names are public within the package.
"""

from __future__ import annotations

import numpy as np

from classifiers.arrays import Floats


def as_1d(name: str, values: object) -> Floats:
    """``values`` as a one-dimensional float array (a scalar becomes one value)."""
    array: Floats = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def positive_int_iv(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def direction_iv(direction: object) -> str:
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
    return str(direction)


def shift_iv(values: object, times: object, min_segment: object, direction: object
             ) -> tuple[Floats, Floats | None, int, str]:
    """Finite values (NaN and inf dropped, with their times), options checked."""
    segment = positive_int_iv("min_segment", min_segment)
    side = direction_iv(direction)
    y = as_1d("values", values)
    t = None
    if times is not None:
        t = as_1d("times", times)
        if t.shape != y.shape:
            raise ValueError(f"times must match values in length, got {t.size} and {y.size}")
    keep = np.isfinite(y) if t is None else np.isfinite(y) & np.isfinite(t)
    if not keep.all():
        y = y[keep]
        t = None if t is None else t[keep]
    return y, t, segment, side


def rate_iv(rates: object, counts: object, min_segment: object, direction: object
            ) -> tuple[Floats, Floats, int, str]:
    """Event and trial counts from rates in 0..1 and their denominators."""
    segment = positive_int_iv("min_segment", min_segment)
    side = direction_iv(direction)
    p = as_1d("rates", rates)
    n = as_1d("counts", counts)
    if p.shape != n.shape:
        raise ValueError(f"counts must match rates in length, got {n.size} and {p.size}")
    keep = np.isfinite(p) & np.isfinite(n) & (n > 0)
    p, n = p[keep], n[keep]
    if np.any((p < 0) | (p > 1)):
        bad = p[(p < 0) | (p > 1)][0]
        raise ValueError(f"rates must lie in 0..1, got {bad!r}")
    return p * n, n, segment, side


def counts_iv(name: str, counts: object) -> dict[str, float]:
    if not isinstance(counts, dict):
        raise ValueError(f"{name} must be a mapping of category to count, "
                         f"got {type(counts).__name__}")
    clean: dict[str, float] = {}
    for key, value in counts.items():
        number = float(value)
        if not np.isfinite(number) or number < 0:
            raise ValueError(f"{name}[{key!r}] must be a finite count >= 0, got {value!r}")
        clean[str(key)] = number
    return clean
