"""The onset of a resource's slow climb into a kill (``classifiers.ramps.ramp_onset``)."""

from __future__ import annotations

import numpy as np

from classifiers.ramps import ramp_onset

HOUR = 3600.0


def _saw(rng: np.random.Generator, leak_from: float, per_hour: float, step: float = 60.0,
         hours: float = 12.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Flat at 6 until ``leak_from``, climbing ``per_hour`` to 16, reset to 6; the time of
    the first kill."""
    t = np.arange(0.0, hours * HOUR, step)
    cycle = 10.0 / per_hour * HOUR
    into = np.clip(t - leak_from, 0, None) % cycle
    y = np.where(t >= leak_from, 6.0 + into / HOUR * per_hour, 6.0)
    return t, y + rng.normal(0, 0.08, t.size), leak_from + cycle


def test_a_leak_is_dated_where_its_climb_began_not_at_the_kill() -> None:
    rng = np.random.default_rng(1)
    t, y, kill = _saw(rng, 3.0 * HOUR, 2.5)
    found = ramp_onset(y, t, kill)
    assert found is not None
    assert abs(found.onset - 3.0 * HOUR) <= 10 * 60, found
    assert found.low <= found.onset and found.rise > 50


def test_a_climb_without_a_reset_at_the_failure_is_no_leak_ramp() -> None:
    # the morning's climb with the load: no fall back at the failure's onset
    rng = np.random.default_rng(2)
    t = np.arange(0.0, 10 * HOUR, 60.0)
    y = np.where(t > 4 * HOUR, 6.0 + (t - 4 * HOUR) / HOUR, 6.0) + rng.normal(0, 0.08, t.size)
    assert ramp_onset(y, t, 8 * HOUR) is None


def test_a_flat_series_a_step_and_a_climb_from_the_window_start_have_no_ramp() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 6 * HOUR, 60.0)
    flat = 6.0 + rng.normal(0, 0.08, t.size)
    assert ramp_onset(flat, t, 4 * HOUR) is None
    step = np.where(t >= 4 * HOUR - 120, 16.0, 6.0) + rng.normal(0, 0.08, t.size)
    step[t >= 4 * HOUR + 300] = 6.0
    assert ramp_onset(step, t, 4 * HOUR) is None
    climbing = 6.0 + t / HOUR * 2.0 + rng.normal(0, 0.08, t.size)
    climbing[t >= 5 * HOUR] = 6.0
    assert ramp_onset(climbing, t, 5 * HOUR) is None


def test_a_saw_tooth_read_to_its_second_kill_does_not_fit_one_ramp() -> None:
    rng = np.random.default_rng(4)
    t, y, kill = _saw(rng, 2.0 * HOUR, 4.0)
    second = kill + 10.0 / 4.0 * HOUR
    assert ramp_onset(y, t, second) is None
    assert ramp_onset(y, t, kill) is not None
