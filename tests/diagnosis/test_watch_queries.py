"""The watch's model rows: bulk insert of new series, bulk replace of known ones, per service."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.services import Services
from store.db import session_scope
from store.watch_models import WatchModel
from store.watch_queries import (
    load_watch_blobs,
    load_watch_models,
    load_watch_rows,
    new_write_token,
    save_watch_models,
)
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


def test_rows_carry_the_write_token_and_bytes_are_read_by_id(services: Services) -> None:
    with session_scope(services.engine) as session:
        token = save_watch_models(session=session, service="chat", now=T0,
                                  models={A: (b"one", T0), B: (b"two", T0)})
        assert token > 0
    with session_scope(services.engine) as session:
        rows = load_watch_rows(session=session, service="chat")
        assert set(rows) == {A, B} and {r.token for r in rows.values()} == {token}
        assert load_watch_blobs(session=session, ids=[rows[B].id]) == {rows[B].id: b"two"}
        assert load_watch_blobs(session=session, ids=[]) == {}
        # a save with the rows already read: replaced in place with its own token
        later = T0 + timedelta(minutes=1)
        assert save_watch_models(session=session, service="chat", now=later, token=7,
                                 known=rows, models={A: (b"three", later)}) == 7
    with session_scope(services.engine) as session:
        after = load_watch_rows(session=session, service="chat")
        assert after[A] == type(after[A])(rows[A].id, 7) and after[B].token == token
        assert load_watch_models(session=session, service="chat") == {A: b"three", B: b"two"}
        model = session.exec(select(WatchModel).where(WatchModel.id == rows[A].id)).one()
        assert (model.last_point, model.updated_at, model.write_token) == (later, later, 7)


def test_tokens_are_drawn_afresh_and_never_zero() -> None:
    tokens = {new_write_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(0 < t < 2**63 for t in tokens)
