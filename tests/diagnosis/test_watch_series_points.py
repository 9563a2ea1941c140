"""The watch's series from records: one point per series in arrays directly, the same
as ``assemble`` makes of them; anything else goes through ``assemble``."""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.assemble import assemble, slice_text
from bot.diagnosis.watch import SeriesPoints, series_points
from tests.diagnosis.helpers import ts


def _through_assemble(records: list[Any]) -> dict[Any, SeriesPoints]:
    """What the watch made of records before (every run through ``assemble``)."""
    data = assemble(records)
    return {(layer, name, slice_text(key)): SeriesPoints(
        s.times, s.values, s.bad, s.counts if s.kind == "ratio" else None)
        for (layer, name, key), s in data.series.items()}


def _signal(minute: float, name: str, value: float, **more: Any) -> dict[str, Any]:
    return {"type": "signal", "ts": ts(minute), "service": "rag", "layer": "runtime",
            "name": name, "value": value, **more}


def _same(records: list[dict[str, Any]]) -> dict[Any, SeriesPoints]:
    parsed = parse_objects(records).records
    ours, theirs = series_points(parsed), _through_assemble(parsed)
    assert list(ours) == list(theirs)  # same series, same order
    for key, mine in ours.items():
        other = theirs[key]
        assert mine.bad == other.bad
        np.testing.assert_array_equal(mine.times, other.times)
        np.testing.assert_array_equal(mine.values, other.values)
        assert (mine.counts is None) == (other.counts is None)
        if mine.counts is not None:
            np.testing.assert_array_equal(mine.counts, other.counts)
    return ours


ONE_EACH = [
    _signal(1, "latency_ms", 120.0),
    _signal(1, "latency_ms", 130.0, slice={"tenant": "acme", "region": "eu"}),
    _signal(1, "latency_ms", 110.0, slice={"region": "us", "tenant": "beta"}),
    _signal(1, "error_rate", 0.02, count=500),
    _signal(1, "error_rate", 0.5, count=2, slice={"tenant": "acme"}),
    _signal(1, "refusal_rate", 0.1, kind="ratio"),  # a ratio without its count
    _signal(1, "queue_depth", 3, bad="up"),
]


def test_one_point_per_series_is_what_assemble_makes_of_it() -> None:
    points = _same(ONE_EACH)
    assert points[("runtime", "latency_ms", "region=eu,tenant=acme")].values.tolist() == [130.0]
    assert np.isnan(points[("runtime", "refusal_rate", "")].counts).all()
    assert points[("runtime", "latency_ms", "")].counts is None  # a gauge carries none


def test_several_points_duplicates_and_slice_only_signals_go_through_assemble() -> None:
    _same([*ONE_EACH, _signal(2, "latency_ms", 125.0)])             # two points
    _same([*ONE_EACH, _signal(1, "queue_depth", 5, bad="up")])      # merged at one time
    slice_only = [_signal(1, "cost_usd", 2.0, slice={"tenant": "acme"}),
                  _signal(1, "cost_usd", 4.0, slice={"tenant": "beta"})]
    points = _same([*ONE_EACH, *slice_only])
    assert ("runtime", "cost_usd", "") in points  # the synthesised all-traffic series
    assert _same([]) == {}
