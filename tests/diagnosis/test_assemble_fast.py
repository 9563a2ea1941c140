"""Columnar assembly and the shortcuts of a diagnosis agree with the plain definitions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.core.exchange_records import SignalRecord
from bot.diagnosis.assemble import Series, assemble, slice_key
from bot.diagnosis.contrasts import SLICE_HORIZON, SLICE_WINDOW
from bot.diagnosis.contrasts import combine as _combine
from bot.diagnosis.contrasts import window as _window
from bot.diagnosis.detect import _MAX_DIST_VALUES, _QUANTILES, _pool, _row_quantiles

T0 = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (50_000,), (24, 2000), (3, 5)])
def test_row_quantiles_match_numpy(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(len(shape)).normal(size=shape)
    expected = np.quantile(x, _QUANTILES, axis=-1)
    assert np.array_equal(_row_quantiles(x, _QUANTILES), expected.T if x.ndim == 2 else expected)


def _signal(minute: int, value: float, slice_: dict[str, str], count: float | None = None
            ) -> SignalRecord:
    return SignalRecord(type="signal", ts=T0 + timedelta(minutes=minute), service="s",
                        layer="model", name="latency", value=value, count=count, slice=slice_)


def test_interleaved_records_group_by_slice_whatever_the_map_order() -> None:
    records = [_signal(m, float(m), {"a": "1", "b": "2"} if m % 2 else {"b": "2", "a": "1"})
               for m in range(20)]
    records += [_signal(m, 100.0 + m, {}, count=5.0) for m in range(20)]
    records += [_signal(3, 7.0, {}, count=15.0)]  # a duplicate minute: count-weighted mean
    random.Random(0).shuffle(records)
    data = assemble(records)
    sliced = data.series[("model", "latency", slice_key({"a": "1", "b": "2"}))]
    assert np.array_equal(sliced.times, (T0.timestamp() + 60.0 * np.arange(20)))
    assert np.array_equal(sliced.values, np.arange(20.0))
    assert np.all(np.isnan(sliced.counts))
    total = data.series[("model", "latency", ())]
    assert total.values[3] == pytest.approx((103.0 * 5 + 7.0 * 15) / 20)
    assert total.counts[3] == 20.0
    assert data.start == T0.timestamp() and data.end == T0.timestamp() + 19 * 60.0


@pytest.mark.parametrize("sizes", [[10_000] * 21, [3, 70_000, 0, 5], [60_000], [1] * 10,
                                   [25_000, 25_001], [], [5, 7]])
def test_pool_thins_as_if_from_the_concatenation(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    arrays = [rng.normal(size=n) for n in sizes]
    whole = np.concatenate(arrays) if arrays else np.empty(0)
    if whole.size > _MAX_DIST_VALUES:
        whole = whole[np.linspace(0, whole.size - 1, _MAX_DIST_VALUES).astype(np.int64)]
    assert np.array_equal(_pool(arrays), whole)


def _series(times: np.ndarray, values: np.ndarray, counts: np.ndarray) -> Series:
    return Series("model", "error_rate", (("tenant", "x"),), "ratio", "up", times, values,
                  counts)


def test_combined_slices_are_count_weighted_on_shared_and_on_mixed_timestamps() -> None:
    t = np.arange(6, dtype=float) * 60.0
    a = _series(t, np.full(6, 0.1), np.full(6, 100.0))
    b = _series(t, np.full(6, 0.4), np.full(6, 300.0))
    shared = _combine([a, b])
    assert np.allclose(shared.values, (0.1 * 100 + 0.4 * 300) / 400)
    assert np.array_equal(shared.counts, np.full(6, 400.0))
    c = _series(t + 30.0, np.full(6, 0.9), np.full(6, 1.0))  # half a minute later
    mixed = _combine([a, c])
    assert mixed.times.size == 12 and np.allclose(mixed.values[::2], 0.1)
    assert np.allclose(mixed.values[1::2], 0.9)
    unknown = _series(t, np.full(6, 0.3), np.full(6, np.nan))
    assert np.all(np.isnan(_combine([a, unknown]).counts))


def test_contrast_window_keeps_only_what_the_contrast_reads() -> None:
    t = np.arange(1440, dtype=float) * 60.0
    s = _series(t, np.arange(1440.0), np.ones(1440))
    cut = _window(s, onset=t[1000])
    assert cut.times[0] == t[1000 - SLICE_WINDOW] and cut.times[-1] == t[1000 + SLICE_HORIZON - 1]
    assert _window(s, onset=t[30]).times[0] == t[0]
