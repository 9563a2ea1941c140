"""The watch's model rows: bulk insert of new series, bulk replace of known ones, per service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core.services import Services
from store.db import session_scope
from store.watch_models import WatchBundle, WatchModel
from store.watch_queries import (
    HISTORY,
    RECENT,
    WatchModelsMoved,
    load_bundle_blobs,
    load_bundle_rows,
    load_watch_blobs,
    load_watch_models,
    load_watch_rows,
    new_write_token,
    pack_series,
    save_bundles,
    save_watch_models,
    unpack_series,
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


def test_a_bundle_packs_every_series_and_unpacks_them_as_they_were() -> None:
    parts = {A: b"", B: bytes(range(256)) * 40, ("runtime", "q", "lang=\u00e9"): b"x"}
    blob = pack_series(parts)
    assert unpack_series(blob) == parts and pack_series(unpack_series(blob)) == blob
    assert unpack_series(pack_series({})) == {}
    with pytest.raises(ValueError, match="format"):
        unpack_series(b"\x07" + blob[1:])
    with pytest.raises(ValueError, match="cut short"):
        unpack_series(blob[:-3])


def test_a_bundle_is_replaced_only_while_it_carries_the_token_read(
        services: Services) -> None:
    later = T0 + timedelta(minutes=1)
    with session_scope(services.engine) as session:
        save_bundles(session=session, service="chat", parts={RECENT: b"r1", HISTORY: b"h1"},
                     last_point=T0, now=T0, token=5, known={})
    with session_scope(services.engine) as session:
        read = load_bundle_rows(session=session, service="chat")
        assert {p: r.token for p, r in read.items()} == {RECENT: 5, HISTORY: 5}
        save_bundles(session=session, service="chat", parts={RECENT: b"r2"},
                     last_point=later, now=later, token=6, known=read)
        after = load_bundle_rows(session=session, service="chat")
        assert {p: r.token for p, r in after.items()} == {RECENT: 6, HISTORY: 5}
        blobs = load_bundle_blobs(session=session, ids=[r.id for r in after.values()])
        assert sorted(blobs.values()) == [b"h1", b"r2"]
        with pytest.raises(WatchModelsMoved, match="recent models of 'chat'"):
            save_bundles(session=session, service="chat", parts={RECENT: b"r3"},
                         last_point=later, now=later, token=7, known=read)  # read before 6
        row = session.exec(select(WatchBundle).where(WatchBundle.part == RECENT)).one()
        assert (row.model, row.write_token, row.last_point) == (b"r2", 6, later)
