"""The watch's own test: is the latest stretch of a series beyond what it usually does?

Each new point is compared with what its series usually reads at that hour (level
and cycle from :mod:`classifiers.series_history`), in units of the series' recent
noise (a robust spread of its residuals, floored by its quantisation, never by an
arbitrary 1e-9). The standardised residuals are summed over the last 1, 4, 16 and
64 points (a spike, a burst, a shift, a slow one: in points, so a 15-second and an
hourly series get the same test, the hourly one over more hours), and each sum is
compared with a threshold set from *that series' own history of that sum*: how
far it strays on ordinary days, with the tail beyond the top 5 % extrapolated as a
generalised Pareto (peaks over threshold; at least as heavy as an exponential),
never below the Gaussian quantile, from a heavy-tailed (Laplace) prior that the
series' own sums replace as they come. Excursions that recur several times within
half a day (a batch job, a plateau's steps) are the series' rhythm and do not alarm. The
threshold is the level such sums pass with probability ``q`` per point, where
``q`` spreads the false-alarm budget (alarms per week) over the points of a week,
the four sums and the directions that are tested, and shrinks when the series
raised more alarm episodes than its budget over the calibration's memory (a tail
heavier than the extrapolation: tweet counts, ad-exchange rates). Points that
raised an alarm are not learnt as ordinary. So the decision needs no label and no confidence: one
clearly failing signal is enough, and how often a healthy one trips is a setting.

Pure: numpy arrays in, frozen :class:`WatchState` and :class:`WatchVerdict` out.
The tails are read in :mod:`classifiers.watch_tails`, the state stored with
:mod:`classifiers.watch_codec`.

References
----------
.. [1] A. Siffer, P.-A. Fouque, A. Termier and C. Largouet, "Anomaly detection in
   streams with extreme value theory", KDD 2017 (thresholds from peaks over a high
   quantile, updated with the points that raised no alarm).
.. [2] J. Pickands, "Statistical inference using extreme order statistics", Ann.
   Statist. 3 (1975) 119-131 (the generalised Pareto tail; here its exponential case).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import numpy as np

from classifiers.arrays import Floats
from classifiers.frozen import build
from classifiers.robust import median, robust_sd
from classifiers.series_history import BUCKET_SECONDS, DAY_BINS, SeriesHistory, add_points
from classifiers.watch_tails import EDGES, PRIOR, WEEK, point_risk, sum_thresholds

SCALES = (1, 4, 16, 64)
RING = 256                    # recent points kept for the noise estimate
HELD_OUT = 16                 # the newest points are tested, not used for the noise
MIN_POINTS = 48               # points before a series is tested at all
MEMORY_SECONDS = 14 * 86400.0  # calibration forgets with this time constant ...
MEMORY_POINTS = 2000          # ... or this many points, whichever is longer
CLIP = 50.0                   # one residual adds at most this many noise units to a sum
_SQRT = np.sqrt(np.array(SCALES, dtype=float))
_REFRESH = 32                 # points between threshold refreshes
_NOISE_EVERY = 8              # points between noise refreshes
NOISE_MEMORY_SECONDS = 86400.0  # the noise in force is the last day's, smoothed
ALARM_WEIGHT = 0.0            # what an alarmed point weighs in the calibration ...
EPISODE_LEARN = 8             # ... for the first points of its episode (none after)
RHYTHM_SECONDS = 12 * 3600.0  # excursions this close together are the series' rhythm
EPISODE_GAP = 8               # points without an alarm that end an episode
EPISODES_KEPT = 8
NOISE_DAYS = 3.0              # the half-hourly noise profile remembers about three days
DIRECTIONS = ("up", "down", "both")


@dataclass(frozen=True)
class WatchState:
    """Everything the watch keeps of one series between runs (a few kilobytes).

    ``recent_times``/``recent_values`` are the last ``RING`` points; ``scores`` the
    last ``max(SCALES)`` standardised residuals; ``calibration`` the decayed counts of
    each sum's size per scale and side (``[scale, side, bin]``, side 0 up, 1 down);
    ``points`` how many points were tested so far.
    """

    history: SeriesHistory
    recent_times: Floats
    recent_values: Floats
    scores: Floats
    calibration: Floats
    points: int = 0
    hourly_noise: Floats = field(default_factory=lambda: np.zeros(DAY_BINS))
    thresholds: Floats = field(default_factory=lambda: np.zeros(0))  # [scale, side]
    risk: float = math.nan  # the per-point risk ``thresholds`` stand for
    noise: float = math.nan  # the ring's spread, refreshed every few points
    pending_decay: int = 0   # points whose forgetting is not yet applied to ``calibration``
    # past alarm episodes (end time, seconds, signed peak strength), newest last, and
    # the one going on (start, last alarm, peak; NaN when none)
    episodes: Floats = field(default_factory=lambda: np.zeros((0, 3)))
    episode: Floats = field(default_factory=lambda: np.full(3, np.nan))
    episode_points: int = 0

    @classmethod
    def empty(cls) -> WatchState:
        return cls(history=SeriesHistory.empty(), recent_times=np.zeros(0),
                   recent_values=np.zeros(0), scores=np.zeros(0),
                   calibration=np.tile(PRIOR, (len(SCALES), 2, 1)))


@dataclass(frozen=True)
class Alarm:
    """One point whose recent stretch passed its threshold."""

    time: float
    value: float
    expected: float
    noise: float
    scale: int          # points summed
    statistic: float    # the standardised sum (signed: positive means the series rose)
    threshold: float
    risk: float         # q, the per-point probability the threshold stands for
    rhythm: bool = False  # one more of the series' recurring excursions (not reported)

    @property
    def strength(self) -> float:
        """The sum over its threshold: 1 just tripped, 3 far beyond."""
        return abs(self.statistic) / self.threshold


@dataclass(frozen=True)
class WatchVerdict:
    """What one run of the test found on one series."""

    alarms: tuple[Alarm, ...]
    tested: int          # points tested in this run
    level: float         # what the series usually reads now
    noise: float

    @property
    def strongest(self) -> Alarm | None:
        return max(self.alarms, key=lambda a: a.strength) if self.alarms else None


def _noise(history: SeriesHistory, t: Floats, y: Floats, level: float) -> float:
    """Robust spread of the ring's residuals (less the newest), floored by quantisation."""
    base = slice(0, max(0, y.size - HELD_OUT))
    yb, tb = y[base], t[base]
    floor = history.noise_floor(level)
    if yb.size < 8:
        return floor
    r = yb - history.seasonal_at(tb) - level
    spread = robust_sd(r)
    return max(spread, floor)


