"""The watch's model rows: bulk insert of new series, bulk replace of known ones, per service."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.services import Services
from store.db import session_scope
from store.watch_models import WatchModel
from store.watch_queries import load_watch_models, save_watch_models
from tests.diagnosis.helpers import T0

A = ("runtime", "latency_p95", "")
B = ("quality", "groundedness", "tenant=acme")


def test_models_are_inserted_replaced_and_kept_apart_per_service(services: Services) -> None:
    later = T0 + timedelta(minutes=1)
    with session_scope(services.engine) as session:
        save_watch_models(session=session, service="chat", now=T0, models={A: (b"one", T0)})
        save_watch_models(session=session, service="rank", now=T0, models={A: (b"other", T0)})
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {A: b"one"}
        # a known series replaced and a new one inserted in the same call
        save_watch_models(session=session, service="chat", now=later,
                          models={A: (b"two", later), B: (b"three", later)})
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {A: b"two", B: b"three"}
        assert load_watch_models(session=session, service="rank") == {A: b"other"}
        rows = session.exec(select(WatchModel).where(WatchModel.service == "chat")).all()
        assert len(rows) == 2 and {r.updated_at for r in rows} == {later}
        assert {r.last_point for r in rows} == {later}
        assert load_watch_models(session=session, service="nobody") == {}
