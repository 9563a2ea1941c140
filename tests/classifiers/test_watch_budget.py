"""The watch's false-alarm budget on heavy-tailed series; the split pieces agree.

Fed straight to :func:`classifiers.watch_test.advance` (pure): 5-minute series
with heavy-tailed noise or spikes every day and a half, a budget that scales the
alarms, a shift still found, batch and point-by-point calls alike, the codec.
"""

from __future__ import annotations

import numpy as np

from classifiers.watch_codec import decode, encode
from classifiers.watch_test import WatchState, advance

STEP = 300.0
WEEK_POINTS = int(7 * 86400 / STEP)


def episodes(values: np.ndarray, *, budget: float = 1.0, chunk: int = 1) -> list[int]:
    """Points that start an alarm episode (no alarm in the 36 points before)."""
    t = 1.7e9 + STEP * np.arange(values.size)
    state, opened, last = WatchState.empty(), [], -10**9
    for i in range(0, values.size, chunk):
        state, verdict = advance(state, t[i:i + chunk], values[i:i + chunk],
                                 false_alarms_per_week=budget)
        for alarm in verdict.alarms:
            row = int(round((alarm.time - t[0]) / STEP))
            if row - last > 36:
                opened.append(row)
            last = row
    return opened


def spiky(weeks: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = 20 + rng.normal(0, 1, weeks * WEEK_POINTS)
    every = int(1.5 * 86400 / STEP)
    for start in range(every // 2, y.size, every):
        y[start + int(rng.integers(0, 20))] += rng.uniform(15, 40)  # a 15-40 SD spike
    return y


def test_heavy_tailed_noise_is_held_near_the_budget() -> None:
    # Student-t noise of 1.5 degrees of freedom (tweet volumes, ad-exchange rates):
    # its tail is heavier than the calibration extrapolates, so before the watch
    # paced itself by its own alarms it raised 31 episodes in these 8 series-weeks
    weeks, opened = 0, 0
    for seed in (1, 2):
        y = 20 + np.random.default_rng(seed).standard_t(1.5, 5 * WEEK_POINTS)
        opened += len([r for r in episodes(y) if r >= WEEK_POINTS])  # after a week
        weeks += 4
    assert opened <= 1.25 * weeks + 2, opened


def test_a_larger_budget_allows_more_alarms() -> None:
    y = spiky(4, 8)
    strict = [r for r in episodes(y, budget=1.0) if r >= WEEK_POINTS]
    loose = [r for r in episodes(y, budget=8.0) if r >= WEEK_POINTS]
    assert len(loose) > len(strict)


def test_a_clear_shift_still_alarms_after_the_spikes() -> None:
    y = spiky(3, 9)
    y[-200:] += 12.0  # a 12 SD level shift for the last 200 points
    opened = episodes(y)
    assert any(y.size - 200 <= r <= y.size - 190 for r in opened), opened[-5:]


def test_points_in_one_call_or_one_per_call_alarm_alike() -> None:
    y = spiky(2, 10)
    y[-100:] += 10.0
    assert episodes(y, chunk=1) == episodes(y, chunk=97)


def test_the_stored_model_decodes_to_what_was_encoded() -> None:
    t = 1.7e9 + STEP * np.arange(3000)
    state, _ = advance(WatchState.empty(), t, spiky(2, 11)[:3000])
    again = decode(encode(state))
    assert again.points == state.points and again.history.open_key == state.history.open_key
    np.testing.assert_array_equal(again.history.keys, state.history.keys)
    np.testing.assert_allclose(again.history.means, state.history.means, rtol=1e-6)
    np.testing.assert_allclose(again.recent_values, state.recent_values)
    np.testing.assert_allclose(again.episodes, state.episodes)
    # and the decoded model goes on exactly as the one in memory
    more_t, more_y = t[-1] + STEP * np.arange(1, 200), 20 + np.zeros(199)
    more_y[150:] += 15.0
    _, a = advance(state, more_t, more_y)
    _, b = advance(again, more_t, more_y)
    assert [x.time for x in a.alarms] == [x.time for x in b.alarms] and a.alarms


def test_a_model_stored_in_the_first_format_still_decodes() -> None:
    from classifiers import watch_codec as codec

    t = 1.7e9 + STEP * np.arange(600)
    state, _ = advance(WatchState.empty(), t, spiky(1, 12)[:600])
    # the first format: the scalars, then each array as its byte length and raw bytes
    h = state.history
    arrays = {"offsets": np.where(h.keys >= 0, h.open_key - h.keys, -1), "means": h.means,
              "cycle": h.cycle, "recent_times": state.recent_times - h.last_time,
              "recent_values": state.recent_values, "scores": state.scores,
              "calibration": state.calibration.reshape(-1), "hourly": state.hourly_noise,
              "thresholds": state.thresholds.reshape(-1),
              "episodes": state.episodes.reshape(-1), "episode": state.episode}
    parts = [bytes([1]), codec._scalars(state).tobytes()]
    for name in codec._ARRAYS:
        raw = np.ascontiguousarray(arrays[name], dtype=codec._DTYPES[name]).tobytes()
        parts += [np.uint32(len(raw)).tobytes(), raw]
    old = decode(b"".join(parts))
    new = decode(encode(state))
    assert old.points == new.points == 600
    np.testing.assert_array_equal(old.history.keys, new.history.keys)
    np.testing.assert_array_equal(old.calibration, new.calibration)


def test_the_thresholds_read_together_are_those_read_one_by_one() -> None:
    from classifiers.watch_tails import PRIOR, sum_thresholds, tail_threshold

    rng = np.random.default_rng(5)
    for trial in range(200):
        calibration = np.tile(PRIOR, (4, 2, 1)) * rng.uniform(0.0, 2.0)
        calibration += rng.exponential(rng.uniform(0.01, 50.0), calibration.shape) * (
            rng.uniform(size=calibration.shape) < rng.uniform())
        if trial % 7 == 0:
            calibration[trial % 4, trial % 2] = 0.0  # a row with no counts: the Gaussian
        risk = 10.0 ** rng.uniform(-9.0, -1.0)
        one_by_one = [[tail_threshold(calibration[s, side], risk) for side in (0, 1)]
                      for s in range(4)]
        np.testing.assert_allclose(sum_thresholds(calibration, risk), one_by_one, rtol=1e-12)


def test_a_model_encoded_from_its_previous_bytes_is_the_same_bytes() -> None:
    t = 1.7e9 + STEP * np.arange(700)
    y = spiky(1, 13)[:700]
    state, _ = advance(WatchState.empty(), t[:600], y[:600])
    blob = encode(state)
    for i in range(600, 700):  # a bucket closes every 30 points: reused, then rewritten
        after, _ = advance(state, t[i:i + 1], y[i:i + 1])
        again = encode(after, (state, blob))
        assert again == encode(after)
        state, blob = after, again


def test_a_full_ring_keeps_its_last_points_however_they_come() -> None:
    """One point at a time (a full ring shifts) or all at once (concatenated): the same ring."""
    rng = np.random.default_rng(7)
    t = 1.7e9 + STEP * np.arange(400)
    y = 20 + rng.normal(0, 1, t.size)
    one, _ = advance(WatchState.empty(), t[:300], y[:300])
    whole, _ = advance(WatchState.empty(), t, y)
    for i in range(300, t.size):
        one, _ = advance(one, t[i:i + 1], y[i:i + 1])
    assert one.recent_times.dtype == np.float64 and one.recent_values.dtype == np.float64
    np.testing.assert_array_equal(one.recent_times, t[-256:])
    np.testing.assert_array_equal(one.recent_values, y[-256:])
    assert encode(one) == encode(whole)
