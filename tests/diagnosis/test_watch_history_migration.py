"""Migration 0009_wspeed: models stored whole before it still decode; the split ones after.

The bucket ring of a watch model moved to ``watch_models.history``; a row written
before the migration has it inside ``model`` (``history`` NULL) and must go on
from where it was, not be relearnt.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from alembic import command
from sqlalchemy import text

from bot.diagnosis.watch import ModelCache
from classifiers.watch_codec import encode
from classifiers.watch_test import WatchState, advance
from store.db import alembic_config, current_revision, make_engine, session_scope, upgrade
from store.watch_queries import (
    ModelWrite,
    load_watch_histories,
    load_watch_models,
    save_watch_models,
)

KEY = ("runtime", "p95_latency_ms", "")
INSERT = text(
    "INSERT INTO watch_models (service, layer, name, slice_key, model, last_point, "
    "updated_at) VALUES ('rag', 'runtime', 'p95_latency_ms', '', :model, :at, :at)")


def _state(n: int) -> WatchState:
    t = 1.7e9 + 60.0 * np.arange(n)
    return advance(WatchState.empty(), t, 100 + np.sin(np.arange(n)))[0]


def test_a_model_stored_whole_decodes_after_the_migration_and_is_then_split(
        fresh_url: str) -> None:
    upgrade(fresh_url, "0008_names")
    engine = make_engine(fresh_url)
    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            connection.execute(INSERT, {"model": encode(_state(300)), "at": at})
        upgrade(fresh_url)
        assert current_revision(fresh_url) == "0009_wspeed"
        cache = ModelCache()
        with session_scope(engine) as session:
            states = cache.decode("rag", load_watch_models(session=session, service="rag"),
                                  lambda keys: load_watch_histories(
                                      session=session, service="rag", keys=keys))
            assert states[KEY].points == 300  # went on from the stored model
            split = cache.encode("rag", {KEY: states[KEY]})[KEY]
            assert split.history_changed  # decoded afresh: its ring is written
            save_watch_models(session=session, service="rag", now=at, models={
                KEY: ModelWrite(split.model, split.history, split.history_changed, at)})
        with session_scope(engine) as session:
            again = ModelCache().decode(
                "rag", load_watch_models(session=session, service="rag"),
                lambda keys: load_watch_histories(session=session, service="rag", keys=keys))
            assert again[KEY].points == 300
            np.testing.assert_array_equal(again[KEY].history.keys, states[KEY].history.keys)
        engine.dispose()
        # back down: the split rows cannot be read without their ring, so they go
        command.downgrade(alembic_config(fresh_url), "0008_names")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM watch_models")).scalar() == 0
    finally:
        engine.dispose()
