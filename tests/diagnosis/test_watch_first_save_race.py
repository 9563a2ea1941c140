"""Two watch runs creating the same service's first bundles: the one that finds the other's
rows already inserted leaves that service to the next run and carries on (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import event, select

from bot.core.services import Services
from bot.diagnosis.watch import run_watch
from bot.diagnosis.watch_cache import ModelCache, save_models
from classifiers.watch_test import WatchState, advance
from store.db import session_scope, table_of
from store.models import Incident
from store.watch_models import WatchBundle
from store.watch_queries import HISTORY, RECENT, load_bundle_rows
from tests.diagnosis.helpers import T0, series
from tests.diagnosis.test_store_flows import store

KEY = ("quality", "groundedness", "")
GROUNDEDNESS = series("groundedness", "quality", 0.9, 0.01, minutes=300, seed=1)


def _tokens(services: Services, service: str) -> dict[str, int]:
    with session_scope(services.engine) as session:
        return {part: row.token
                for part, row in load_bundle_rows(session=session, service=service).items()}


def _save_as_another_writer(services: Services, service: str) -> dict[str, int]:
    """Another process's first save of ``service``: its own cache, connection and commit."""
    points = GROUNDEDNESS[:200]  # it watched the first 200 minutes of the same series
    t = np.array([T0.timestamp() + 60.0 * m for m in range(len(points))])
    theirs = {KEY: advance(WatchState.empty(), t, np.array([p["value"] for p in points]))[0]}
    cache = ModelCache()
    with session_scope(services.engine) as session:
        stored = cache.load(session, service)
        save_models(session=session, service=service, stored=stored, now=T0,
                    models=cache.to_save(service, stored, theirs, frozenset(theirs)))
    return _tokens(services, service)


@contextmanager
def another_writer_inserts_first(services: Services, service: str
                                 ) -> Iterator[list[dict[str, int]]]:
    """Just before the first INSERT into ``watch_bundles`` for ``service`` that is not its
    own, another writer inserts that service's bundles and commits; yields the tokens it
    wrote (filled in once it has)."""
    written: list[dict[str, int]] = []
    busy: list[bool] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if (written or busy or service not in repr(parameters)
                or not statement.lstrip().upper().startswith("INSERT INTO WATCH_BUNDLES")):
            return
        busy.append(True)
        written.append(_save_as_another_writer(services, service))

    event.listen(services.engine, "before_cursor_execute", before)
    try:
        yield written
    finally:
        event.remove(services.engine, "before_cursor_execute", before)


def test_a_first_save_that_loses_the_race_is_left_to_the_next_run(services: Services) -> None:
    # rag-assistant (watched first) races another writer; fraud-scorer, watched after it
    # in the same run, drops 6 SD and must still get its incident
    store(services, GROUNDEDNESS)
    store(services, series("groundedness", "quality", 0.9, 0.01, minutes=300, onset=280,
                           factor=(0.9 - 0.06) / 0.9, seed=2, service="fraud-scorer"))
    with another_writer_inserts_first(services, "rag-assistant") as written:
        opened = run_watch(services, now=T0 + timedelta(minutes=299))
    assert written and set(written[0]) == {RECENT, HISTORY}
    # the other writer's bundles stand, untouched by the run that lost the race
    assert _tokens(services, "rag-assistant") == written[0]
    with session_scope(services.engine) as session:
        saved = set(session.execute(select(table_of(WatchBundle).c.service)).scalars())
        assert saved == {"rag-assistant", "fraud-scorer"}
        assert len(opened) == 1
        incident = session.get(Incident, opened[0])
        assert incident is not None and incident.service == "fraud-scorer"
    # the next run reads the other writer's models and replaces them with its own
    assert run_watch(services, now=T0 + timedelta(minutes=300)) == []
    after = _tokens(services, "rag-assistant")
    assert set(after) == {RECENT, HISTORY} and after[RECENT] != written[0][RECENT]
