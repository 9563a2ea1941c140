"""A compact history of one series: what its normal level and cycle are, from days of it.

The watch tests the latest points of a series against what that series usually
does at that hour, so the baseline must come from days of history, not from the
few hours being tested. Keeping every point is too much for a watch that runs
every minute over hundreds of series; this keeps half-hour means for three weeks
(1,008 numbers, whatever the resolution: 15-second and hourly series alike),
from which the level, the daily cycle (with two days seen) and the weekly cycle
(with two weeks seen) are fitted by medians, and the smallest step between
values seen (the series' quantisation, which floors its noise).

Pure: numpy arrays in, a frozen :class:`SeriesHistory` out; the caller stores it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from classifiers.arrays import Floats, Ints
from classifiers.frozen import build

BUCKET_SECONDS = 1800.0
HISTORY_BUCKETS = 1008            # three weeks of half-hours
DAY_BINS = int(86400 / BUCKET_SECONDS)
WEEK_BINS = 7 * DAY_BINS
LEVEL_SECONDS = 6 * 3600.0        # the level is the median of the last six hours' buckets
LEVEL_POINTS = 24                 # ... or of the last 24 points, on coarse series
RELATIVE_FLOOR = 1e-4            # noise is never taken below this share of the level
FOLD_MIN = 2                      # values per bin before a cycle is read
CYCLE_GAIN = 0.8                  # a cycle is kept only if it takes 20 % off the spread
_EPOCH_MONDAY = 4 * 86400.0       # 1970-01-01 was a Thursday: week bins start on Monday


@dataclass(frozen=True)
class SeriesHistory:
    """Half-hour means of one series and what is fitted from them.

    ``keys`` holds the absolute half-hour number of each slot of the ring (-1 when
    empty), ``means`` its mean value. ``open_key``/``open_sum``/``open_count`` are the
    half-hour being filled. ``cycle`` is the fitted cycle (``DAY_BINS`` or ``WEEK_BINS``
    values, or empty), ``level`` the deseasonalised level of the recent buckets (NaN
    until three buckets have closed). ``quantum`` is the smallest nonzero difference
    between consecutive values seen (inf until one was), ``resolution`` the decimal
    resolution of the values (1 for integers, 0.01 for cents, ...), ``step`` the
    typical seconds between points.
    """

    keys: Ints
    means: Floats
    open_key: int = -1
    open_sum: float = 0.0
    open_count: int = 0
    cycle: Floats = field(default_factory=lambda: np.zeros(0))
    level: float = math.nan
    quantum: float = math.inf
    resolution: float = 1.0
    step: float = math.nan
    last_time: float = -math.inf
    last_value: float = math.nan
    smooth: bool = True  # read the cycle as ramps (True) or half-hour steps

    @classmethod
    def empty(cls) -> SeriesHistory:
        return cls(keys=np.full(HISTORY_BUCKETS, -1, dtype=np.int64),
                   means=np.full(HISTORY_BUCKETS, np.nan))

    def seasonal(self, t: float) -> float:
        """The cycle's offset at time ``t`` (0 without a fitted cycle).

        :meth:`seasonal_at` on one time, in scalar arithmetic: the watch asks this
        once per point, where array set-up would cost more than the reading.
        """
        size = self.cycle.size
        if size == 0:
            return 0.0
        origin = 0.0 if size == DAY_BINS else _EPOCH_MONDAY
        position = (float(t) - origin) / BUCKET_SECONDS
        if not self.smooth:
            return float(self.cycle[int(math.floor(position)) % size])
        position -= 0.5
        first = math.floor(position)
        share = position - first
        k = int(first) % size
        return float((1.0 - share) * self.cycle[k] + share * self.cycle[(k + 1) % size])

    def seasonal_at(self, t: Floats, smooth: bool | None = None) -> Floats:
        """The cycle's offsets at times ``t``: per half-hour, or linear between centres.

        A cycle of ramps wants the linear reading (half-hour steps would leave the
        slope in every bin's residuals, of one sign for minutes on end, which reads
        as a shift); a cycle of sharp steps wants the steps (a line across an edge
        misses both sides). ``smooth`` says which (default: the fitted choice).
        """
        size = self.cycle.size
        if size == 0:
            return np.zeros(np.shape(t))
        origin = 0.0 if size == DAY_BINS else _EPOCH_MONDAY
        position = (np.asarray(t, dtype=float) - origin) / BUCKET_SECONDS
        if not (self.smooth if smooth is None else smooth):
            return self.cycle[position.astype(np.int64) % size]
        position -= 0.5
        first = np.floor(position)
        share = position - first
        k = first.astype(np.int64) % size
        return (1.0 - share) * self.cycle[k] + share * self.cycle[(k + 1) % size]

    def with_reading(self, times: Floats, values: Floats) -> SeriesHistory:
        """This history with the cycle's reading (steps or ramps) that fits ``values`` best."""
        if self.cycle.size == 0 or values.size < 8:
            return self
        errors = [float(np.median(np.abs(values - self.level - self.seasonal_at(times, s))))
                  for s in (False, True)]
        return replace(self, smooth=errors[1] < errors[0])

    def expected(self, t: float) -> float:
        """What the series usually reads at ``t``: level plus cycle (NaN without a level)."""
        return self.level + self.seasonal(t)

    def noise_floor(self, level: float = 0.0) -> float:
        """Half the smallest step the series takes (else half its decimal resolution),
        and at least ``RELATIVE_FLOOR`` of its level.

        A value read to one decimal cannot be noisier than that; a series that never
        moved has its resolution as its only measure of what a change is; and a
        reading of 12.0000001 after a day of 12.0 is float jitter, not a change of
        millions of noise units (exporters carry five or six significant digits).
        """
        step = self.quantum if math.isfinite(self.quantum) else self.resolution
        magnitude = abs(level) if math.isfinite(level) else 0.0
        return max(0.5 * step, RELATIVE_FLOOR * magnitude)


