"""Silences over real HTTP on both stores: silenced alerts are stored and counted but
open no incident; expiry and early end give the alert its page back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.app.server import ServerThread
from bot.core.services import Services
from store.db import session_scope
from store.models import Alert
from tests.conftest import TOKEN, make_services

API = "api-token-for-tests"
START = datetime(2026, 12, 1, 3, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bot(db_url: str, clock: Clock) -> Iterator[Services]:
    services = make_services(db_url, RESILIO_API_TOKEN=API, RESILIO_RUN_SCHEDULER=False)
    services.clock = clock
    yield services
    services.drain(30)
    services.close()


@pytest.fixture
def http(bot: Services) -> Iterator[httpx.Client]:
    with ServerThread(bot) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def alert(name: str, service: str = "rag-assistant", **labels: str) -> dict[str, object]:
    return {"type": "alert", "ts": START.isoformat(), "service": service, "name": name,
            "labels": labels}


def send(http: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    response = http.post("/webhooks/generic", json=body,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return response.json()


def silence(http: httpx.Client, **body: object) -> httpx.Response:
    return http.post("/v1/silences", headers={"Authorization": f"Bearer {API}"},
                     json={"comment": "re-indexing", **body})


def test_a_silence_keeps_matching_alerts_quiet_until_it_ends(http: httpx.Client, bot: Services,
                                                            clock: Clock) -> None:
    made = silence(http, matchers='service="rag-assistant", alertname=~"Ground.*"',
                   duration_minutes=120)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "active"
    assert made.json()["matchers"] == 'service="rag-assistant", alertname=~"Ground.*"'

    quiet = send(http, alert("GroundednessLow"))
    assert quiet["incidents_opened"] == []
    loud = send(http, alert("LatencyHigh"))           # the name does not match
    other = send(http, alert("GroundednessLow", service="checkout"))
    assert len(loud["incidents_opened"]) == 1 and len(other["incidents_opened"]) == 1
    with session_scope(bot.engine) as session:
        stored = session.exec(select(Alert).where(Alert.name == "GroundednessLow",
                                                  Alert.service == "rag-assistant")).one()
        assert stored.silenced_by == made.json()["id"] and stored.incident_id is None
    assert 'outcome="silenced"' in http.get("/metrics").text

    clock.now = START + timedelta(hours=2)              # expired: the repeat now pages
    assert len(send(http, alert("GroundednessLow"))["incidents_opened"]) == 1
    listed = http.get("/v1/silences", headers={"Authorization": f"Bearer {API}"}).json()
    assert [s["state"] for s in listed["data"]] == ["expired"]


def test_ending_a_silence_early(http: httpx.Client, clock: Clock) -> None:
    made = silence(http, matchers='alertname="DriftHigh"', duration_minutes=60).json()
    assert send(http, alert("DriftHigh"))["incidents_opened"] == []
    clock.now = START + timedelta(minutes=10)
    ended = http.delete(f"/v1/silences/{made['id']}", headers={"Authorization": f"Bearer {API}"})
    assert ended.status_code == 200 and ended.json()["state"] == "expired"
    assert len(send(http, alert("DriftHigh", tenant="acme"))["incidents_opened"]) == 1


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"matchers": 'team!="ml"', "duration_minutes": 60}, 422, "match every alert"),
    ({"matchers": 'service="x', "duration_minutes": 60}, 422, "unclosed quote"),
    ({"matchers": 'service="x"'}, 422, "either an end time or a duration"),
    ({"matchers": 'service="x"', "ends_at": "2026-12-01T02:00:00Z"}, 422, "ends before"),
    ({"matchers": 'service="x"', "duration_minutes": 60 * 24 * 40}, 422, "less than or equal"),
])
def test_bad_silences_are_refused_with_the_reason(http: httpx.Client, body: dict[str, object],
                                                  status: int, says: str) -> None:
    response = silence(http, **body)
    assert response.status_code == status and says in response.text, response.text


def test_silences_need_the_api_token_and_say_who_set_them(http: httpx.Client) -> None:
    body = {"matchers": 'service="x"', "duration_minutes": 5, "comment": "c"}
    webhook_token = {"Authorization": f"Bearer {TOKEN}"}
    assert http.post("/v1/silences", json=body, headers=webhook_token).status_code == 403
    assert http.post("/v1/silences", json=body).status_code == 401
    claimed = silence(http, **body, actor="slack:U0BOSS001")
    assert claimed.status_code == 422 and "may not be given in the body" in claimed.text
    assert silence(http, **body, created_by="U0BOSS001").status_code == 422
    assert silence(http, **body).json()["created_by"] == "api"
