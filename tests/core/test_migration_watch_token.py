"""Migration 0010_wstore: stored watch models survive, with the token no save draws."""

from __future__ import annotations

from sqlalchemy import text

from store.db import current_revision, make_engine, session_scope, upgrade
from store.watch_queries import load_watch_models


def test_models_stored_before_the_token_keep_their_bytes(fresh_url: str) -> None:
    upgrade(fresh_url, "0009_edge")
    engine = make_engine(fresh_url)
    blob = bytes(range(256)) * 50  # a row larger than a page
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO watch_models (service, layer, name, slice_key, model, last_point,"
                " updated_at) VALUES ('rag', 'runtime', 'latency', '', :model,"
                " '2026-11-26 10:00:00.000000', '2026-11-26 10:00:00.000000')"),
                {"model": blob})
        engine.dispose()
        upgrade(fresh_url, "0010_wstore")
        assert current_revision(fresh_url) == "0010_wstore"
        with session_scope(engine) as session:
            tokens = session.execute(text(
                "SELECT write_token FROM watch_models WHERE service = 'rag'")).scalars().all()
            assert tokens == [0]  # read as another writer's
            assert load_watch_models(session=session, service="rag") == {
                ("runtime", "latency", ""): blob}
    finally:
        engine.dispose()
