"""A change that announces maintenance: the incident it causes is held (diagnosed, nobody
paged) and paged only if it has not settled when the window ends. Real HTTP, the Slack
emulator, both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.app.server import ServerThread
from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from bot.silences.holds import release_due
from tests.slack.conftest import WEBHOOK_TOKEN, slack_settings

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class Clock:
    now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


URLS: dict[Services, str] = {}  # each running bot's address


@pytest.fixture
def bot(slack: SlackEmulator, db_url: str, clock: Clock) -> Iterator[Services]:
    services = wire(build_services(slack_settings(slack, db_url), load_catalog(None)))
    services.clock = clock
    with ServerThread(services) as server:
        URLS[services] = server.url
        yield services
    services.drain(30)
    services.close()


def post(services: Services, path: str, body: object) -> dict[str, object]:
    response = httpx.post(f"{URLS[services]}{path}", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
    assert response.status_code in (200, 207), response.text
    return dict(response.json())


def announce(services: Services, minutes: float = 20) -> None:
    post(services, "/v1/changes", [{
        "type": "change", "ts": T0.isoformat(), "service": "rag-assistant",
        "kind": "retrieval", "ref": "index-v42", "previous": "index-v41",
        "maintenance_minutes": minutes, "affects": ["freshness", "RetrievalStale"]}])


def fire(services: Services, name: str, status: str = "firing") -> dict[str, object]:
    return post(services, "/webhooks/generic", {
        "type": "alert", "ts": T0.isoformat(), "service": "rag-assistant", "name": name,
        "status": status, "labels": {"layer": "freshness"}})


def only_incident(body: dict[str, object]) -> int:
    opened = body["incidents_opened"]
    assert isinstance(opened, list) and len(opened) == 1, body
    return int(opened[0])


def kinds(services: Services, incident_id: int) -> list[str]:
    return [e.kind for e in incident_service.timeline(services, incident_id)]


def test_an_incident_the_change_announced_is_held_then_paged_when_it_does_not_settle(
        bot: Services, slack: SlackEmulator, clock: Clock) -> None:
    announce(bot)
    clock.now = T0 + timedelta(minutes=3)
    incident_id = only_incident(fire(bot, "RetrievalStale"))
    assert bot.drain(30)
    held = incident_service.get_incident(bot, incident_id)
    assert held.held_until == T0 + timedelta(minutes=20)
    assert held.slack_channel_id is None and "held" in kinds(bot, incident_id)
    assert release_due(bot) == []  # the window has not ended

    clock.now = T0 + timedelta(minutes=35)
    assert release_due(bot) == [incident_id]
    assert release_due(bot) == []  # once
    assert bot.drain(30)
    paged = incident_service.get_incident(bot, incident_id)
    assert paged.slack_channel_id in slack.workspace.channels
    released = [e for e in incident_service.timeline(bot, incident_id) if e.kind == "released"]
    assert released[0].message == ("released: retrieval change index-v42 was expected to "
                                   "settle in 20 min; still off after 35")
    top = paged.diagnosis["suspect_changes"][0]
    assert (top["kind"], top["ref"]) == ("retrieval", "index-v42")


def test_an_incident_that_settles_in_the_window_is_resolved_quietly(
        bot: Services, slack: SlackEmulator, clock: Clock) -> None:
    announce(bot)
    clock.now = T0 + timedelta(minutes=2)
    incident_id = only_incident(fire(bot, "RetrievalStale"))
    clock.now = T0 + timedelta(minutes=9)
    fire(bot, "RetrievalStale", status="resolved")
    clock.now = T0 + timedelta(minutes=21)
    assert release_due(bot) == []
    assert bot.drain(30)
    settled = incident_service.get_incident(bot, incident_id)
    assert settled.status == "resolved" and settled.slack_channel_id is None
    assert "settled within the 20-minute maintenance window" in (settled.resolution or "")


def test_what_the_change_did_not_announce_pages_at_once(bot: Services, clock: Clock) -> None:
    announce(bot)
    clock.now = T0 + timedelta(minutes=3)
    body = post(bot, "/webhooks/generic", {
        "type": "alert", "ts": T0.isoformat(), "service": "rag-assistant",
        "name": "LatencyHigh", "labels": {"layer": "infra"}})
    incident_id = only_incident(body)
    assert bot.drain(30)
    incident = incident_service.get_incident(bot, incident_id)
    assert incident.held_until is None and incident.slack_channel_id is not None
