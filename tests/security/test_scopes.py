"""Who may do what over HTTP: closed without tokens, scoped tokens, identity from the token.

The bot runs for real on loopback with three kinds of token: the webhook token
(Alertmanager's), the API token and people's tokens; the people's user groups come
from the Slack emulator (``usergroups.list``), the way a Slack click gets them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.app.server import ServerThread, free_port
from bot.config.catalog import load_catalog
from bot.config.settings import Settings, exposure_problem
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator import SlackEmulator
from store import queries
from store.db import session_scope
from tests.runbooks.support import open_incident

WEBHOOK, API = "webhook-token-0123", "api-token-0123"
SRE_TOKEN, ML_TOKEN, DATA_TOKEN = "sre-token-0123", "ml-token-0123", "data-token-0123"
PEOPLE = f"U0SRE0001:{SRE_TOKEN},U0ML00001:{ML_TOKEN},U0DATA001:{DATA_TOKEN}"
ALERT = {"type": "alert", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
         "name": "GroundednessLow"}
SIGNAL = {"type": "signal", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
          "layer": "quality", "name": "groundedness", "value": 0.9}
CHANGE = {"type": "change", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
          "kind": "model", "ref": "v8", "previous": "v7"}


@dataclass
class Running:
    services: Services
    url: str
    incident_id: int

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: object) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30,
                             **kwargs)  # type: ignore[arg-type]


def start(url: str, **settings: str) -> tuple[Services, ServerThread]:
    services = build_services(Settings(DATABASE_URL=url, RESILIO_RUN_SCHEDULER="false",
                                       **settings), load_catalog(None))
    return services, ServerThread(services).start()


@pytest.fixture
def running(slack: SlackEmulator, sqlite_url: str) -> Iterator[Running]:
    services, server = start(sqlite_url, RESILIO_WEBHOOK_TOKEN=WEBHOOK, RESILIO_API_TOKEN=API,
                             RESILIO_USER_TOKENS=PEOPLE, SLACK_BOT_TOKEN=slack.bot_token,
                             SLACK_API_URL=slack.url)
    incident_id = open_incident(services)
    yield Running(services, server.url, incident_id)
    services.drain(30)
    server.stop()
    services.close()


def test_without_an_api_token_the_json_api_is_closed(sqlite_url: str) -> None:
    services, server = start(sqlite_url, RESILIO_WEBHOOK_TOKEN=WEBHOOK)
    try:
        for path in ("/v1/incidents", "/v1/incidents/1", "/v1/slo", "/v1/runbooks",
                     "/v1/runbook-runs/1", "/v1/incidents/1/runbooks"):
            answer = httpx.get(f"{server.url}{path}", timeout=30)
            assert answer.status_code == 401, path
            assert "RESILIO_API_TOKEN" in answer.json()["detail"]
            with_webhook = httpx.get(f"{server.url}{path}", timeout=30,
                                     headers={"Authorization": f"Bearer {WEBHOOK}"})
            assert with_webhook.status_code == 401, path  # still no API token on the server
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
    finally:
        server.stop()
        services.close()


def test_the_webhook_token_posts_alerts_signals_and_changes_only(running: Running) -> None:
    assert running.call("POST", "/webhooks/generic", WEBHOOK, json=ALERT).status_code == 200
    assert running.call("POST", "/v1/signals", WEBHOOK, json=[SIGNAL]).status_code == 200
    assert running.call("POST", "/v1/changes", WEBHOOK, json=[CHANGE]).status_code == 200
    incident = running.incident_id
    refused = [
        ("GET", "/v1/incidents", None), ("GET", f"/v1/incidents/{incident}", None),
        ("GET", "/v1/slo", None), ("GET", "/v1/runbooks", None),
        ("GET", f"/v1/incidents/{incident}/runbooks", None),
        ("POST", f"/v1/incidents/{incident}/transition", {"to": "acknowledged"}),
        ("POST", f"/v1/incidents/{incident}/label", {"label": "data"}),
        ("POST", f"/v1/incidents/{incident}/runbooks", {"name": "rollback-model"}),
        ("POST", "/v1/runbook-runs/1/approve", {}),
    ]
    for method, path, body in refused:
        answer = running.call(method, path, WEBHOOK, json=body)
        assert answer.status_code == 403, (path, answer.text)
        assert "may ingest only" in answer.json()["detail"]
    # and the API's tokens are not webhook tokens
    for token in (API, SRE_TOKEN):
        assert running.call("POST", "/webhooks/generic", token, json=ALERT).status_code == 401
    assert running.call("GET", "/v1/incidents", "guess").status_code == 401
    assert running.call("GET", "/v1/incidents").status_code == 401


def timeline(running: Running) -> list[tuple[str, str]]:
    with session_scope(running.services.engine) as session:
        return [(e.kind, e.actor) for e in
                queries.timeline(session=session, incident_id=running.incident_id)]


def test_api_and_person_tokens_act_as_their_owner(running: Running) -> None:
    path = f"/v1/incidents/{running.incident_id}"
    assert running.call("GET", path, API).status_code == 200
    assert running.call("GET", path, SRE_TOKEN).status_code == 200
    ack = running.call("POST", f"{path}/transition", API, json={"to": "acknowledged"})
    assert ack.status_code == 200, ack.text
    mitigate = running.call("POST", f"{path}/transition", SRE_TOKEN, json={"to": "mitigated"})
    assert mitigate.status_code == 200, mitigate.text
    label = running.call("POST", f"{path}/label", ML_TOKEN, json={"label": "data"})
    assert label.status_code == 200, label.text
    kinds = timeline(running)
    assert ("acknowledged", "api") in kinds
    assert ("mitigated", "slack:U0SRE0001") in kinds


@pytest.mark.parametrize("claim", [{"actor": "U0ML00001"}, {"groups": ["S0MLTEAM1"]},
                                   {"actor": "U0ML00001", "groups": ["S0MLTEAM1"]},
                                   {"user": "U0ML00001"}])
def test_an_identity_claimed_in_the_body_is_refused(running: Running,
                                                   claim: dict[str, object]) -> None:
    incident = running.incident_id
    for path, body in [(f"/v1/incidents/{incident}/transition", {"to": "acknowledged"}),
                       (f"/v1/incidents/{incident}/label", {"label": "data"}),
                       (f"/v1/incidents/{incident}/runbooks", {"name": "rollback-model"}),
                       ("/v1/runbook-runs/1/approve", {}), ("/v1/runbook-runs/1/reject", {}),
                       ("/v1/runbook-runs/1/cancel", {})]:
        answer = running.call("POST", path, DATA_TOKEN, json={**body, **claim})
        assert answer.status_code == 422, (path, answer.text)
        assert "token's owner" in answer.text
    assert not [kind for kind in timeline(running) if kind[0] in ("acknowledged", "relabelled")]


def test_approval_goes_by_the_approvers_slack_groups(running: Running) -> None:
    incident = running.incident_id
    body = {"name": "rollback-model", "params": {"version": "v7",
                                                 "gateway_url": "http://127.0.0.1:9"}}
    started = running.call("POST", f"/v1/incidents/{incident}/runbooks", SRE_TOKEN, json=body)
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["status"] == "pending_approval"
    approve = f"/v1/runbook-runs/{run['id']}/approve"
    # U0DATA001 is in no approving group (Slack says so), whatever it might claim
    assert running.call("POST", approve, DATA_TOKEN, json={}).status_code == 403
    # the API token is a machine in no Slack group: it may not approve either
    assert running.call("POST", approve, API, json={}).status_code == 403
    # the one who asked may not approve their own run
    assert running.call("POST", approve, SRE_TOKEN, json={}).status_code == 403
    assert running.call("GET", f"/v1/runbook-runs/{run['id']}", API).json()["status"] == \
        "pending_approval"
    # U0ML00001 is in S0MLTEAM1 according to Slack's usergroups.list
    approved = running.call("POST", approve, ML_TOKEN, json={})
    assert approved.status_code == 200, approved.text
    assert ("runbook.approved", "slack:U0ML00001") in timeline(running)


def test_ids_beyond_64_bits_are_422(running: Running) -> None:
    huge = 2**63
    for method, path, body in [
            ("GET", f"/v1/incidents/{huge}", None),
            ("POST", f"/v1/incidents/{huge}/transition", {"to": "acknowledged"}),
            ("POST", f"/v1/incidents/{huge}/label", {"label": "data"}),
            ("GET", f"/v1/incidents/{huge}/runbooks", None),
            ("POST", f"/v1/incidents/{huge}/runbooks", {"name": "rollback-model"}),
            ("GET", f"/v1/runbook-runs/{huge}", None),
            ("POST", f"/v1/runbook-runs/{huge}/approve", {}),
            ("POST", f"/v1/runbook-runs/{huge}/reject", {}),
            ("POST", f"/v1/runbook-runs/{huge * 4}/cancel", {})]:
        answer = running.call(method, path, API, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["detail"][0]["loc"][0] == "path"


def test_person_tokens_must_name_a_slack_user() -> None:
    with pytest.raises(ValueError, match="RESILIO_USER_TOKENS"):
        Settings(RESILIO_USER_TOKENS="ana:secret")
    with pytest.raises(ValueError, match="RESILIO_USER_TOKENS"):
        Settings(RESILIO_USER_TOKENS="U0ML00001:")
    assert Settings(RESILIO_USER_TOKENS="U0ML00001:a, W0X1:b").person_tokens() == {
        "U0ML00001": "a", "W0X1": "b"}


def test_serve_refuses_the_network_without_tokens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bare = Settings()
    assert exposure_problem(bare, "127.0.0.1") is None
    assert "no token is set" in (exposure_problem(bare, "0.0.0.0") or "")
    assert exposure_problem(Settings(RESILIO_WEBHOOK_TOKEN="w", RESILIO_API_TOKEN="a"),
                            "0.0.0.0") is None
    same = Settings(RESILIO_WEBHOOK_TOKEN="same", RESILIO_API_TOKEN="same")
    assert "also an API token" in (exposure_problem(same, "127.0.0.1") or "")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESILIO_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'never.db'}"
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--host", "0.0.0.0",
                           "--port", "9"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0: no token is set" in done.stderr
    assert not (tmp_path / "never.db").exists()  # refused before touching anything


def test_nan_in_an_acting_body_is_422(running: Running) -> None:
    path = f"/v1/incidents/{running.incident_id}/runbooks"
    for params in ({"verify_poll_seconds": float("nan")}, {"nested": [1, float("inf")]}):
        body = '{"name": "rollback-model", "params": ' + \
            str(params).replace("'", '"').replace("nan", "NaN").replace("inf", "Infinity") + "}"
        answer = running.call("POST", path, SRE_TOKEN, content=body)
        assert answer.status_code == 422, answer.text
        assert "NaN or Infinity" in answer.text and "params." in answer.text
    # a refused body holding NaN is answered 422 too (FastAPI's echo of it would not render)
    answer = running.call("POST", f"/v1/incidents/{running.incident_id}/transition", API,
                          content='{"to": NaN}')
    assert answer.status_code == 422 and "to is NaN" in answer.json()["detail"][0]["msg"]


def test_groups_that_cannot_be_asked_of_slack_are_a_503_not_a_guess(sqlite_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/"  # Slack unreachable
    services, server = start(sqlite_url, RESILIO_API_TOKEN=API, RESILIO_USER_TOKENS=PEOPLE,
                             SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=dead)
    try:
        incident = open_incident(services)
        answer = httpx.post(f"{server.url}/v1/incidents/{incident}/runbooks", timeout=30,
                            json={"name": "rollback-model"},
                            headers={"Authorization": f"Bearer {SRE_TOKEN}"})
        assert answer.status_code == 503, answer.text
        assert "user groups of U0SRE0001" in answer.json()["detail"]
    finally:
        server.stop()
        services.close()
