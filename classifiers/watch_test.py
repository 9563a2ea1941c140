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
the four sums and the directions that are tested. Points that raised an alarm are
not learnt as ordinary. So the decision needs no label and no confidence: one
clearly failing signal is enough, and how often a healthy one trips is a setting.

Pure: numpy arrays in, frozen :class:`WatchState` and :class:`WatchVerdict` out.

References
----------
.. [1] A. Siffer, P.-A. Fouque, A. Termier and C. Largouet, "Anomaly detection in
   streams with extreme value theory", KDD 2017 (thresholds from peaks over a high
   quantile, updated with the points that raised no alarm).
.. [2] J. Pickands, "Statistical inference using extreme order statistics", Ann.
   Statist. 3 (1975) 119-131 (the generalised Pareto tail; here its exponential case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special

from classifiers.series_history import BUCKET_SECONDS, DAY_BINS, SeriesHistory, add_points
from classifiers.shifts import _median

SCALES = (1, 4, 16, 64)
RING = 256                    # recent points kept for the noise estimate
HELD_OUT = 16                 # the newest points are tested, not used for the noise
MIN_POINTS = 48               # points before a series is tested at all
MEMORY_SECONDS = 14 * 86400.0  # calibration forgets with this time constant ...
MEMORY_POINTS = 2000          # ... or this many points, whichever is longer
PRIOR_POINTS = 100.0          # weight of the prior (heavy-tailed) calibration
TAIL = 0.05                   # the tail starts where 5 % of the sums lie beyond
CLIP = 50.0                   # one residual adds at most this many noise units to a sum
EDGES = np.concatenate([[0.0], 0.5 * 1.25 ** np.arange(28)])  # |sum| bins, to ~200
_MIDS = np.concatenate([(EDGES[:-1] + EDGES[1:]) / 2, [EDGES[-1] * 1.1]])
_SQRT = np.sqrt(np.array(SCALES, dtype=float))
_REFRESH = 32                 # points between threshold refreshes
_NOISE_EVERY = 8              # points between noise refreshes
NOISE_MEMORY_SECONDS = 86400.0  # the noise in force is the last day's, smoothed
ALARM_WEIGHT = 0.0            # what an alarmed point weighs in the calibration ...
EPISODE_LEARN = 8             # ... for the first points of its episode (none after)
RHYTHM_SECONDS = 12 * 3600.0  # excursions this close together are the series' rhythm
EPISODE_GAP = 8               # points without an alarm that end an episode
EPISODES_KEPT = 8
WEEK = 7 * 86400.0
NOISE_DAYS = 3.0              # the half-hourly noise profile remembers about three days
DIRECTIONS = ("up", "down", "both")


def _laplace_prior() -> np.ndarray:
    """``PRIOR_POINTS`` sums as a unit-SD Laplace would spread them, per side.

    Before a series has shown its own tails it is assumed heavy-tailed (a Laplace
    tail, the widest of one mean absolute deviation), not Gaussian: real metrics
    burst, and a new series should earn trust. The prior fades as the series' own
    sums arrive, at the calibration's rate of forgetting.
    """
    beyond = 0.5 * np.exp(-math.sqrt(2.0) * EDGES)   # P(sum >= edge) on this side
    mass = np.append(beyond[:-1] - beyond[1:], beyond[-1])
    mass[0] += 0.5                                    # the other side's sums, at 0
    return PRIOR_POINTS * mass


_PRIOR = _laplace_prior()


@dataclass(frozen=True)
class WatchState:
    """Everything the watch keeps of one series between runs (a few kilobytes).

    ``recent_times``/``recent_values`` are the last ``RING`` points; ``scores`` the
    last ``max(SCALES)`` standardised residuals; ``calibration`` the decayed counts of
    each sum's size per scale and side (``[scale, side, bin]``, side 0 up, 1 down);
    ``points`` how many points were tested so far.
    """

    history: SeriesHistory
    recent_times: np.ndarray
    recent_values: np.ndarray
    scores: np.ndarray
    calibration: np.ndarray
    points: int = 0
    hourly_noise: np.ndarray = field(default_factory=lambda: np.zeros(DAY_BINS))
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [scale, side]
    risk: float = math.nan  # the per-point risk ``thresholds`` stand for
    noise: float = math.nan  # the ring's spread, refreshed every few points
    pending_decay: int = 0   # points whose forgetting is not yet applied to ``calibration``
    # past alarm episodes (end time, seconds, signed peak strength), newest last, and
    # the one going on (start, last alarm, peak; NaN when none)
    episodes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    episode: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))
    episode_points: int = 0

    @classmethod
    def empty(cls) -> WatchState:
        return cls(history=SeriesHistory.empty(), recent_times=np.zeros(0),
                   recent_values=np.zeros(0), scores=np.zeros(0),
                   calibration=np.tile(_PRIOR, (len(SCALES), 2, 1)))


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


