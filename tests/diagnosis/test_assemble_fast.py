"""Columnar assembly and the quantile shortcut agree with the plain definitions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.diagnosis.assemble import assemble, slice_key
from bot.diagnosis.detect import _QUANTILES, _row_quantiles
from bot.exchange import SignalRecord

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