def _cold_level(y: Floats) -> float:
    """Before three half-hours have closed: the median of the ring's older points."""
    older = y[: max(0, y.size - HELD_OUT)]
    return median(older) if older.size >= 8 else math.nan


def _rhythm(episodes: Floats, start: float, duration: float, peak: float,
            step: float) -> bool:
    """Whether an episode so far is one more of the series' recurring excursions.

    A rhythm is at least two earlier episodes on its side, each at least half this
    one's size, that ended within the last ``RHYTHM_SECONDS`` (or 48 points): the
    series does this several times a day. This one is no more than half again larger
    than the largest of them and has lasted no longer than half again the longest
    (plus the gap that ends an episode): a batch job's burst every two hours, a
    plateau's step, not an incident. Once it outgrows or outlasts them it is an
    alarm again; excursions days apart are never a rhythm, however alike.
    """
    if episodes.shape[0] < 2:
        return False
    recent = episodes[:, 0] >= start - max(RHYTHM_SECONDS, 48 * step)
    alike = episodes[recent & (episodes[:, 2] * peak > 0)
                     & (np.abs(episodes[:, 2]) >= 0.5 * abs(peak))]
    return bool(alike.shape[0] >= 2 and abs(peak) <= 1.5 * np.max(np.abs(alike[:, 2]))
                and duration <= 1.5 * np.max(alike[:, 1]) + EPISODE_GAP * step)