def point_risk(false_alarms_per_week: float, step: float, sides: int) -> float:
    """Per-point, per-sum, per-side probability that spends the weekly budget.

    Alarms come in runs (a shift trips many points in a row), so spreading the
    budget as if every point were a separate alarm is conservative.
    """
    points_per_week = WEEK / max(step, 1e-3)
    return float(min(0.01, false_alarms_per_week / (points_per_week * len(SCALES) * sides)))


def tail_threshold(counts: np.ndarray, risk: float) -> float:
    """The size a sum passes with probability ``risk``, from its calibration counts.

    Never below the Gaussian quantile: a series is never trusted to be calmer
    than white noise.
    """
    gauss = float(-special.ndtri(risk))
    total = float(counts.sum())
    if total <= 0:
        return gauss
    beyond = np.cumsum(counts[::-1])[::-1]  # points at or above each edge
    k = int(np.searchsorted(-beyond, -TAIL * total, side="left"))  # beyond[k] <= 5 %
    while k > 0 and (k >= beyond.size or beyond[k] < 3.0):
        k -= 1
    n_u = float(beyond[k])
    if n_u <= 0:
        return gauss
    u = float(EDGES[k])
    over = _MIDS[k:] - u
    mean = float(np.dot(counts[k:], over)) / n_u
    if share_ok := n_u / total > risk:
        share = n_u / total
        variance = float(np.dot(counts[k:], (over - mean) ** 2)) / n_u
        # generalised Pareto by moments: shape from the excesses' spread against their
        # mean (0 for an exponential tail), never lighter than exponential, at most 0.45
        shape = min(0.45, max(0.0, 0.5 * (1.0 - mean * mean / variance))) if variance > 0 else 0.0
        scale = 0.5 * mean * (mean * mean / variance + 1.0) if variance > 0 else mean
        if shape > 1e-6:
            threshold = u + scale / shape * ((share / risk) ** shape - 1.0)
        else:
            threshold = u + max(mean, 0.0) * math.log(share / risk)
    else:
        threshold = u
    del share_ok
    return max(gauss, threshold)


def _thresholds(calibration: np.ndarray, risk: float) -> np.ndarray:
    return np.array([[tail_threshold(calibration[s, side], risk) for side in (0, 1)]
                     for s in range(len(SCALES))])


def _noise(history: SeriesHistory, t: np.ndarray, y: np.ndarray, level: float) -> float:
    """Robust spread of the ring's residuals (less the newest), floored by quantisation."""
    base = slice(0, max(0, y.size - HELD_OUT))
    yb, tb = y[base], t[base]
    floor = history.noise_floor(level)
    if yb.size < 8:
        return floor
    r = yb - history.seasonal_at(tb) - level
    spread = 1.4826 * _median(np.abs(r - _median(r)))
    return max(spread, floor)


def _cold_level(y: np.ndarray) -> float:
    """Before three half-hours have closed: the median of the ring's older points."""
    older = y[: max(0, y.size - HELD_OUT)]
    return _median(older) if older.size >= 8 else math.nan


