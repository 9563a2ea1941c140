"""``run_watch`` against the store: models kept per series, a lone quality gauge opens."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.services import Services
from bot.diagnosis.watch import run_watch
from classifiers.watch_codec import decode
from store.db import session_scope
from store.models import Incident, TimelineEvent
from store.watch_models import WatchModel
from tests.diagnosis.helpers import T0, series
from tests.diagnosis.test_store_flows import store


def test_a_lone_quality_gauge_four_sd_down_opens_and_models_persist(services: Services) -> None:
    # six hours of groundedness (noise 0.01), down 0.04 (4 SD) from minute 360
    store(services, series("groundedness", "quality", 0.9, 0.01, minutes=400, onset=360,
                           factor=(0.9 - 0.04) / 0.9, seed=7))
    assert run_watch(services, now=T0 + timedelta(minutes=350)) == []
    with session_scope(services.engine) as session:
        rows = session.exec(select(WatchModel)).all()
        assert [(r.layer, r.name, r.slice_key) for r in rows] == [("quality", "groundedness", "")]
        seen = decode(rows[0].model).points
    assert seen >= 340  # the stored history was learnt on first sight
    opened = run_watch(services, now=T0 + timedelta(minutes=375))
    assert len(opened) == 1
    with session_scope(services.engine) as session:
        model = session.exec(select(WatchModel)).one()
        assert decode(model.model).points > seen  # the run went on from the stored model
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
