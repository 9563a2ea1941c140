"""``run_watch`` against the store: models kept in the service's bundles, a lone quality
gauge opens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.core.services import Services
from bot.diagnosis.watch import run_watch
from classifiers.watch_codec import decode_parts
from classifiers.watch_test import WatchState
from store.db import session_scope
from store.models import Incident, TimelineEvent
from store.watch_models import WatchBundle
from store.watch_queries import unpack_series
from tests.diagnosis.helpers import T0, series
from tests.diagnosis.test_store_flows import store


def test_a_lone_quality_gauge_four_sd_down_opens_and_models_persist(services: Services) -> None:
    # six hours of groundedness (noise 0.01), down 0.04 (4 SD) from minute 360
    store(services, series("groundedness", "quality", 0.9, 0.01, minutes=400, onset=360,
                           factor=(0.9 - 0.04) / 0.9, seed=7))
    assert run_watch(services, now=T0 + timedelta(minutes=350)) == []
    with session_scope(services.engine) as session:
        seen = _stored(session)[("quality", "groundedness", "")].points
        assert list(_stored(session)) == [("quality", "groundedness", "")]
    assert seen >= 340  # the stored history was learnt on first sight
    opened = run_watch(services, now=T0 + timedelta(minutes=375))
    assert len(opened) == 1
    with session_scope(services.engine) as session:
        # the run went on from the stored model
        assert _stored(session)[("quality", "groundedness", "")].points > seen
        incident = session.get(Incident, opened[0])
        assert incident.source == "detector" and incident.title.startswith("Silent degradation")
        opened_by = incident.diagnosis["watch"]["opened_by"]
        assert (opened_by["layer"], opened_by["name"]) == ("quality", "groundedness")
        assert opened_by["statistic"] < 0 and opened_by["expected"] > opened_by["value"]
        kinds = session.exec(select(TimelineEvent.kind).where(
            TimelineEvent.incident_id == opened[0])).all()
        assert "watch" in kinds and "diagnosis" in kinds
    # the open incident covers the next runs; the models still move on
    assert run_watch(services, now=T0 + timedelta(minutes=390)) == []


def _stored(session: Any) -> dict[tuple[str, str, str], WatchState]:
    """The models the bundles of the one service hold, decoded."""
    rows = {r.part: unpack_series(r.model) for r in session.exec(select(WatchBundle)).all()}
    assert set(rows) == {"recent", "history"}
    return {key: decode_parts(part, rows["history"][key]) for key, part in rows["recent"].items()}
