"""The watch's model cache: a model is decoded again unless its bytes are those written.

The store keeps a model's bucket ring apart; the cache reads the rings only of the
models it must decode, and the ring is marked for writing only when it changed.
"""

from __future__ import annotations

import numpy as np

from bot.diagnosis.watch import ModelCache
from classifiers.watch_codec import encode, encode_split
from classifiers.watch_test import WatchState, advance

KEY = ("runtime", "p95_latency_ms", "")
Key = tuple[str, str, str]


def _state(n: int) -> WatchState:
    t = 1.7e9 + 60.0 * np.arange(n)
    return advance(WatchState.empty(), t, 100 + np.sin(np.arange(n)))[0]


class Rings:
    """The store's rings, counting which keys were asked for."""

    def __init__(self, rings: dict[Key, bytes | None]) -> None:
        self.rings = rings
        self.asked: list[list[Key]] = []

    def __call__(self, keys: list[Key]) -> dict[Key, bytes | None]:
        self.asked.append(list(keys))
        return {k: self.rings.get(k) for k in keys}


def test_the_state_this_process_wrote_is_reused_and_any_other_is_decoded() -> None:
    cache = ModelCache()
    state = _state(300)
    split = cache.encode("svc", {KEY: state})[KEY]
    rings = Rings({KEY: split.history})
    assert cache.decode("svc", {KEY: bytes(split.model)}, rings)[KEY] is state  # as stored
    assert rings.asked == []  # nothing decoded: no ring read
    moved = encode_split(_state(310))  # another replica moved the model on
    decoded = cache.decode("svc", {KEY: moved.model}, Rings({KEY: moved.history}))[KEY]
    assert decoded is not state and decoded.points == 310
    other = Rings({KEY: split.history})
    assert cache.decode("other-svc", {KEY: split.model}, other)[KEY] is not state  # per service
    assert other.asked == [[KEY]]


def test_a_model_stored_whole_before_the_split_still_decodes() -> None:
    decoded = ModelCache().decode("svc", {KEY: encode(_state(200))}, Rings({KEY: None}))[KEY]
    assert decoded.points == 200


def test_the_ring_is_marked_for_writing_only_when_it_changed() -> None:
    cache = ModelCache()
    t = 1.7e9 + 60.0 * np.arange(400)
    y = 100 + np.sin(np.arange(400))
    state = advance(WatchState.empty(), t[:300], y[:300])[0]
    assert cache.encode("svc", {KEY: state})[KEY].history_changed  # first write
    marks = []
    for i in range(300, 400):
        state = advance(state, t[i:i + 1], y[i:i + 1])[0]
        marks.append(cache.encode("svc", {KEY: state})[KEY].history_changed)
    # one point a minute: a half-hour bucket closes every 30 points, and only then
    assert 3 <= sum(marks) <= 4 and not all(marks[:29])


def test_the_cache_is_bounded() -> None:
    cache = ModelCache(limit=2)
    state = _state(60)
    splits = [cache.encode(f"svc{i}", {KEY: state})[KEY] for i in range(3)]
    rings = Rings({KEY: splits[0].history})
    assert cache.decode("svc0", {KEY: splits[0].model}, rings)[KEY] is not state  # evicted
    assert cache.decode("svc2", {KEY: splits[2].model}, rings)[KEY] is state
