"""The screen before the shift detectors: which series could show a practical shift.

Most series of an incident (the healthy signals and their slices) are quiet, and a
full :func:`classifiers.shifts.robust_shift` on each would cost most of a diagnosis;
a split statistic over their point noise rules them out in a few matrix passes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from bot.diagnosis.assemble import Series
from classifiers.robust import MAD_TO_SD, row_deviations, row_median_side, row_medians

_SCREEN_ROWS = 24  # series screened per matrix: temporaries stay small and are reused


def screen(series: list[Series]) -> dict[int, bool]:
    """A cheap screen: can any split of a series show a practical shift at all?

    A finding needs a shift of MIN_GAUGE_EFFECT point SDs over at least 5 points, so
    the best two-level split statistic must reach about 3 * sqrt(5) ~ 6.7 noise SDs;
    a sustained move (:func:`bot.diagnosis.detect.sustained_move`: 1.5 SDs held for
    30 points after at least 60) reaches 1.5 * sqrt(30 * 60 / 90) ~ 6.7 as well;
    below 4.5 the full detector (baseline fits, CUSUM) cannot find one and is skipped.
    Series of equal length are screened together, a few dozen rows per matrix, which
    keeps hundreds of healthy slice series cheap without building one large matrix
    (large temporaries are returned to the OS and faulted back in on every call).
    Returns ``id(series) -> worth a full test``.
    """
    by_length: dict[tuple[int, np.dtype], list[Series]] = {}
    for s in series:  # one dtype per group: its matrices have the dtype np.vstack gives
        by_length.setdefault((s.values.size, s.values.dtype), []).append(s)
    verdict: dict[int, bool] = {}
    for (n, kind), group in by_length.items():
        if n < 12:
            verdict.update({id(s): True for s in group})
            continue
        # split statistic at k: (mean after - mean before) * sqrt(k (n - k) / n), written
        # as |total * a_k - head_k * b_k| with the per-k factors computed once
        k = np.arange(5, n - 4)
        scale = np.sqrt(k * (n - k) / n)
        a = scale / (n - k)
        b = a + scale / k
        work = _ScreenWork.of(min(len(group), _SCREEN_ROWS), n, kind, b.dtype)
        for i in range(0, len(group), _SCREEN_ROWS):
            rows = group[i:i + _SCREEN_ROWS]
            verdict.update(zip(map(id, rows), _screen_rows(rows, n, a, b, work), strict=True))
    return verdict


class _ScreenWork(NamedTuple):
    """The matrices of :func:`_screen_rows`, allocated once per length and reused.

    A matrix of 24 series of a day of minutes is ~280 kB, above the size at which
    the allocator maps fresh pages for it: built anew for each block of rows, every
    temporary is faulted in page by page, which cost more than the arithmetic on it
    (about five times, for the split statistics).
    """

    values: np.ndarray   # the rows, then their running sums (in place)
    diffs: np.ndarray    # first differences, partitioned for their MAD
    split: np.ndarray    # the split statistic at every k
    total: np.ndarray    # the total's share of it
    pairs: np.ndarray | None  # float64 rows two by two, as complex numbers (else None)

    @classmethod
    def of(cls, rows: int, n: int, kind: np.dtype, factor: np.dtype) -> _ScreenWork:
        wide = np.result_type(kind, factor)  # the products' dtype
        pairs = np.empty((rows // 2, n, 2)) if np.dtype(kind) == np.float64 else None
        return cls(np.empty((rows, n), kind), np.empty((rows, n - 1), kind),
                   np.empty((rows, n - 9), wide), np.empty((rows, n - 9), wide), pairs)


def _running_sums(y: np.ndarray, pairs: np.ndarray | None) -> np.ndarray:
    """``np.cumsum(y, axis=1)``, in place: the same numbers, in about two thirds the time.

    A running sum is a chain of additions, each waiting for the one before, so numpy
    sums a row at a few ns a point however many rows there are. Two float64 rows
    side by side are the real and imaginary parts of one complex row, whose running
    sum adds the parts separately (IEEE additions in the same order: the same bits)
    and runs two chains at once. An odd last row is summed on its own.
    """
    half = y.shape[0] // 2
    if pairs is None or half == 0:
        return np.cumsum(y, axis=1, out=y)
    both = pairs[:half]  # C-contiguous: its last axis is the complex number's parts
    both[:, :, 0] = y[0:2 * half:2]
    both[:, :, 1] = y[1:2 * half:2]
    z = both.view(np.complex128)[..., 0]
    np.cumsum(z, axis=1, out=z)
    y[0:2 * half:2] = both[:, :, 0]
    y[1:2 * half:2] = both[:, :, 1]
    if y.shape[0] % 2:
        np.cumsum(y[-1], out=y[-1])
    return y


def _screen_rows(rows: list[Series], n: int, a: np.ndarray, b: np.ndarray,
                 work: _ScreenWork) -> list[bool]:
    """:func:`screen` of a few series of length ``n``: worth a full test, each.

    Every temporary is a block of ``work`` and is worked on in place (the
    differences are partitioned for their median, the values summed into their
    running sums), and the largest |statistic| is read as the larger of the largest
    and minus the smallest value, without an array of absolute values: the same
    numbers as ``np.vstack``, ``np.diff`` and fresh products, fewer passes and no new
    pages. The noise's MAD is not taken: :func:`_quiet` counts the deviations under
    the MAD the verdict turns on.
    """
    r = len(rows)
    y = work.values[:r]  # the first rows of a C-contiguous block: contiguous too
    np.stack([s.values for s in rows], out=y)
    d = np.subtract(y[:, 1:], y[:, :-1], out=work.diffs[:r])
    deviations = _deviations(d)  # d is ours
    c = _running_sums(y, work.pairs)
    t = np.multiply(c[:, 4:n - 5], b, out=work.split[:r])
    t -= np.multiply(c[:, -1:], a, out=work.total[:r])
    best = np.maximum(t.max(axis=1), -t.min(axis=1))
    return _verdicts(deviations, best).tolist()


CENTER_STEP = 4  # the differences' center is the median of every 4th of them


def _deviations(d: np.ndarray) -> np.ndarray:
    """``|d - center|`` of each row of first differences, in place (``d`` is ours).

    The center is the median of every ``CENTER_STEP``-th difference, not of all of
    them: a partition of a quarter of the values instead of all (it was a fifth of
    the screen). The MAD the verdict turns on is still counted over every difference;
    only its center moves, by about 1.25 / sqrt(n / 4) of the differences' SD (0.07
    on a day of minutes), which moves the MAD by under 2 % (0.7 % on average),
    against the margin from the screen's 4.5 to the 6.7 noise SDs a finding needs.
    Short rows (fewer than 48 differences) take their full median, as before.
    """
    if d.shape[1] < 12 * CENTER_STEP or d.dtype.kind != "f":
        return row_deviations(d, scratch=True)
    centers = row_medians(d[:, ::CENTER_STEP])
    np.subtract(d, centers[:, None], out=d)
    np.abs(d, out=d)
    return d


_NOISE_SCALE = MAD_TO_SD / math.sqrt(2.0)  # the MAD of differences to a point's SD
_MARGIN = 1e-6  # relative: bounds this far either side of the MAD a verdict turns on


def _noise(mad: np.ndarray) -> np.ndarray:
    """The point noise of a MAD of first differences, as :func:`row_robust_sd` / sqrt 2."""
    return (MAD_TO_SD * mad) / math.sqrt(2.0)


def _worth(noise: np.ndarray, best: np.ndarray) -> np.ndarray:
    """The verdict of a noise and a best split statistic (both per row)."""
    ok = (noise <= 0) | (best >= 4.5 * np.where(noise > 0, noise, 1.0))
    ok |= ~np.isfinite(best) | ~np.isfinite(noise)  # unscreenable: test in full
    return ok


def _verdicts(deviations: np.ndarray, best: np.ndarray) -> np.ndarray:
    """:func:`_worth` of each row's MAD (the median of its ``deviations``), exactly.

    The verdict is monotone in the MAD: worth a test up to a MAD of about
    ``best / 4.5 / _NOISE_SCALE``, not above. Bounds a hair either side of it whose
    verdicts are checked (the float rounding of the noise included) are compared
    with the MAD by counting (:func:`classifiers.robust.row_median_side`); the rare
    row the counts cannot place (an even count straddling them, non-finite values),
    gets its MAD by a partition, as before.
    """
    kind = deviations.dtype
    if kind.kind != "f":
        return _worth(_noise(_row_mads(deviations)), best)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        turn = best / (4.5 * _NOISE_SCALE)
        low = (turn * (1 - _MARGIN)).astype(kind)
        high = np.nextafter((turn * (1 + _MARGIN)).astype(kind), kind.type(np.inf))
        side = row_median_side(deviations, low, high)
        # the bounds must have the verdicts they stand for, and the values be finite
        sure = _worth(_noise(low), best) & ~_worth(_noise(high), best)
    side[~(sure & np.isfinite(deviations).all(axis=1))] = 0
    side[~np.isfinite(best)] = -1  # worth a test whatever the noise
    unknown = side == 0
    if unknown.any():
        rest = np.flatnonzero(unknown)
        side[rest] = np.where(_worth(_noise(_row_mads(deviations[rest])), best[rest]), -1, 1)
    return side < 0


def _row_mads(deviations: np.ndarray) -> np.ndarray:
    """The median of each row of ``deviations`` (a copy of those rows is partitioned)."""
    return row_medians(deviations)
