"""The watch's model rows: a service's two bundles (written only under the write tokens read),
and the per-series rows stored before migration 0011 (read per service, then removed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from bot.core.services import Services
from store.db import session_scope, table_of
from store.watch_models import WatchBundle, WatchModel
from store.watch_queries import (
    HISTORY,
    RECENT,
    SeriesKey,
    WatchModelsMoved,
    delete_watch_models,
    load_bundle_blobs,
    load_bundle_rows,
    load_watch_models,
    new_write_token,
    pack_series,
    save_bundles,
    unpack_series,
)
from tests.diagnosis.helpers import T0

A = ("runtime", "latency_p95", "")
B = ("quality", "groundedness", "tenant=acme")


def store_per_series(session: Session, service: str, models: dict[SeriesKey, bytes]) -> None:
    """Rows of ``watch_models`` as the watch wrote them before migration 0011 (one a series;
    nothing writes them today)."""
    session.execute(insert(table_of(WatchModel)), [
        {"service": service, "layer": layer, "name": name, "slice_key": key, "model": blob,
         "write_token": 3, "last_point": T0, "updated_at": T0}
        for (layer, name, key), blob in models.items()])


def test_models_stored_per_series_are_read_per_service_and_removed(
        services: Services) -> None:
    with session_scope(services.engine) as session:
        store_per_series(session, "chat", {A: b"one", B: b"two"})
        store_per_series(session, "rank", {A: b"other"})
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {A: b"one", B: b"two"}
        assert load_watch_models(session=session, service="nobody") == {}
        assert delete_watch_models(session=session, service="chat") == 2
    with session_scope(services.engine) as session:
        assert load_watch_models(session=session, service="chat") == {}
        assert load_watch_models(session=session, service="rank") == {A: b"other"}


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