def _rhythm(episodes: np.ndarray, start: float, duration: float, peak: float,
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
    history = state.history
    new = t_all > history.last_time
    if new.size > 1:
        new[1:] &= np.diff(t_all) > 0
    t_all, y_all, n_all = t_all[new], y_all[new], n_all[new]

    sides = (0, 1) if direction == "both" else (0,) if direction == "up" else (1,)
    rt, ry = state.recent_times, state.recent_values
    scores = list(state.scores.tolist())
    calibration = state.calibration.copy()
    hourly = state.hourly_noise.copy()
    points = state.points
    alarms: list[Alarm] = []
    thresholds = state.thresholds if state.thresholds.size else None
    risk, noise, pending = state.risk, state.noise, state.pending_decay
    level = history.level
    episodes, episode = state.episodes, state.episode.copy()
    episode_points = state.episode_points
    for t, y, count in zip(t_all.tolist(), y_all.tolist(), n_all.tolist(), strict=True):
        level = history.level if math.isfinite(history.level) else _cold_level(ry)
        step = history.step if math.isfinite(history.step) else 60.0
        if math.isfinite(level) and points >= MIN_POINTS:
            wanted = point_risk(false_alarms_per_week, step, len(sides))
            if points % _REFRESH == 0 or pending >= _REFRESH:
                memory = max(MEMORY_SECONDS, MEMORY_POINTS * step)
                calibration *= math.exp(-step * pending / memory)
                pending = 0
            if thresholds is None or points % _REFRESH == 0 or abs(wanted / risk - 1) > 0.2:
                risk = wanted
                thresholds = _thresholds(calibration, risk)
            if points % _NOISE_EVERY == 0 or not math.isfinite(noise):
                recent = _noise(history, rt, ry, level)
                # the noise that counts is the series' usual one, not this hour's: a quiet
                # hour makes every ordinary burst look huge
                memory = max(NOISE_MEMORY_SECONDS, RING * step)
                gain = min(1.0, _NOISE_EVERY * step / memory)
                noise = recent if not math.isfinite(noise) else noise + gain * (recent - noise)
            expected = level + history.seasonal(t)
            b = int(t // BUCKET_SECONDS) % DAY_BINS
            scale = noise
            if history.cycle.size:
                # the noise of this time of day: a cycle's sharp edges and busy hours
                # are noisier than its quiet ones, every day
                around = max(hourly[b - 1], hourly[b], hourly[(b + 1) % DAY_BINS])
                scale = max(noise, 1.2533 * around)
            if count > 0 and 0.0 <= expected <= 1.0:
                # a rate's binomial error at this point's count (at least half an event)
                p = min(max(expected, 0.5 / count), 1.0 - 0.5 / count) if count > 1 else 0.5
                scale = max(scale, math.sqrt(p * (1.0 - p) / count))
            z = max(-CLIP, min(CLIP, (y - expected) / scale))
            scores.append(z)
            if len(scores) > SCALES[-1]:
                del scores[0]
            sums = np.cumsum(scores[::-1])
            best = None
            for s, w in enumerate(SCALES):
                if w > sums.size:
                    break
                value = float(sums[w - 1]) / _SQRT[s]
                side = 0 if value >= 0 else 1
                if side in sides and abs(value) >= thresholds[s, side]:
                    alarm = Alarm(t, y, expected, scale, w, value,
                                  float(thresholds[s, side]), risk)
                    if best is None or alarm.strength > best.strength:
                        best = alarm
            if math.isfinite(episode[0]) and t - episode[1] > EPISODE_GAP * step:
                memory = max(MEMORY_SECONDS, MEMORY_POINTS * step)
                episodes = np.vstack([episodes[episodes[:, 0] > t - memory][-(EPISODES_KEPT - 1):],
                                      [episode[1], episode[1] - episode[0], episode[2]]])
                episode = np.full(3, np.nan)
            if best is not None:
                signed = math.copysign(best.strength, best.statistic)
                if not math.isfinite(episode[0]):
                    episode = np.array([t, t, signed])
                    episode_points = 0
                episode_points += 1
                episode[1] = t
                if abs(signed) > abs(episode[2]):
                    episode[2] = signed
                if _rhythm(episodes, episode[0], t - episode[0], episode[2], step):
                    best = replace(best, rhythm=True)
            gain = min(1.0, step / (NOISE_DAYS * BUCKET_SECONDS))
            hourly[b] += gain * (min(abs(y - expected), 10.0 * scale) - hourly[b])
            if best is not None and not best.rhythm:
                alarms.append(best)
            # an alarm episode teaches the calibration a little (its first points, at a
            # fraction): a step the series takes every few hours becomes ordinary after
            # a few, a lone anomaly hardly moves the tail
            learning = best is not None and episode_points <= EPISODE_LEARN
            weight = 1.0 if best is None else ALARM_WEIGHT if learning else 0.0
            if weight > 0:
                pending += 1
                for s, w in enumerate(SCALES):
                    if w > sums.size:
                        break
                    value = float(sums[w - 1]) / _SQRT[s]
                    side = 0 if value >= 0 else 1
                    bin_ = int(np.searchsorted(EDGES, abs(value), "right")) - 1
                    calibration[s, side, bin_] += weight
                    calibration[s, 1 - side, 0] += weight
        points += 1
        if ry.size >= RING:
            rt = np.append(rt[1:], t)
            ry = np.append(ry[1:], y)
        else:
            rt, ry = np.append(rt, t), np.append(ry, y)
        cycle = history.cycle
        history = add_points(history, np.array([t]), np.array([y]))
        if history.cycle is not cycle:
            history = history.with_reading(rt, ry)
            noise = math.nan
    new_state = replace(state, history=history, recent_times=rt, recent_values=ry,
                        scores=np.array(scores), calibration=calibration, points=points,
                        hourly_noise=hourly, noise=noise, pending_decay=pending,
                        episodes=episodes, episode=episode, episode_points=episode_points,
                        thresholds=thresholds if thresholds is not None else np.zeros(0),
                        risk=risk)
    return new_state, WatchVerdict(tuple(alarms), int(t_all.size), float(level),
                                   float(noise))


_HISTORY_SCALARS = ("open_key", "open_sum", "open_count", "level", "quantum", "resolution",
                    "step", "last_time", "last_value", "smooth")
_STATE_SCALARS = ("points", "risk", "noise", "pending_decay", "episode_points")


_FORMAT = 1
_ARRAYS = ("offsets", "means", "cycle", "recent_times", "recent_values", "scores",
           "calibration", "hourly", "thresholds", "episodes", "episode")
_DTYPES = {"offsets": np.int32, "means": np.float32, "cycle": np.float32,
           "recent_times": np.float32, "recent_values": np.float64, "scores": np.float32,
           "calibration": np.float32, "hourly": np.float32, "thresholds": np.float64,
           "episodes": np.float64, "episode": np.float64}


def encode(state: WatchState) -> bytes:
    """The state as bytes for the store: arrays in their smallest faithful types.

    A version byte, the scalars, then each array as its length and raw bytes (no
    archive format: the watch decodes and encodes every series every run). Bucket
    keys are kept as offsets from the open bucket (int32), bucket means, the cycle,
    recent times (as offsets from the newest) and calibration counts as float32.
    """
    h = state.history
    arrays = {
        "offsets": np.where(h.keys >= 0, h.open_key - h.keys, -1),
        "means": h.means, "cycle": h.cycle,
        "recent_times": state.recent_times - h.last_time if state.recent_times.size
        else state.recent_times,
        "recent_values": state.recent_values, "scores": state.scores,
        "calibration": state.calibration.ravel(), "hourly": state.hourly_noise,
        "thresholds": state.thresholds.ravel(), "episodes": state.episodes.ravel(),
        "episode": state.episode}
    scalars = np.array([float(getattr(h, k)) for k in _HISTORY_SCALARS]
                       + [float(getattr(state, k)) for k in _STATE_SCALARS])
    parts = [bytes([_FORMAT]), scalars.tobytes()]
    for name in _ARRAYS:
        raw = np.ascontiguousarray(arrays[name], dtype=_DTYPES[name]).tobytes()
        parts += [np.uint32(len(raw)).tobytes(), raw]
    return b"".join(parts)


def decode(blob: bytes) -> WatchState:
    """The state :func:`encode` wrote."""
    if not blob or blob[0] != _FORMAT:
        raise ValueError("not a watch state of this format")
    count = len(_HISTORY_SCALARS) + len(_STATE_SCALARS)
    scalars = np.frombuffer(blob, dtype=np.float64, count=count, offset=1).tolist()
    hs = dict(zip(_HISTORY_SCALARS, scalars[:len(_HISTORY_SCALARS)], strict=True))
    ss = dict(zip(_STATE_SCALARS, scalars[len(_HISTORY_SCALARS):], strict=True))
    at = 1 + 8 * count
    data = {}
    for name in _ARRAYS:
        size = int(np.frombuffer(blob, dtype=np.uint32, count=1, offset=at)[0])
        at += 4
        data[name] = np.frombuffer(blob, dtype=_DTYPES[name], count=size // np.dtype(
            _DTYPES[name]).itemsize, offset=at).astype(np.float64 if name != "offsets"
                                                       else np.int64)
        at += size
    open_key = int(hs["open_key"])
    offsets = data["offsets"]
    history = SeriesHistory(
        keys=np.where(offsets >= 0, open_key - offsets, -1), means=data["means"],
        open_key=open_key, open_sum=hs["open_sum"], open_count=int(hs["open_count"]),
        cycle=data["cycle"], level=hs["level"], quantum=hs["quantum"],
        resolution=hs["resolution"], step=hs["step"], last_time=hs["last_time"],
        last_value=hs["last_value"], smooth=bool(hs["smooth"]))
    times = data["recent_times"] + history.last_time
    thresholds = data["thresholds"]
    return WatchState(
        history=history, recent_times=times, recent_values=data["recent_values"],
        scores=data["scores"], calibration=data["calibration"].reshape(
            len(SCALES), 2, EDGES.size), points=int(ss["points"]),
        hourly_noise=data["hourly"], thresholds=thresholds.reshape(len(SCALES), 2)
        if thresholds.size else thresholds, risk=ss["risk"], noise=ss["noise"],
        pending_decay=int(ss["pending_decay"]), episodes=data["episodes"].reshape(-1, 3),
        episode=data["episode"], episode_points=int(ss["episode_points"]))
