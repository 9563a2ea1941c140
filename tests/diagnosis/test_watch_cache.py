"""The watch's model cache: a model is decoded again unless its bytes are those written."""

from __future__ import annotations

import numpy as np

from bot.diagnosis.watch import ModelCache
from classifiers.watch_codec import encode
from classifiers.watch_test import WatchState, advance

KEY = ("runtime", "p95_latency_ms", "")


def _state(n: int) -> WatchState:
    t = 1.7e9 + 60.0 * np.arange(n)
    return advance(WatchState.empty(), t, 100 + np.sin(np.arange(n)))[0]


def test_the_state_this_process_wrote_is_reused_and_any_other_is_decoded() -> None:
    cache = ModelCache()
    state = _state(300)
    blob = cache.encode("svc", {KEY: state})[KEY]
    assert cache.decode("svc", {KEY: bytes(blob)})[KEY] is state  # equal bytes, as stored
    other = encode(_state(310))  # another replica moved the model on
    decoded = cache.decode("svc", {KEY: other})[KEY]
    assert decoded is not state and decoded.points == 310
    assert cache.decode("other-svc", {KEY: blob})[KEY] is not state  # per service


def test_the_cache_is_bounded() -> None:
    cache = ModelCache(limit=2)
    state = _state(60)
    blobs = [cache.encode(f"svc{i}", {KEY: state})[KEY] for i in range(3)]
    assert cache.decode("svc0", {KEY: blobs[0]})[KEY] is not state  # evicted
    assert cache.decode("svc2", {KEY: blobs[2]})[KEY] is state
