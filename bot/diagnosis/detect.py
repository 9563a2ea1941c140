"""Run the detectors over assembled arrays and keep the findings that matter.

Each series gets the detector its kind calls for (rate test with counts, lag growth
for freshness, robust shift otherwise), distributions a KS or chi-square test
between before and after their own onset, states the served-versus-expected test.
All p-values of one diagnosis are corrected together (Benjamini-Hochberg); a finding
needs the corrected p-value *and* an effect above the practical threshold of its
detector, in the direction that hurts.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bot.diagnosis.assemble import Assembled, Distribution, Series, SliceKey, States
from bot.diagnosis.screen import screen
from classifiers.cost_traffic import at_fixed_traffic
from classifiers.drift import SAMPLE as DRIFT_SAMPLE
from classifiers.drift import categorical_drift, numeric_drift, sample_positions
from classifiers.fdr import benjamini_hochberg
from classifiers.frozen import build
from classifiers.merged_quantiles import merged_quantiles
from classifiers.merged_quantiles import sorted_quantiles as _sorted_quantiles
from classifiers.results import ShiftResult
from classifiers.robust import center_spread
from classifiers.shifts import lag_growth, rate_at_end, rate_shift, robust_shift
from classifiers.states import state_mismatch, state_switch

ALPHA = 0.01
# Practical thresholds: below these a change is real but nobody should be paged for it.
MIN_GAUGE_EFFECT = 3.0      # shift in baseline SDs
MIN_GAUGE_RELATIVE = 0.05   # and 5 % of the level (when the level is not ~0)
# ... or a sustained move (:func:`sustained_move`): this much of the level,
SUSTAINED_RELATIVE = 0.3
SUSTAINED_EFFECT = 1.5      # still half the SDs above,
SUSTAINED_POINTS = 30       # held from the onset to the window's end over this many points
SUSTAINED_WINDOW = 20       # whose last ones still hold half the move, and no run of as
SUSTAINED_HISTORY = 60      # many before (in a history of at least this many) came halfway
MIN_RATE_RELATIVE = 0.2     # rates: 20 % relative change
MIN_RATE_H = 0.04           # and Cohen's h
MIN_RATE_EVENTS = 10        # and at least this many events after the onset (rises)
MIN_LAG_EXCESS = 3.0
MIN_DRIFT_EFFECT = 0.15     # max(PSI/2, JS, W/SD)
MIN_STATE_EFFECT = 0.2
_LAG_HINTS = ("lag", "age", "stale", "delay", "freshness")
# Values per side of a distribution test. KS on 20,000 against 20,000 values finds a
# 0.03-SD shift, five times below MIN_DRIFT_EFFECT, and the effects' noise floor on
# equal samples is about 0.01 (JS on deciles); more values only cost sorting time.
_MAX_DIST_VALUES = 20_000


@dataclass(frozen=True)
class Test:
    """One detector run on one series, with what the pipeline needs to read it."""

    layer: str
    name: str
    slice: SliceKey
    detector: str
    statistic: float
    p_value: float
    effect: float
    onset: float | None       # epoch seconds
    relative: float
    worse: bool               # moved in the direction that hurts
    practical: bool           # effect above the detector's threshold
    strength_hint: float      # effect over its threshold (>= 1 for a practical finding)
    recovered: float | None = None  # epoch at which an earlier excursion had recovered
    before: float | None = None  # the level the shift is measured from (shift tests only)
    after: float | None = None   # the level after the onset


@dataclass(frozen=True)
class Finding:
    """A test that passed: it always has an onset, kept here as a plain float."""

    test: Test
    q_value: float
    strength: float
    onset: float  # epoch seconds: ``test.onset``, never None for a finding


_NAME_WORDS = re.compile(r"[^a-z0-9]+")


def _is_lag(series: Series) -> bool:
    """A freshness series, or one whose name has a lag word as a word of its own.

    Whole words only: ``gpu_cache_usage_perc`` and ``token.usage.input`` hold "age"
    but are no ages, and a lag test on a gauge that climbs with the day's traffic
    finds a "stall" hours before the incident (kept past the episode cut, it set
    the onset half a day early).
    """
    if series.layer == "freshness":
        return True
    words = _NAME_WORDS.split(series.name.lower())
    # "lag" and "age" as whole words (not "usage", "agent"); the longer hints as
    # word stems ("staleness", "delayed")
    return any(w == h or (len(h) > 3 and w.startswith(h)) for w in words for h in _LAG_HINTS)


def _worse(bad: str, statistic: float) -> bool:
    return bad == "both" or (bad == "up" and statistic > 0) or (bad == "down" and statistic < 0)


def sustained_move(r: ShiftResult, values: np.ndarray) -> bool:
    """A gauge shift large against its level, held to the end and new to the series.

    MIN_GAUGE_EFFECT asks that a move stand clear of one point's noise. A gauge that
    averages a few answers a point (output tokens per answer) scatters by 15-20 % of
    its level from point to point, so a fall of 40 % that held for half an hour sits
    at 2.3 point SDs and failed the gate at p = 1e-43, read as a healthy day. Such a
    move needs no single point to show it: the median of the points it held for is
    many times its own noise away. The second route asks for what a responder would
    call a lasting change of that gauge: ``SUSTAINED_RELATIVE`` of a level that is
    not ~0, still ``SUSTAINED_EFFECT`` point SDs (half the usual gate), held for
    ``SUSTAINED_POINTS`` points to the end of the window, and the last
    ``SUSTAINED_WINDOW`` of them still at half the move or more (one that was coming
    back is no lasting move). The significance stays the test's.

    What the SD gate guarded against, a level the series wanders to on its own, is
    read from the series' own history instead: no run of ``SUSTAINED_WINDOW`` points
    before the onset (a rolling median, over at least ``SUSTAINED_HISTORY`` points)
    may have come halfway to the level after. A nightly job that raised the cost per
    request by a third the night before, inside the window, is then what the series
    does (a history too short to tell leaves the move to the SD gate). The rolling
    median of 20 points has a noise of ~0.28 point SDs, so on a 17 %-noise gauge the
    halfway mark of a 30 % move is ~3 of them away and the noise alone rarely
    reaches it.
    """
    onset = r.onset
    if (onset < SUSTAINED_HISTORY or values.size - onset < SUSTAINED_POINTS
            or abs(r.before) < 1e-6 or abs(r.relative) < SUSTAINED_RELATIVE
            or abs(r.effect) < SUSTAINED_EFFECT):
        return False
    move = r.after - r.before
    if (float(np.median(values[-SUSTAINED_WINDOW:])) - r.before) / move < 0.5:
        return False
    # A run's median comes halfway only if half its points do (the median of 20 is
    # the mean of the 10th and 11th, so the 11th must): count those per run first and
    # take the medians of only the runs that could, few on a series that did not wander.
    history = values[:onset]
    halfway = (history - r.before) / move >= 0.5
    counts = np.convolve(halfway, np.ones(SUSTAINED_WINDOW, dtype=int), mode="valid")
    could = np.flatnonzero(counts >= SUSTAINED_WINDOW - SUSTAINED_WINDOW // 2)
    if could.size == 0:
        return True
    runs = np.median(sliding_window_view(history, SUSTAINED_WINDOW)[could], axis=1)
    return bool(np.all((runs - r.before) / move < 0.5))


def _gauge_hint(r: ShiftResult, sustained: bool) -> float:
    """A gauge shift's effect over its threshold: its SDs over MIN_GAUGE_EFFECT, or for a
    sustained move the lesser of its two margins (relative size and SDs) when larger."""
    hint = abs(r.effect) / MIN_GAUGE_EFFECT
    if sustained:
        hint = max(hint, min(abs(r.relative) / SUSTAINED_RELATIVE,
                             abs(r.effect) / SUSTAINED_EFFECT))
    return hint


def _series_tests(s: Series, screened: bool = True) -> list[Test]:
    n = s.values.size
    if n < 8:
        return []
    tests = []

    def onset_ts(i: int) -> float | None:
        return float(s.times[i]) if 0 <= i < n else None

    if s.kind == "ratio" and s.has_counts:
        r = rate_shift(s.values, s.counts, direction=s.bad)
        after = slice(r.onset, r.onset + 60)
        events_after = float(np.sum(s.values[after] * s.counts[after]))
        # a rate rise resting on a handful of events is not a finding, however small p is
        rel_ok = (abs(r.relative) >= MIN_RATE_RELATIVE and abs(r.effect) >= MIN_RATE_H
                  and (r.statistic < 0 or events_after >= MIN_RATE_EVENTS)
                  and not r.recurring)  # the series' own rhythm is no finding
        hint = min(abs(r.relative) / MIN_RATE_RELATIVE, abs(r.effect) / MIN_RATE_H)
        effect, relative, level = r.effect, r.relative, r.after
        if not rel_ok and not r.recurring and r.onset >= 0:
            grown = rate_at_end(s.values, s.counts, r.onset, r.before, r.after,
                                min_events=MIN_RATE_EVENTS)
            if grown is not None:  # a ramp: judged by where it got to, not its average
                effect, relative, level = grown.effect, grown.relative, grown.level
                hint = min(abs(relative) / MIN_RATE_RELATIVE, abs(effect) / MIN_RATE_H)
                rel_ok = hint >= 1.0
        tests.append(Test(s.layer, s.name, s.slice, r.detector, r.statistic, r.p_value,
                          effect, onset_ts(r.onset), relative, _worse(s.bad, r.statistic),
                          rel_ok, hint, onset_ts(r.recovered), r.before, level))
    elif not screened:
        # still one test of the family: BH must not get laxer because a series was quiet
        tests.append(_quiet_test(s))
    else:
        r = robust_shift(s.values, s.times, direction=s.bad)
        relative_ok = abs(r.relative) >= MIN_GAUGE_RELATIVE or abs(r.before) < 1e-6
        sustained = sustained_move(r, s.values)
        practical = ((abs(r.effect) >= MIN_GAUGE_EFFECT and relative_ok) or sustained
                     ) and not r.recurring
        tests.append(Test(s.layer, s.name, s.slice, r.detector, r.statistic, r.p_value,
                          r.effect, onset_ts(r.onset), r.relative, _worse(s.bad, r.statistic),
                          practical, _gauge_hint(r, sustained),
                          onset_ts(r.recovered), r.before, r.after))
    if screened and s.bad != "down" and _is_lag(s):  # the cheap tests first
        g = lag_growth(s.values, s.times)
        # the lag's unit is unknown (seconds, minutes), so the rule is on its excess over
        # the usual range and a positive growth, not on the slope's size
        ok = g.statistic > 0 and g.effect >= MIN_LAG_EXCESS
        hint = g.effect / MIN_LAG_EXCESS
        tests.append(Test(s.layer, s.name, s.slice, g.detector, g.statistic, g.p_value,
                          g.effect, onset_ts(g.onset), g.relative, True, ok, hint,
                          onset_ts(g.recovered)))
    return tests


def _quiet_test(s: Series) -> Test:
    """The null test of a series the screen found quiet (``Test(layer, name, slice,
    "robust_shift", 0, 1, 0, None, 0, False, False, 0)``), built without the frozen
    ``__init__``: most series of a diagnosis are quiet, and setting fifteen fields one
    by one took longer than the screen's arithmetic for them."""
    return build(Test, {"layer": s.layer, "name": s.name, "slice": s.slice,
                        "detector": "robust_shift", "statistic": 0.0, "p_value": 1.0,
                        "effect": 0.0, "onset": None, "relative": 0.0, "worse": False,
                        "practical": False, "strength_hint": 0.0, "recovered": None,
                        "before": None, "after": None})


