"""The watch's model rows: bulk insert of new series, bulk replace of known ones, per service.

A model's bucket ring is written with a new row and when it changed, not otherwise.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.services import Services
from store.db import session_scope
from store.watch_models import WatchModel
from store.watch_queries import (
    ModelWrite,
    load_watch_histories,
    load_watch_models,
    save_watch_models,
)
from tests.diagnosis.helpers import T0

A = ("runtime", "latency_p95", "")
B = ("quality", "groundedness", "tenant=acme")


def test_models_are_inserted_replaced_and_kept_apart_per_service(services: Services) -> None:
    later = T0 + timedelta(minutes=1)
    with session_scope(services.engine) as session:
        save_watch_models(session=session, service="chat", now=T0,
                          models={A: ModelWrite(b"one", b"ring-1", True, T0)})
        save_watch_models(session=session, service="rank", now=T0,
                          models={A: ModelWrite(b"other", b"ring-x", True, T0)})
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {A: b"one"}
        # a known series replaced (its ring unchanged) and a new one inserted in one call
        save_watch_models(session=session, service="chat", now=later, models={
            A: ModelWrite(b"two", b"not written", False, later),
            B: ModelWrite(b"three", b"ring-3", False, later)})
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {A: b"two", B: b"three"}
        assert load_watch_models(session=session, service="rank") == {A: b"other"}
        assert load_watch_histories(session=session, service="chat", keys=[A, B]) == {
            A: b"ring-1", B: b"ring-3"}  # a new row takes its ring whatever the mark
        assert load_watch_histories(session=session, service="chat", keys=[B]) == {
            B: b"ring-3"}
        rows = session.exec(select(WatchModel).where(WatchModel.service == "chat")).all()
        assert len(rows) == 2 and {r.updated_at for r in rows} == {later}
        assert {r.last_point for r in rows} == {later}
        assert load_watch_models(session=session, service="nobody") == {}
        # a changed ring is written
        save_watch_models(session=session, service="chat", now=later,
                          models={A: ModelWrite(b"four", b"ring-4", True, later)})
    with session_scope(services.engine) as session:
        assert load_watch_histories(session=session, service="chat", keys=[A]) == {
            A: b"ring-4"}
        assert load_watch_histories(session=session, service="chat", keys=[]) == {}
