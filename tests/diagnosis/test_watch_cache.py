"""The watch's model cache: a model is read and decoded again unless its row carries the
write token of this process's last save of it (on both stores)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

import bot.diagnosis.watch as watch
from bot.core.services import Services
from bot.diagnosis.watch import ModelCache, judge
from classifiers.watch_codec import encode
from classifiers.watch_test import WatchState, advance
from store.db import session_scope
from store.watch_queries import save_watch_models
from tests.diagnosis.helpers import T0

KEY = ("runtime", "p95_latency_ms", "")


def _state(n: int) -> WatchState:
    t = 1.7e9 + 60.0 * np.arange(n)
    return advance(WatchState.empty(), t, 100 + np.sin(np.arange(n)))[0]


def _save(services: Services, cache: ModelCache, service: str, state: WatchState,
          token: int) -> None:
    with session_scope(services.engine) as session:
        known = cache.load(session, service).rows
        blobs = cache.encode(service, {KEY: state}, token)
        save_watch_models(session=session, service=service, now=T0, token=token, known=known,
                          models={KEY: (blobs[KEY], T0)})


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows' bytes each load read."""
    read: list[int] = []
    original = watch.load_watch_blobs

    def counted(**kwargs: object) -> dict[int, bytes]:
        ids = kwargs["ids"]
        assert isinstance(ids, list)
        read.append(len(ids))
        return original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watch, "load_watch_blobs", counted)
    return read


def test_the_state_this_process_wrote_is_reused_without_reading_its_bytes(
        services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache()
    state = _state(300)
    _save(services, cache, "svc", state, token=11)
    with session_scope(services.engine) as session:
        assert cache.load(session, "svc").states[KEY] is state
    assert bytes_read == []  # the first load found no row; the second, our token
    # another replica moved the model on (its own token): read and decoded afresh
    with session_scope(services.engine) as session:
        save_watch_models(session=session, service="svc", now=T0, token=12,
                          models={KEY: (encode(_state(310)), T0)})
    with session_scope(services.engine) as session:
        decoded = cache.load(session, "svc").states[KEY]
        assert decoded is not state and decoded.points == 310
        assert cache.load(session, "svc").states[KEY] is decoded  # remembered as read
    assert bytes_read == [1]
    with session_scope(services.engine) as session:  # per service
        save_watch_models(session=session, service="other", now=T0, token=11,
                          models={KEY: (encode(state), T0)})
        assert cache.load(session, "other").states[KEY] is not state


def test_a_save_that_rolled_back_is_read_again(services: Services,
                                                bytes_read: list[int]) -> None:
    cache = ModelCache()
    _save(services, cache, "svc", _state(300), token=21)
    moved = _state(305)
    with pytest.raises(RuntimeError), session_scope(services.engine) as session:
        known = cache.load(session, "svc").rows
        blobs = cache.encode("svc", {KEY: moved}, 22)  # the cache now holds token 22
        save_watch_models(session=session, service="svc", now=T0, token=22, known=known,
                          models={KEY: (blobs[KEY], T0)})
        raise RuntimeError("the run failed before its commit")
    with session_scope(services.engine) as session:
        back = cache.load(session, "svc").states[KEY]
    assert back is not moved and back.points == 300  # the stored row, token 21
    assert bytes_read == [1]


def test_a_run_of_judge_and_save_leaves_the_rows_the_next_load_reuses(
        services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache()
    t = T0.timestamp() + 60.0 * np.arange(120)
    points = {KEY: watch.SeriesPoints(t, 100 + np.sin(np.arange(120)))}
    for minute in range(3):
        with session_scope(services.engine) as session:
            stored = cache.load(session, "svc")
            judgement = judge(stored.states, points if minute == 0 else {}, since=0.0)
            token, models = watch.changed_models(cache, "svc", judgement)
            save_watch_models(session=session, service="svc", now=T0 + timedelta(minutes=minute),
                              models=models, token=token, known=stored.rows)
    assert bytes_read == []
    with session_scope(services.engine) as session:
        fresh = ModelCache().load(session, "svc")
    assert fresh.states[KEY].points == 120 and bytes_read == [1]  # a new process reads


def test_the_cache_is_bounded(services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache(limit=2)
    state = _state(60)
    for i in range(3):
        _save(services, cache, f"svc{i}", state, token=1)
    with session_scope(services.engine) as session:
        assert cache.load(session, "svc2").states[KEY] is state
        assert bytes_read == []
        assert cache.load(session, "svc0").states[KEY] is not state  # evicted: read again
        assert bytes_read == [1]
