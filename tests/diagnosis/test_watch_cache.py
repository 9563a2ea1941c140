"""The watch's model cache: a service's bundles are read and decoded again unless their
rows carry the write tokens of this process's last save; a save needs the tokens it read
(on both stores)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import text

import bot.diagnosis.watch_cache as watch_cache
from bot.core.services import Services
from bot.diagnosis.watch import SeriesPoints, judge
from bot.diagnosis.watch_cache import ModelCache, save_models
from classifiers.watch_codec import encode
from classifiers.watch_test import WatchState, advance
from store.db import session_scope
from store.watch_queries import (
    HISTORY,
    RECENT,
    WatchModelsMoved,
    load_bundle_rows,
    load_watch_models,
)
from tests.diagnosis.helpers import T0
from tests.diagnosis.test_watch_queries import store_per_series

KEY = ("runtime", "p95_latency_ms", "")
OTHER = ("quality", "groundedness", "tenant=acme")


def _state(n: int) -> WatchState:
    t = 1.7e9 + 60.0 * np.arange(n)
    return advance(WatchState.empty(), t, 100 + np.sin(np.arange(n)))[0]


def _save(services: Services, cache: ModelCache, service: str,
          states: dict[tuple[str, str, str], WatchState]) -> None:
    with session_scope(services.engine) as session:
        stored = cache.load(session, service)
        save_models(session=session, service=service, stored=stored, now=T0,
                    models=cache.to_save(service, stored, states, frozenset(states)))


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bundle rows' bytes each load read."""
    read: list[int] = []
    original = watch_cache.load_bundle_blobs

    def counted(**kwargs: object) -> dict[int, bytes]:
        ids = kwargs["ids"]
        assert isinstance(ids, list)
        read.append(len(ids))
        return original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watch_cache, "load_bundle_blobs", counted)
    return read


def test_the_state_this_process_wrote_is_reused_without_reading_its_bytes(
        services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache()
    state = _state(300)
    _save(services, cache, "svc", {KEY: state})
    with session_scope(services.engine) as session:
        assert cache.load(session, "svc").states[KEY] is state
    assert bytes_read == []  # the first load found no row; the second, our tokens
    # another replica (its own cache, its own tokens) moved the model on
    _save(services, ModelCache(), "svc", {KEY: _state(310)})
    with session_scope(services.engine) as session:
        decoded = cache.load(session, "svc").states[KEY]
        assert decoded is not state and decoded.points == 310
        assert cache.load(session, "svc").states[KEY] is decoded  # remembered as read
    assert bytes_read == [2, 2]  # it read ours, we read its: both rows in one statement
    _save(services, ModelCache(), "other", {KEY: state})  # per service
    with session_scope(services.engine) as session:
        assert cache.load(session, "other").states[KEY] is not state


def test_a_save_that_rolled_back_is_read_again(services: Services,
                                                bytes_read: list[int]) -> None:
    cache = ModelCache()
    _save(services, cache, "svc", {KEY: _state(300)})
    moved = _state(305)
    with pytest.raises(RuntimeError), session_scope(services.engine) as session:
        stored = cache.load(session, "svc")
        save_models(session=session, service="svc", stored=stored, now=T0,
                    models=cache.to_save("svc", stored, {KEY: moved}, frozenset([KEY])))
        raise RuntimeError("the run failed before its commit")  # the cache holds its token
    with session_scope(services.engine) as session:
        back = cache.load(session, "svc").states[KEY]
    assert back is not moved and back.points == 300  # the stored rows, the tokens before
    assert bytes_read == [2]


def test_a_save_over_another_writers_save_is_refused(services: Services) -> None:
    ours, theirs = ModelCache(), ModelCache()
    _save(services, ours, "svc", {KEY: _state(300)})
    with session_scope(services.engine) as session:
        stored = ours.load(session, "svc")  # this run read the rows ...
        _save(services, theirs, "svc", {KEY: _state(320)})  # ... another writer saved
        with pytest.raises(WatchModelsMoved):
            save_models(session=session, service="svc", stored=stored, now=T0,
                        models=ours.to_save("svc", stored, {KEY: _state(301)},
                                            frozenset([KEY])))
        session.rollback()
    with session_scope(services.engine) as session:
        assert ours.load(session, "svc").states[KEY].points == 320  # theirs kept, and read


def test_a_run_of_judge_and_save_leaves_the_rows_the_next_load_reuses(
        services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache()
    start = (T0.timestamp() // 1800 + 1) * 1800  # on a half-hour
    t = start + 60.0 * np.arange(110)  # the last half-hour open until minute 120
    y = 100 + np.sin(np.arange(111))
    tokens = []
    for minute in range(4):
        points = ({KEY: SeriesPoints(t, y[:110])} if minute == 0 else
                  {KEY: SeriesPoints(np.array([t[-1] + 60.0 * minute]), y[110:])}
                  if minute < 3 else {})
        with session_scope(services.engine) as session:
            stored = cache.load(session, "svc")
            judgement = judge(stored.states, points, since=0.0)
            save_models(session=session, service="svc", stored=stored,
                        now=T0 + timedelta(minutes=minute),
                        models=cache.to_save("svc", stored, judgement.states,
                                             judgement.changed))
            tokens.append(load_bundle_rows(session=session, service="svc"))
    assert bytes_read == []
    # the second point came in the half-hour the first run left open: its history is the
    # one stored, only the recent parts were written; the last run had no point at all
    assert tokens[1][HISTORY] == tokens[0][HISTORY] and tokens[1][RECENT] != tokens[0][RECENT]
    assert tokens[3] == tokens[2]
    with session_scope(services.engine) as session:
        fresh = ModelCache().load(session, "svc")
    assert fresh.states[KEY].points == 112 and bytes_read == [2]  # a new process reads


def test_models_a_service_kept_per_series_move_into_its_bundles(
        services: Services) -> None:
    old, other = _state(200), _state(90)
    with session_scope(services.engine) as session:  # as the watch stored them before 0011
        store_per_series(session, "svc", {KEY: encode(old), OTHER: encode(other)})
    cache = ModelCache()
    with session_scope(services.engine) as session:
        stored = cache.load(session, "svc")
        assert stored.legacy and stored.states[KEY].points == 200
        moved = advance(stored.states[KEY], np.array([old.history.last_time + 60.0]),
                        np.array([100.0]))[0]
        save_models(session=session, service="svc", stored=stored, now=T0,
                    models=cache.to_save("svc", stored, {**stored.states, KEY: moved},
                                         frozenset([KEY])))
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="svc") == {}  # moved, once
        count = session.execute(text("SELECT count(*) FROM watch_bundles")).scalar_one()
        fresh = ModelCache().load(session, "svc")
    assert count == 2 and not fresh.legacy
    assert fresh.states[KEY].points == 201 and fresh.states[OTHER].points == 90


def test_the_cache_is_bounded(services: Services, bytes_read: list[int]) -> None:
    cache = ModelCache(limit=2)
    state = _state(60)
    for i in range(3):
        _save(services, cache, f"svc{i}", {KEY: state})
    with session_scope(services.engine) as session:
        assert cache.load(session, "svc2").states[KEY] is state
        assert bytes_read == []
        assert cache.load(session, "svc0").states[KEY] is not state  # evicted: read again
        assert bytes_read == [2]