@functools.lru_cache(maxsize=32)
def _thinning_picks(total: int) -> np.ndarray:
    """Positions of the ``_MAX_DIST_VALUES`` evenly thinned values among ``total``.

    The pools of one diagnosis have a few sizes (records of one size, a few onsets)
    and the same sizes come back diagnosis after diagnosis; read-only.
    """
    picks = np.linspace(0, total - 1, _MAX_DIST_VALUES).astype(np.int64)
    picks.flags.writeable = False
    return picks


def _pool(arrays: list[np.ndarray]) -> np.ndarray:
    """All values of ``arrays`` as one new sample, evenly thinned to ``_MAX_DIST_VALUES``.

    The thinning picks the same positions as it would in the concatenation, but
    from each array in turn, so a day of records is never copied whole first.
    """
    total = sum(a.size for a in arrays)
    if total <= _MAX_DIST_VALUES:
        return np.concatenate(arrays) if arrays else np.empty(0)
    picks = _thinning_picks(total)
    bounds = np.searchsorted(picks, np.cumsum([0, *(a.size for a in arrays)]))
    offset, parts = 0, []
    for a, lo, hi in zip(arrays, bounds[:-1], bounds[1:], strict=True):
        parts.append(a[picks[lo:hi] - offset])
        offset += a.size
    return np.concatenate(parts)