@dataclass
class _Run:
    """The working copy of one series' state while :func:`advance` walks its new points.

    Mutable on purpose and private to this module: the per-point test touches a
    dozen numbers, and rebuilding a frozen state per point (or numpy calls on
    one-element arrays) costs more than the arithmetic. Ring and scores are lists.
    """

    history: SeriesHistory
    rt: Floats                  # the ring as it was ...
    ry: Floats
    nt: list[float]             # ... and the points added to it since
    ny: list[float]
    scores: list[float]
    calibration: Floats
    hourly: Floats
    points: int
    limits: list[list[float]] | None
    thresholds: Floats          # ``limits`` as the array the state keeps
    risk: float
    noise: float
    pending: int
    episodes: Floats
    episode: list[float]
    episode_points: int
    sides: tuple[int, ...]
    budget: float
    # ``calibration`` and ``hourly`` as flat views of their float64 buffers: an element
    # read or added through a memoryview is a Python float, a numpy index is an object
    counts: memoryview[float]
    hours: memoryview[float]
    pace: float = 1.0

    @classmethod
    def start(cls, state: WatchState, sides: tuple[int, ...], budget: float) -> _Run:
        calibration = np.array(state.calibration, dtype=np.float64, order="C")
        hourly = np.array(state.hourly_noise, dtype=np.float64, order="C")
        return cls(state.history, state.recent_times, state.recent_values, [], [],
                   state.scores.tolist(), calibration, hourly, state.points,
                   state.thresholds.tolist() if state.thresholds.size else None,
                   state.thresholds, state.risk, state.noise, state.pending_decay, state.episodes,
                   state.episode.tolist(), state.episode_points, sides, budget,
                   _flat(calibration), _flat(hourly))

    def ring(self) -> tuple[Floats, Floats]:
        """The last ``RING`` points (times, values), the new ones included."""
        if len(self.nt) == 1:
            # the usual run: one point last, the oldest out of a full ring (no list conversion)
            self.rt, self.ry = _pushed(self.rt, self.nt[0]), _pushed(self.ry, self.ny[0])
            self.nt, self.ny = [], []
        elif self.nt:
            self.rt = np.concatenate([self.rt, self.nt])[-RING:]
            self.ry = np.concatenate([self.ry, self.ny])[-RING:]
            self.nt, self.ny = [], []
        return self.rt, self.ry

    def finish(self) -> WatchState:
        """The state this run leaves (every field new: built directly, not ``replace``d;
        :func:`classifiers.frozen.build`, as ``__init__`` costs more than the point)."""
        rt, ry = self.ring()
        return build(WatchState, {
            "history": self.history, "recent_times": rt, "recent_values": ry,
            "scores": np.array(self.scores, dtype=np.float64), "calibration": self.calibration,
            "points": self.points, "hourly_noise": self.hourly,
            "thresholds": self.thresholds, "risk": self.risk, "noise": self.noise,
            "pending_decay": self.pending, "episodes": self.episodes,
            "episode": np.array(self.episode, dtype=np.float64),
            "episode_points": self.episode_points})


def _pushed(ring: Floats, value: float) -> Floats:
    """The last ``RING`` of ``ring`` and ``value`` (a new float64 array)."""
    out = np.empty(min(ring.size + 1, RING))
    out[:-1] = ring[ring.size + 1 - out.size:]
    out[-1] = value
    return out


def _flat(array: Floats) -> memoryview[float]:
    """A C-contiguous float64 array's elements as one flat view of its buffer (in place:
    what is written through it is in the array)."""
    return array.data.cast("B").cast("d")


_EDGE_LIST = EDGES.tolist()
_BINS = EDGES.size  # calibration bins per scale and side
_SUMMED = tuple(zip([slice(None, -w - 1, -1) for w in SCALES], _SQRT.tolist(), strict=True))


def _new_points(history: SeriesHistory, times: object, values: object, counts: object
                ) -> tuple[list[float], list[float], list[float]]:
    """The finite points after the last one seen, in time order, one per time."""
    if (isinstance(times, np.ndarray) and isinstance(values, np.ndarray) and times.size == 1
            and values.size == 1 and (counts is None or (
                isinstance(counts, np.ndarray) and counts.size == 1))):
        # the watch's usual call: one point
        t, y = float(times.flat[0]), float(values.flat[0])
        n = math.nan if counts is None else float(counts.flat[0])
        ok = math.isfinite(t) and math.isfinite(y) and t > history.last_time
        return ([t], [y], [n]) if ok else ([], [], [])
    t_all = np.asarray(times, dtype=float).ravel()
    y_all = np.asarray(values, dtype=float).ravel()
    n_all = (np.full(t_all.shape, np.nan) if counts is None
             else np.asarray(counts, dtype=float).ravel())
    if t_all.shape != y_all.shape:
        raise ValueError("times and values must have the same length")
    keep = np.isfinite(t_all) & np.isfinite(y_all)
    t_all, y_all, n_all = t_all[keep], y_all[keep], n_all[keep]
    order = np.argsort(t_all, kind="stable")
    t_all, y_all, n_all = t_all[order], y_all[order], n_all[order]
    new = t_all > history.last_time
    if new.size > 1:
        new[1:] &= np.diff(t_all) > 0
    return t_all[new].tolist(), y_all[new].tolist(), n_all[new].tolist()