FINEST_RESOLUTION = 1e-6  # what :func:`decimal_resolution` reads at the finest


def decimal_resolution(values: Floats) -> float:
    """The coarsest power of ten that all ``values`` are multiples of (1e-6 at least)."""
    v = np.abs(values[np.isfinite(values)])
    if v.size == 0:
        return 1.0
    for digits in range(0, 7):
        scaled = v * 10.0 ** digits
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(scaled, 1.0)):
            return 10.0 ** -digits
    return FINEST_RESOLUTION


def _median(x: Floats) -> float:
    return float(np.median(x)) if x.size else math.nan


def _mad(x: Floats) -> float:
    return float(np.median(np.abs(x - np.median(x)))) if x.size else math.nan


def _fold(keys: Ints, values: Floats, bins: int, offset: float,
          least: int = FOLD_MIN) -> Floats | None:
    """Median per bin of the cycle (NaN-free), or None when bins lack two values each.

    Bins a series never reports in (an hourly series fills every other half-hour)
    take the value of the bin before them; the others need two values each, else
    there is no cycle to speak of yet. Values are grouped by bin with one sort,
    then each bin's median is read from its run, cheaper than a median per bin.
    """
    b = ((keys * BUCKET_SECONDS - offset) // BUCKET_SECONDS).astype(np.int64) % bins
    counts = np.bincount(b, minlength=bins)
    used = counts > 0
    if np.mean(used) < 0.25 or np.mean(counts[used] >= least) < 0.8:
        return None
    order = np.lexsort((values, b))
    sorted_values, sorted_bins = values[order], b[order]
    starts = np.searchsorted(sorted_bins, np.arange(bins), side="left")
    ends = np.searchsorted(sorted_bins, np.arange(bins), side="right")
    out = np.full(bins, np.nan)
    has = ends > starts
    lo = (starts + ends - 1) // 2
    hi = (starts + ends) // 2
    out[has] = 0.5 * (sorted_values[lo[has]] + sorted_values[hi[has]])
    if not np.all(has):
        filled = np.flatnonzero(has)
        before = np.searchsorted(filled, np.arange(bins), side="right") - 1
        out = out[filled[before % filled.size]]
    return out


CYCLE_REFIT = 4  # the cycle is refitted every fourth half-hour, the level every one


def _bins(k: Ints, size: int) -> Ints:
    offset = 0.0 if size == DAY_BINS else _EPOCH_MONDAY
    return ((k * BUCKET_SECONDS - offset) // BUCKET_SECONDS).astype(np.int64) % size


def _usable(keys: Ints, means: Floats) -> tuple[Ints, Floats]:
    ok = (keys >= 0) & (keys > keys.max() - HISTORY_BUCKETS)
    return keys[ok], means[ok]


def _fit_cycle(keys: Ints, means: Floats) -> Floats:
    """The daily or weekly cycle of the buckets, if it takes 20 % off their spread."""
    k, v = _usable(keys, means)
    cycle = np.zeros(0)
    if v.size < FOLD_MIN * DAY_BINS // 2:
        return cycle
    best = _mad(v)
    for bins, offset in ((DAY_BINS, 0.0), (WEEK_BINS, _EPOCH_MONDAY)):
        if bins == WEEK_BINS and (k.max() - k.min()) < FOLD_MIN * WEEK_BINS - DAY_BINS:
            continue
        profile = _fold(k, v, bins, offset)
        if profile is None:
            continue
        # judged out of sample: the cycle of the even days (weeks) must explain the odd
        # ones and the other way round, or a cycle would be read into pure noise
        parity = ((k * BUCKET_SECONDS - offset) // (bins * BUCKET_SECONDS)).astype(np.int64) % 2
        left = 0.0
        for side in (0, 1):
            part = _fold(k[parity == side], v[parity == side], bins, offset, least=1)
            if part is None:
                left = math.inf
                break
            other = parity != side
            left += 0.5 * _mad(v[other] - part[_bins(k[other], bins)])
        if left <= CYCLE_GAIN * best:
            cycle, best = profile - _median(profile), left
    return cycle


def _fit_level(keys: Ints, means: Floats, cycle: Floats, step: float) -> float:
    """The median of the recent buckets less the cycle (NaN with fewer than three)."""
    k, v = _usable(keys, means)
    if k.size == 0:
        return math.nan
    span = max(LEVEL_SECONDS, LEVEL_POINTS * (step if math.isfinite(step) else 0.0))
    recent = k >= k.max() - span / BUCKET_SECONDS
    if np.count_nonzero(recent) < 3:
        return math.nan
    k, v = k[recent], v[recent]
    if cycle.size:
        v = v - cycle[_bins(k, cycle.size)]
    return _median(v)


def add_points(history: SeriesHistory, times: Floats | Sequence[float],
               values: Floats | Sequence[float]) -> SeriesHistory:
    """``history`` with the points of ``times``/``values`` (time-ordered, newer) added.

    A plain loop over scalars: the watch adds a few points per series per run, where
    array set-up would cost more than the arithmetic.
    """
    times = times.tolist() if isinstance(times, np.ndarray) else list(times)
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if not times:
        return history
    keys, means = history.keys, history.means
    open_key, open_sum, open_count = history.open_key, history.open_sum, history.open_count
    step, quantum, resolution = history.step, history.quantum, history.resolution
    last_t, last_v = history.last_time, history.last_value
    closed, copied, recycle = False, False, False
    for t, y in zip(times, values, strict=True):
        key = int(t // BUCKET_SECONDS)
        if key != open_key:
            if open_count:
                if not copied:
                    keys, means, copied = keys.copy(), means.copy(), True
                slot = open_key % HISTORY_BUCKETS
                keys[slot], means[slot] = open_key, open_sum / open_count
                closed = True
                # the cycle is refitted every two hours, or every eight points on
                # coarse series (an hourly series closes a half-hour at every point)
                every = CYCLE_REFIT if not math.isfinite(step) else max(
                    CYCLE_REFIT, math.ceil(8.0 * step / BUCKET_SECONDS))
                recycle = recycle or key // every != open_key // every
            open_key, open_sum, open_count = key, 0.0, 0
        open_sum += y
        open_count += 1
        if math.isfinite(last_t) and t > last_t:
            gap = t - last_t
            # a gap in the data is not a new resolution: each gap moves the step a little
            step = gap if not math.isfinite(step) else 0.9 * step + 0.1 * min(
                max(gap, 0.5 * step), 2.0 * step)
        if math.isfinite(last_v) and y != last_v:
            quantum = min(quantum, abs(y - last_v))
        # a series of unrounded floats is at the finest resolution after its first
        # point: no reading of a value can take it lower (nor cost the numpy calls)
        if resolution > FINEST_RESOLUTION:
            scaled = abs(y) / resolution
            if abs(scaled - round(scaled)) > 1e-6 * max(scaled, 1.0):
                resolution = min(resolution, decimal_resolution(np.array([y])))
        last_t, last_v = t, y
    cycle, level = history.cycle, history.level
    if recycle:
        cycle = _fit_cycle(keys, means)
    if closed or not math.isfinite(level):
        level = _fit_level(keys, means, cycle, step)
    # every field given: built directly (:func:`classifiers.frozen.build`), cheaper than
    # ``replace`` or the constructor once a point a series
    return build(SeriesHistory, {
        "keys": keys, "means": means, "open_key": open_key, "open_sum": open_sum,
        "open_count": open_count, "cycle": cycle, "level": level, "quantum": quantum,
        "resolution": resolution, "step": step, "last_time": last_t, "last_value": last_v,
        "smooth": history.smooth})