@functools.lru_cache(maxsize=32)
def _drift_picks(total: int) -> np.ndarray:
    """Positions, among ``total`` pooled values, of those the drift test reads.

    :func:`_pool` thins to ``_MAX_DIST_VALUES`` and ``numeric_drift(sample=)`` thins
    that to ``DRIFT_SAMPLE``: the positions of the second thinning taken in the
    first, so a block gathers only the values the test reads (the same values in
    the same order), not the 20,000 first. Read-only, cached like the picks.
    """
    picks = _thinning_picks(total) if total > _MAX_DIST_VALUES else np.arange(total)
    if picks.size > DRIFT_SAMPLE:
        picks = picks[sample_positions(picks.size, DRIFT_SAMPLE)]
    picks.flags.writeable = False
    return picks


def _drift_sample_rows(rows: np.ndarray) -> np.ndarray:
    """``numeric_drift``'s thinned sample of :func:`_pool` of the rows of a C-contiguous
    block, gathered at once from its flat view (a new array: the test sorts it)."""
    flat = rows.reshape(-1)
    return flat[_drift_picks(flat.size)]


_QUANTILES = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
# Values per record the onset scan reads (every ``size // _ONSET_VALUES``-th): the
# scan only places the onset, and the drift test then reads the pools on each side.
# A quantile of n values has a sampling SD of sqrt(q (1 - q) / n) / density: at
# n = 1,000 0.04 SD at the median and 0.054 at the deciles (0.028 and 0.038 at
# 2,000), so a practical drift (MIN_DRIFT_EFFECT: a 0.15-SD move of every quantile)
# still stands about three noise SDs above each record's distance, and the scan
# reads a step over several records. Sorting the records is most of the scan's cost,
# and 1,000 values a record sort in under half the time of 2,000.
_ONSET_VALUES = 1000


