"""A watch run saves the models of every service that opened nothing in one UPDATE and one
commit at its end: a crash before it loses the run's learning, never an incident, and the
next process catches the models up; another writer's save in between costs only its own
service the run (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

import bot.diagnosis.watch as watch
import bot.diagnosis.watch_cache as watch_cache
from bot.core.services import Services
from bot.diagnosis.watch import run_watch
from bot.diagnosis.watch_cache import ModelCache
from classifiers.watch_codec import decode_parts
from classifiers.watch_test import WatchState
from store.db import session_scope, table_of
from store.models import Incident
from store.watch_models import WatchBundle
from store.watch_queries import HISTORY, RECENT, load_bundle_rows, unpack_series
from tests.diagnosis.helpers import T0, series
from tests.diagnosis.test_store_flows import store

KEY = ("quality", "groundedness", "")


def _two_services(services: Services) -> None:
    """rag-assistant healthy; fraud-scorer's groundedness 6 SD down from minute 280."""
    store(services, series("groundedness", "quality", 0.9, 0.01, minutes=320, seed=1))
    store(services, series("groundedness", "quality", 0.9, 0.01, minutes=320, onset=280,
                           factor=(0.9 - 0.06) / 0.9, seed=2, service="fraud-scorer"))


def _tokens(services: Services, service: str) -> dict[str, int]:
    with session_scope(services.engine) as session:
        return {part: row.token
                for part, row in load_bundle_rows(session=session, service=service).items()}


def _model(services: Services, service: str) -> WatchState:
    table = table_of(WatchBundle)
    with session_scope(services.engine) as session:
        rows = {part: unpack_series(bytes(model)) for part, model in session.execute(
            select(table.c.part, table.c.model).where(table.c.service == service))}
    return decode_parts(rows[RECENT][KEY], rows[HISTORY][KEY])


@contextmanager
def statements(services: Services) -> Iterator[list[tuple[str, bool]]]:
    """Every statement on ``watch_bundles`` the engine runs (its text, executemany or not)."""
    seen: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any,
               many: bool) -> None:
        if "watch_bundles" in statement:
            seen.append((statement.lstrip().split()[0].upper(), many))

    event.listen(services.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", before)


def test_a_run_reads_every_token_in_one_select_and_saves_in_one_update(
        services: Services) -> None:
    _two_services(services)
    run_watch(services, now=T0 + timedelta(minutes=200))  # the first bundles: inserted
    with statements(services) as seen:
        assert run_watch(services, now=T0 + timedelta(minutes=201)) == []
    assert seen == [("SELECT", False), ("UPDATE", True)]  # recent parts of both services


def test_a_crash_before_the_runs_save_loses_no_incident_and_the_models_catch_up(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    _two_services(services)
    assert run_watch(services, now=T0 + timedelta(minutes=250)) == []
    before = _tokens(services, "rag-assistant")
    seen = _model(services, "rag-assistant").points

    def crash(**_: Any) -> None:
        raise RuntimeError("the process died before the run's save committed")

    kicked: list[list[int]] = []
    with monkeypatch.context() as patched:
        patched.setattr(watch_cache, "replace_bundles", crash)
        patched.setattr(watch.outbox, "kick", lambda _services, ids: kicked.append(ids))
        with pytest.raises(RuntimeError):
            run_watch(services, now=T0 + timedelta(minutes=299))
    assert len(kicked) == 1 and kicked[0]  # the opened incident's work announced anyway
    with session_scope(services.engine) as session:
        incidents = session.execute(select(Incident.service, Incident.source)).all()
    # fraud-scorer's incident and the models that opened it committed together, at once
    assert incidents == [("fraud-scorer", "detector")]
    assert _model(services, "fraud-scorer").history.last_time == (
        T0 + timedelta(minutes=299)).timestamp()
    assert _tokens(services, "rag-assistant") == before  # its run's learning is lost
    # a new process (an empty cache) reads the rows as they were and catches up
    monkeypatch.setattr(watch, "_MODELS", ModelCache())
    assert run_watch(services, now=T0 + timedelta(minutes=300)) == []  # already open
    recovered = _model(services, "rag-assistant")
    assert recovered.points == seen + 50
    assert recovered.history.last_time == (T0 + timedelta(minutes=300)).timestamp()
    assert _tokens(services, "rag-assistant") != before


def test_another_writers_save_during_a_run_leaves_only_its_service_to_the_next_run(
        services: Services) -> None:
    _two_services(services)
    assert run_watch(services, now=T0 + timedelta(minutes=200)) == []
    fraud = _model(services, "fraud-scorer").points
    theirs: list[dict[str, int]] = []

    def before(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any,
               many: bool) -> None:
        if many and not theirs and statement.lstrip().upper().startswith("UPDATE WATCH_B"):
            # just before the run's batch: another process saves rag-assistant's models
            cache = ModelCache()
            with session_scope(services.engine) as session:
                stored = cache.load(session, "rag-assistant")
                watch_cache.save_models(
                    session=session, service="rag-assistant", stored=stored, now=T0,
                    models=cache.to_save("rag-assistant", stored, stored.states,
                                         frozenset(stored.states)))
            theirs.append(_tokens(services, "rag-assistant"))

    event.listen(services.engine, "before_cursor_execute", before)
    try:
        assert run_watch(services, now=T0 + timedelta(minutes=210)) == []
    finally:
        event.remove(services.engine, "before_cursor_execute", before)
    assert theirs and _tokens(services, "rag-assistant") == theirs[0]  # theirs stands
    assert _model(services, "fraud-scorer").points == fraud + 10  # the other one saved
    # the next run reads the other writer's models and goes on from them
    assert run_watch(services, now=T0 + timedelta(minutes=211)) == []
    assert _tokens(services, "rag-assistant") != theirs[0]
    assert _model(services, "rag-assistant").history.last_time == (
        T0 + timedelta(minutes=211)).timestamp()