def _pace(run: _Run, t: float, step: float) -> float:
    """How much of the nominal risk this series may still spend: 1, or less if it overspent.

    The thresholds assume the sums' calibrated tails hold; on a bursty series
    they hold only roughly, and the alarms it raised lately are the measure of how
    roughly (anomalies are rare, so most of them were false). Over the
    calibration's memory the series may raise its budget's worth of alarm
    episodes, plus one; beyond that the per-point risk shrinks in proportion, so
    the realised rate is held near the budget whatever the tail's shape.
    """
    if run.episodes.shape[0] == 0:
        return 1.0  # no episode: nothing overspent (the ratio below is at least 1)
    memory = max(MEMORY_SECONDS, MEMORY_POINTS * step)
    seen = int(np.count_nonzero(run.episodes[:, 0] > t - memory))
    allowed = run.budget * min(memory, run.points * step) / WEEK
    return min(1.0, (allowed + 1.0) / (seen + 1.0))


def _refresh(run: _Run, t: float, level: float, step: float) -> None:
    """Apply the calibration's pending forgetting, its thresholds and the noise, when due."""
    run.pace = _pace(run, t, step)
    wanted = point_risk(run.budget, step, len(run.sides), len(SCALES)) * run.pace
    if run.points % _REFRESH == 0 or run.pending >= _REFRESH:
        memory = max(MEMORY_SECONDS, MEMORY_POINTS * step)
        run.calibration *= math.exp(-step * run.pending / memory)
        run.pending = 0
    if (run.limits is None or run.points % _REFRESH == 0
            or abs(wanted / run.risk - 1) > 0.2):
        run.risk = wanted
        run.thresholds = sum_thresholds(run.calibration, wanted)
        run.limits = run.thresholds.tolist()
    if run.points % _NOISE_EVERY == 0 or not math.isfinite(run.noise):
        recent = _noise(run.history, *run.ring(), level)
        # the noise that counts is the series' usual one, not this hour's: a quiet
        # hour makes every ordinary burst look huge
        memory = max(NOISE_MEMORY_SECONDS, RING * step)
        gain = min(1.0, _NOISE_EVERY * step / memory)
        noise = run.noise
        run.noise = recent if not math.isfinite(noise) else noise + gain * (recent - noise)


def _scale(run: _Run, b: int, expected: float, count: float) -> float:
    """The noise unit of this point: the usual noise, this hour's, a rate's binomial error."""
    scale = run.noise
    if run.history.cycle.size:
        # the noise of this time of day: a cycle's sharp edges and busy hours
        # are noisier than its quiet ones, every day
        hours = run.hours
        around = max(hours[b - 1], hours[b], hours[(b + 1) % DAY_BINS])
        scale = max(scale, 1.2533 * around)
    if count > 0 and 0.0 <= expected <= 1.0:
        # a rate's binomial error at this point's count (at least half an event)
        p = min(max(expected, 0.5 / count), 1.0 - 0.5 / count) if count > 1 else 0.5
        scale = max(scale, math.sqrt(p * (1.0 - p) / count))
    return scale


def _sums(scores: list[float]) -> list[float]:
    """The standardised sums of the last 1, 4, 16, 64 scores (as many as there are).

    Summed newest first, as ``np.cumsum`` of the reversed scores would.
    """
    if len(scores) >= SCALES[-1]:
        return [sum(scores[newest]) / root for newest, root in _SUMMED]
    n = len(scores)
    return [sum(scores[newest]) / root for (newest, root), w in zip(_SUMMED, SCALES, strict=True)
            if w <= n]


def _strongest(run: _Run, sums: list[float], t: float, y: float, expected: float,
               scale: float) -> Alarm | None:
    """The sum furthest past its threshold on a degrading side, if any passed."""
    best: Alarm | None = None
    limits = run.limits
    assert limits is not None
    for s, value in enumerate(sums):
        side = 0 if value >= 0 else 1
        limit = limits[s][side]
        if side in run.sides and abs(value) >= limit:
            alarm = Alarm(t, y, expected, scale, SCALES[s], value, limit, run.risk)
            if best is None or alarm.strength > best.strength:
                best = alarm
    return best


def _track_episode(run: _Run, t: float, step: float, best: Alarm | None) -> Alarm | None:
    """Close a quiet episode, extend the current one; ``best`` marked if it is rhythm."""
    episode = run.episode
    if math.isfinite(episode[0]) and t - episode[1] > EPISODE_GAP * step:
        memory = max(MEMORY_SECONDS, MEMORY_POINTS * step)
        kept = run.episodes[run.episodes[:, 0] > t - memory][-(EPISODES_KEPT - 1):]
        run.episodes = np.vstack([kept, [episode[1], episode[1] - episode[0], episode[2]]])
        episode = run.episode = [math.nan, math.nan, math.nan]
    if best is None:
        return None
    signed = math.copysign(best.strength, best.statistic)
    if not math.isfinite(episode[0]):
        episode = run.episode = [t, t, signed]
        run.episode_points = 0
    run.episode_points += 1
    episode[1] = t
    if abs(signed) > abs(episode[2]):
        episode[2] = signed
    if _rhythm(run.episodes, episode[0], t - episode[0], episode[2], step):
        return replace(best, rhythm=True)
    return best


