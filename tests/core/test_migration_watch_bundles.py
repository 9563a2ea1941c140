"""Migration 0011_wsave: models stored per series before it are what the watch reads next."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

from bot.diagnosis.watch_cache import ModelCache
from classifiers.watch_codec import encode
from classifiers.watch_test import WatchState, advance
from store.db import current_revision, make_engine, session_scope, upgrade


def test_models_kept_per_series_are_read_after_the_bundles_came(fresh_url: str) -> None:
    upgrade(fresh_url, "0010_wstore")
    engine = make_engine(fresh_url)
    t = 1.7e9 + 60.0 * np.arange(200)
    state = advance(WatchState.empty(), t, 100 + np.sin(np.arange(200)))[0]
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO watch_models (service, layer, name, slice_key, write_token, model,"
                " last_point, updated_at) VALUES ('rag', 'runtime', 'latency', '', 9, :model,"
                " '2026-11-26 10:00:00.000000', '2026-11-26 10:00:00.000000')"),
                {"model": encode(state)})
        engine.dispose()
        upgrade(fresh_url)
        assert current_revision(fresh_url) == "0011_wsave"
        with session_scope(engine) as session:
            stored = ModelCache().load(session, "rag")
        assert stored.legacy and stored.rows == {}
        assert encode(stored.states[("runtime", "latency", "")]) == encode(state)
    finally:
        engine.dispose()
