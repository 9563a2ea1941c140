"""The watch's decision on the failure patterns real metric streams showed (issue 13).

Each series is fed to :func:`bot.diagnosis.watch.judge` point by point, as the
scheduled watch sees it, from exchange records (``series_points``). The patterns:
coarse (hourly) data, a lone gauge moving ~4 SD on an infra or quality layer, a
daily square wave, flat or idle baselines, calm plateaus with steps, regular bursts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.watch import judge, series_points

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday


def records(values: np.ndarray, step_seconds: float, *, layer: str = "runtime",
            name: str = "p95_latency_ms", bad: str | None = None) -> list[Any]:
    out = []
    for i, v in enumerate(values):
        record: dict[str, Any] = {
            "type": "signal", "service": "svc", "layer": layer, "name": name,
            "ts": (T0 + timedelta(seconds=i * step_seconds)).isoformat().replace("+00:00", "Z"),
            "value": float(v)}
        if bad:
            record["bad"] = bad
        out.append(record)
    batch = parse_objects(out)
    assert not batch.errors
    return batch.records


def alarm_rows(values: np.ndarray, step_seconds: float, **kwargs: Any) -> list[int]:
    """Rows at which the watch alarms, fed one point per run."""
    points = series_points(records(values, step_seconds, **kwargs))
    (key, series), = points.items()
    states: dict = {}
    rows = []
    for i in range(series.times.size):
        one = {key: type(series)(series.times[i:i + 1], series.values[i:i + 1], series.bad)}
        judgement = judge(states, one, since=float(series.times[i]))
        states = judgement.states
        if judgement.degraded:
            rows.append(i)
    return rows


def test_an_hourly_series_is_tested_and_a_shift_found_within_hours() -> None:
    # ten days of hourly points (a 180-minute window holds three of them)
    rng = np.random.default_rng(1)
    y = 100 + rng.normal(0, 4, 24 * 12)
    y[24 * 10:] += 30  # a 7.5 SD shift for the last two days
    rows = alarm_rows(y, 3600.0)
    assert rows and 24 * 10 <= rows[0] <= 24 * 10 + 3, rows
    assert [r for r in rows if 24 * 3 <= r < 24 * 10] == []  # nothing before it


def test_a_lone_gauge_moving_four_sd_on_an_infra_or_quality_layer_opens() -> None:
    rng = np.random.default_rng(2)
    for layer, name, bad, sign in (("infra", "gpu_util", None, 1.0),
                                   ("quality", "groundedness", "down", -1.0)):
        y = 50 + rng.normal(0, 1, 480)
        y[460:] += sign * 4.0  # 4 SD, the last 20 minutes
        rows = alarm_rows(y, 60.0, layer=layer, name=name, bad=bad)
        assert rows and 460 <= rows[0] <= 466, (layer, rows)
        assert [r for r in rows if r < 460] == [], (layer, rows)


def test_a_quality_rise_in_the_harmless_direction_opens_nothing() -> None:
    rng = np.random.default_rng(3)
    y = 0.8 + rng.normal(0, 0.01, 480)
    y[460:] += 0.05  # groundedness up 5 SD: better, not worse
    assert alarm_rows(y, 60.0, layer="quality", name="groundedness", bad="down") == []


def test_a_daily_square_wave_opens_nothing_once_its_cycle_is_known() -> None:
    # noiseless: high from 09:00 to 21:00, low otherwise, 5-minute points, 17 days
    t = np.arange(17 * 288) * 300.0
    hour = (t % 86400) / 3600
    y = np.where((hour >= 9) & (hour < 21), 80.0, 20.0)
    rows = alarm_rows(y, 300.0)
    assert [r for r in rows if r >= 3 * 288] == [], rows  # after three days of history


def test_an_idle_baseline_and_float_jitter_are_no_million_sd_changes() -> None:
    rng = np.random.default_rng(4)
    # a queue that is idle (0) with a request now and then, then a little busier
    queue = (rng.random(2 * 1440) < np.where(np.arange(2 * 1440) < 1440, 0.03, 0.06)) * 1.0
    assert [r for r in alarm_rows(queue, 60.0, name="queue_depth") if r >= 60] == []
    # a gauge stuck at 12.0 for a day that starts to jitter in the seventh digit
    flat = np.full(1500, 12.0)
    flat[1440:] += rng.normal(0, 1e-6, 60)
    assert alarm_rows(flat, 60.0, name="replicas") == []
    # ... but the idle queue filling up is seen at once
    busy = queue.copy()
    busy[2000:] = 40.0
    rows = alarm_rows(busy, 60.0, name="queue_depth")
    assert rows and 2000 <= rows[0] <= 2001


def test_a_calm_plateau_that_steps_eight_percent_every_two_hours_opens_once() -> None:
    # a calm plateau (noise 0.1 %) that steps up 8 % for half an hour every two hours
    # (give or take ten minutes), 5-minute points
    rng = np.random.default_rng(5)
    n = 3 * 288
    y = np.full(n, 2.0)
    starts = np.arange(12, n, 24) + rng.integers(-2, 3, len(range(12, n, 24)))
    for s in starts:
        y[s:s + 6] = 2.16
    y = np.round(y + rng.normal(0, 0.002, n), 3)
    rows = alarm_rows(y, 300.0, name="cpu_utilization")
    assert rows and rows[0] < starts[3]  # the first steps are news
    # one incident at most (an open incident covers later alarms; a new one needs
    # three quiet hours first): not one per step, as the 180-minute window made it
    opened = [r for k, r in enumerate(rows) if k == 0 or r - rows[k - 1] > 36]
    assert len(opened) <= 1, opened


def test_regular_25_minute_bursts_are_the_series_rhythm_not_shifts() -> None:
    rng = np.random.default_rng(6)
    n = 2 * 1440
    y = 400 + rng.normal(0, 15, n)
    starts = np.arange(60, n, 120) + rng.integers(-8, 9, len(range(60, n, 120)))
    for s in starts:  # a batch job: +50 % for 25 minutes every two hours, give or take
        y[s:s + 25] += 200
    rows = alarm_rows(y, 60.0)
    assert [r for r in rows if r >= starts[3]] == [], rows
    # a burst that outgrows the rhythm (three times as high) is an alarm again
    y[starts[-2]:starts[-2] + 25] += 400
    rows = alarm_rows(y, 60.0)
    assert [r for r in rows if r >= starts[3]] and all(
        starts[-2] <= r < starts[-2] + 90 for r in rows if r >= starts[3]), rows