def _learn(run: _Run, sums: list[float], best: Alarm | None) -> None:
    """Count this point's sums in the calibration, unless an alarm episode holds them.

    An alarm episode would teach the calibration only its first points, at
    ``ALARM_WEIGHT`` (none today): a lone anomaly must not widen the tail. (Teaching
    an overspending series its alarms in proportion to ``1 - pace`` held the
    budget five times over but lost a third of the held-out windows; see
    ``benchmarks/nab.py``.)
    """
    learning = best is not None and run.episode_points <= EPISODE_LEARN
    weight = 1.0 if best is None else ALARM_WEIGHT if learning else 0.0
    if weight <= 0:
        return
    run.pending += 1
    counts = run.counts  # ``calibration[s, side, bin]`` at ``(2 * s + side) * _BINS + bin``
    for s, value in enumerate(sums):
        side = 0 if value >= 0 else 1
        bin_ = bisect.bisect_right(_EDGE_LIST, abs(value)) - 1
        counts[(2 * s + side) * _BINS + bin_] += weight
        counts[(2 * s + 1 - side) * _BINS] += weight


def _test_point(run: _Run, t: float, y: float, count: float, level: float
                ) -> Alarm | None:
    """Test one point against its series' usual reading; learn it; its alarm if any."""
    history = run.history
    step = history.step if math.isfinite(history.step) else 60.0
    _refresh(run, t, level, step)
    expected = level + history.seasonal(t)
    b = int(t // BUCKET_SECONDS) % DAY_BINS
    scale = _scale(run, b, expected, count)
    run.scores.append(max(-CLIP, min(CLIP, (y - expected) / scale)))
    if len(run.scores) > SCALES[-1]:
        del run.scores[0]
    sums = _sums(run.scores)
    best = _track_episode(run, t, step, _strongest(run, sums, t, y, expected, scale))
    gain = min(1.0, step / (NOISE_DAYS * BUCKET_SECONDS))
    hours = run.hours
    hours[b] += gain * (min(abs(y - expected), 10.0 * scale) - hours[b])
    _learn(run, sums, best)
    return best if best is not None and not best.rhythm else None


def _remember(run: _Run, t: float, y: float) -> None:
    """Add the point to the ring and the history (re-reading a refitted cycle)."""
    run.points += 1
    run.nt.append(t)
    run.ny.append(y)
    cycle = run.history.cycle
    run.history = add_points(run.history, (t,), (y,))
    if run.history.cycle is not cycle:
        run.history = run.history.with_reading(*run.ring())
        run.noise = math.nan


def advance(state: WatchState, times: object, values: object, *, direction: str = "both",
            false_alarms_per_week: float = 1.0, counts: object = None
            ) -> tuple[WatchState, WatchVerdict]:
    """Test the new points of one series in time order, then learn them.

    Parameters
    ----------
    state : WatchState
        What was kept from earlier runs (``WatchState.empty()`` for a new series).
    times, values : array_like
        The new points (epoch seconds, values); points not after the last one seen
        are ignored, non-finite values dropped.
    direction : {'up', 'down', 'both'}
        Which side of a move is a degradation.
    false_alarms_per_week : float
        The false-alarm budget of this series (the service's budget over its series).
    counts : array_like, optional
        Denominators of a rate (requests behind each value, NaN when unknown): a rate
        over 30 requests is never read more precisely than its binomial error, however
        calm its history (mostly zeros) looks.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not false_alarms_per_week > 0:
        raise ValueError("false_alarms_per_week must be positive")
    ts, ys, ns = _new_points(state.history, times, values, counts)
    sides = (0, 1) if direction == "both" else (0,) if direction == "up" else (1,)
    run = _Run.start(state, sides, false_alarms_per_week)
    alarms: list[Alarm] = []
    level = run.history.level
    for t, y, count in zip(ts, ys, ns, strict=True):
        level = run.history.level
        if not math.isfinite(level):
            level = _cold_level(run.ring()[1])
        if math.isfinite(level) and run.points >= MIN_POINTS:
            alarm = _test_point(run, t, y, count, level)
            if alarm is not None:
                alarms.append(alarm)
        _remember(run, t, y)
    return run.finish(), build(WatchVerdict, {"alarms": tuple(alarms), "tested": len(ts),
                                              "level": float(level),
                                              "noise": float(run.noise)})