def _row_quantiles(x: np.ndarray, q: np.ndarray, *, scratch: bool = False) -> np.ndarray:
    """``np.quantile(x, q, axis=-1)`` (linear method) of finite values, rows last.

    One sort, then the order statistics the quantiles interpolate between, replaces
    ``np.quantile``'s general path, which partitions once per quantile and is
    several times slower on the pooled references and 2-D record stacks used here
    (so is one ``np.partition`` on ten order statistics). The interpolation is
    numpy's, term for term, so the values are the same. A ``scratch`` array (one the
    caller built and no longer needs in its order) is sorted in place, not copied.
    """
    if scratch:
        x.sort(axis=-1)
        return _sorted_quantiles(x, q)
    return _sorted_quantiles(np.sort(x, axis=-1), q)


def _block_distance(block: np.ndarray, head: int) -> list[float]:
    """:func:`_dist_onset`'s per-record distances for records of one size, as rows.

    The same thinned values, reference and quantiles as for a list of records, each
    taken from the block in one call (a strided view, copied once where it is sorted).
    The reference is the first ``head`` records pooled: its quantiles are read from
    those records' sorted rows (:func:`classifiers.merged_quantiles.merged_quantiles`),
    without merging them, which cost more than all else the reference needs.
    """
    thinned = block[:, :: max(1, block.shape[1] // _ONSET_VALUES)]
    # the spread of the pool in row order, as the concatenation (a sum's order matters)
    scale = float(np.std(thinned[:head].flatten())) or 1.0
    rows = np.sort(thinned, axis=-1)
    ref_q = merged_quantiles(rows[:head], _QUANTILES)
    q = _sorted_quantiles(rows, _QUANTILES)
    return list(np.max(np.abs(q - ref_q), axis=1) / scale)


def _dist_onset(d: Distribution) -> int:
    """Index of the first 'after' record: a shift in per-record distance to the start.

    The distance of a numeric record is its largest quantile difference (deciles and
    quartiles) to the pooled first quarter, in reference SDs: O(n) per record, where
    a KS per record would sort each one.
    """
    count = len(d.times)
    if count < 12:
        return count // 2 if count > 2 else count - 1
    head = max(3, count // 4)
    if d.block is not None:
        distance = _block_distance(d.block, head)
    elif d.samples:
        # quantiles of about _ONSET_VALUES values per record (a strided subsample); the
        # reference is the first quarter's thinned records, pooled
        thinned = [x[:: max(1, x.size // _ONSET_VALUES)] for x in d.samples]
        reference = np.concatenate(thinned[:head])
        scale = float(np.std(reference)) or 1.0
        ref_q = _row_quantiles(reference, _QUANTILES, scratch=True)
        if len({x.size for x in thinned}) == 1 and thinned[0].size:
            # records of one size: all their quantiles in one call on a 2-D array
            q = _row_quantiles(np.vstack(thinned), _QUANTILES, scratch=True)
            distance = list(np.max(np.abs(q - ref_q), axis=1) / scale)
        else:
            distance = [float(np.max(np.abs(_row_quantiles(x, _QUANTILES) - ref_q))) / scale
                        if x.size else 0.0 for x in thinned]
    else:
        pooled: dict[str, float] = {}
        for counts in d.categories[:head]:
            for k, v in counts.items():
                pooled[k] = pooled.get(k, 0.0) + v
        distance = [categorical_drift(pooled, c).jensen_shannon for c in d.categories]
    r = robust_shift(np.asarray(distance), np.asarray(d.times), direction="up", min_segment=2)
    return r.onset if r.onset > 0 else count // 2


def _distribution_tests(d: Distribution) -> list[Test]:
    count = len(d.times)
    if count < 2 or (d.samples and len(d.samples) != count):
        return []
    k = _dist_onset(d)
    if k <= 0 or k >= count:
        return []
    if d.block is not None:
        r = numeric_drift(_drift_sample_rows(d.block[:k]), _drift_sample_rows(d.block[k:]),
                          scratch=True, sample=DRIFT_SAMPLE)
    elif d.samples:
        r = numeric_drift(_pool(d.samples[:k]), _pool(d.samples[k:]), scratch=True,
                          sample=DRIFT_SAMPLE)
    elif len(d.categories) == count:
        before: dict[str, float] = {}
        after: dict[str, float] = {}
        for i, counts in enumerate(d.categories):
            target = before if i < k else after
            for key, value in counts.items():
                target[key] = target.get(key, 0.0) + value
        r = categorical_drift(before, after)
    else:
        return []
    return [Test(d.layer, d.name, d.slice, r.detector, r.statistic, r.p_value, r.effect,
                 d.times[k], r.psi, True, r.effect >= MIN_DRIFT_EFFECT,
                 r.effect / MIN_DRIFT_EFFECT)]


def _state_tests(s: States) -> tuple[list[Test], list[tuple[float, str, str]]]:
    """Mismatch tests, and switches of the served value (read as changes that happened)."""
    tests, switches = [], []
    if any(e is not None for e in s.expected):
        r = state_mismatch(s.served, s.expected)
        if r.onset >= 0:
            tests.append(Test(s.layer, s.name, s.slice, r.detector, r.statistic, r.p_value,
                              r.effect, s.times[r.onset], r.effect, True,
                              r.effect >= MIN_STATE_EFFECT, r.effect / MIN_STATE_EFFECT))
    r = state_switch(s.served)
    if r.onset >= 0 and r.p_value < ALPHA:
        switches.append((s.times[r.onset], s.name, s.served[r.onset]))
    return tests, switches


NEWBORN_MIN_SECONDS = 1800.0  # a slice that appears this long after its siblings is new
NEWBORN_MIN_POINTS = 5


def _newborn_tests(data: Assembled) -> list[Test]:
    """A slice value that appeared mid-window (a canary version, a new route) against
    its siblings over the same time.

    Such a series has no baseline of its own, so the shift detectors cannot test it;
    yet the canary that fails on its tenth of traffic is the commonest model
    regression there is, and on all traffic its effect is diluted tenfold. Its own
    level after its birth is compared with that of the other values of its
    dimension after the same moment: a pooled two-proportion z test (rates with
    counts, with the siblings' overdispersion) or a mean difference over the
    siblings' point noise (gauges). The onset is its birth.
    """
    groups: dict[tuple[str, str, str], list[Series]] = {}
    for (layer, name, key), s in data.series.items():
        if len(key) == 1 and s.values.size:
            groups.setdefault((layer, name, key[0][0]), []).append(s)
    tests = []
    for members in groups.values():
        if len(members) < 2:
            continue
        starts = [float(m.times[0]) for m in members]
        earliest = min(starts)
        for s, born in zip(members, starts, strict=True):
            if born - earliest < NEWBORN_MIN_SECONDS or s.values.size < NEWBORN_MIN_POINTS:
                continue
            rest = [m for m in members if m is not s and m.times[0] < born]
            if not rest:
                continue
            test = _newborn_test(s, rest, born)
            if test is not None:
                tests.append(test)
    return tests


def _newborn_test(s: Series, rest: list[Series], born: float) -> Test | None:
    if s.kind == "ratio" and s.has_counts and all(m.has_counts for m in rest):
        n_in = float(s.counts.sum())
        p_in = float((s.values * s.counts).sum()) / n_in
        after = [(m.values[m.times >= born], m.counts[m.times >= born]) for m in rest]
        n_out = float(sum(c.sum() for _, c in after))
        if n_out <= 0:
            return None
        p_out = float(sum((v * c).sum() for v, c in after)) / n_out
        pooled = (p_in * n_in + p_out * n_out) / (n_in + n_out)
        se = math.sqrt(max(pooled * (1 - pooled) * (1 / n_in + 1 / n_out), 1e-18))
        delta = p_in - p_out
        z = delta / se
        relative = delta / max(p_out, 1e-9)
        h = 2 * math.asin(math.sqrt(min(max(p_in, 0), 1))) - 2 * math.asin(
            math.sqrt(min(max(p_out, 0), 1)))
        worse = _worse(s.bad, z)
        events = p_in * n_in
        practical = (abs(relative) >= MIN_RATE_RELATIVE and abs(h) >= MIN_RATE_H
                     and events >= MIN_RATE_EVENTS)
        hint = min(abs(relative) / MIN_RATE_RELATIVE, abs(h) / MIN_RATE_H)
        effect = h
    else:
        others = np.concatenate([m.values[m.times >= born] for m in rest])
        if others.size < NEWBORN_MIN_POINTS:
            return None
        level, spread = center_spread(others)
        own, own_spread = center_spread(s.values)
        # measured in the SD pooled over both sides (Cohen's d): a canary on a tenth of
        # the traffic averages a tenth of the requests per point, so its own points are
        # several times noisier than its siblings', and a level within that noise (a
        # healthy canary whose users differ a little) is no effect
        pooled = math.sqrt(0.5 * (spread * spread + own_spread * own_spread))
        sd = max(pooled, 1e-3 * abs(level), 1e-9)
        delta = own - level
        z = delta / (sd * math.sqrt(1 / s.values.size + 1 / others.size) * 1.25)
        relative = delta / max(abs(level), 1e-9)
        effect = delta / sd
        worse = _worse(s.bad, z)
        practical = abs(effect) >= MIN_GAUGE_EFFECT and abs(relative) >= MIN_GAUGE_RELATIVE
        hint = abs(effect) / MIN_GAUGE_EFFECT
    p = min(1.0, float(math.erfc(abs(z) / math.sqrt(2))))  # two-sided, like the others
    return Test(s.layer, s.name, s.slice, "newborn_slice", z, p, effect, born, relative,
                worse, practical, hint)


def _requests(data: Assembled) -> Series | None:
    """The all-traffic rate series with the most counts: its counts are the traffic."""
    rates = [s for (_, _, key), s in data.series.items() if not key and s.has_counts]
    return max(rates, key=lambda s: float(s.counts.sum()), default=None)


def _at_fixed_traffic(s: Series, requests: Series | None) -> Series | None:
    """A per-request cost that follows the traffic, as at the traffic of the window's end
    (:mod:`classifiers.cost_traffic`): its test then sees what the spend did, not the
    day's load. None for every other series (tested as they are)."""
    if requests is None or s.layer != "cost" or s.kind == "ratio" or s.has_counts:
        return None
    values = at_fixed_traffic(s.values, s.times, requests.counts, requests.times)
    return None if values is None else dataclasses.replace(s, values=values)


def run_tests(data: Assembled) -> tuple[list[Test], list[tuple[float, str, str]]]:
    tests: list[Test] = []
    switches: list[tuple[float, str, str]] = []
    worth = screen(list(data.series.values()))
    requests = _requests(data)
    for s in data.series.values():
        fixed = _at_fixed_traffic(s, requests)
        tests.extend(_series_tests(s, worth[id(s)]) if fixed is None
                     else _series_tests(fixed, True))
    tests.extend(_newborn_tests(data))
    for d in data.distributions.values():
        tests.extend(_distribution_tests(d))
    for st in data.states.values():
        found, switched = _state_tests(st)
        tests.extend(found)
        switches.extend(switched)
    return tests, switches


def _strength(test: Test, q: float) -> float:
    significance = min(1.0, math.sqrt(max(-math.log10(max(q, 1e-300)), 0.0) / 6.0))
    # effects just over the threshold are common on healthy days; clear ones are not
    size = 1.0 - math.exp(-1.5 * max(test.strength_hint - 0.5, 0.0))
    return float(significance * size)


def select_findings(tests: list[Test], alpha: float = ALPHA) -> list[Finding]:
    """Findings: BH-corrected q <= alpha, effect above threshold, in the harmful direction."""
    if not tests:
        return []
    q = benjamini_hochberg([t.p_value for t in tests])
    findings = [Finding(t, float(qv), _strength(t, float(qv)), t.onset)
                for t, qv in zip(tests, q, strict=True)
                if qv <= alpha and t.practical and t.worse and t.onset is not None]
    # one finding per series: the strongest detector
    best: dict[tuple[str, str, SliceKey], Finding] = {}
    for f in findings:
        key = (f.test.layer, f.test.name, f.test.slice)
        if key not in best or f.strength > best[key].strength:
            best[key] = f
    return sorted(best.values(), key=lambda f: -f.strength)
