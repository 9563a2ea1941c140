"""GitHub webhooks on GitHub's documented example payloads, signed right and wrong."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path

import httpx

from bot.core.services import Services
from tests.changes.conftest import READ, SECRETS

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = SECRETS["RESILIO_GITHUB_WEBHOOK_SECRET"]


def _post(url: str, event: str, body: bytes, secret: str = SECRET,
          signature: str | None = None) -> httpx.Response:
    signed = signature or "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(f"{url}/webhooks/github", content=body, headers={
        "X-GitHub-Event": event, "X-Hub-Signature-256": signed,
        "Content-Type": "application/json", "X-GitHub-Delivery": "72d3162e"})


def _changes(url: str) -> list[dict]:
    return httpx.get(f"{url}/v1/changes", headers=READ, params={
        "service": "rag-assistant", "since": "2019-01-01T00:00:00Z"}).json()["data"]


def test_deployment_status_is_a_code_change_with_the_previous_deploy(
        served: tuple[Services, str]) -> None:
    _, url = served
    body = (PAYLOADS / "deployment_status.json").read_bytes()
    first = _post(url, "deployment_status", body)
    assert first.status_code == 200, first.text
    [change] = first.json()["recorded"]
    assert change["service"] == "rag-assistant"  # the catalog's repository mapping
    assert (change["kind"], change["ref"], change["previous"], change["author"]) == (
        "code", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", None, "Codertocat")
    assert change["ts"] == "2019-05-15T15:20:55Z"
    assert "to production" in change["description"]

    assert _post(url, "deployment_status", body).json()["duplicates"] == 1  # GitHub redelivery

    later = json.loads(body)
    later["deployment"]["sha"] = "0123456789abcdef0123456789abcdef01234567"
    later["deployment"]["task"] = "deploy:config"
    later["deployment_status"]["updated_at"] = "2019-05-16T09:00:00Z"
    [second] = _post(url, "deployment_status", json.dumps(later).encode()).json()["recorded"]
    assert (second["kind"], second["previous"]) == (
        "config", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    assert [c["ref"] for c in _changes(url)] == [change["ref"], second["ref"]]


def test_release_is_a_code_change(served: tuple[Services, str]) -> None:
    _, url = served
    response = _post(url, "release", (PAYLOADS / "release_published.json").read_bytes())
    [change] = response.json()["recorded"]
    assert (change["kind"], change["ref"], change["ts"]) == ("code", "0.0.1",
                                                             "2019-05-15T15:20:53Z")


def test_wrong_or_missing_signatures_are_401_and_record_nothing(
        served: tuple[Services, str]) -> None:
    _, url = served
    body = (PAYLOADS / "deployment_status.json").read_bytes()
    assert _post(url, "deployment_status", body, secret="not-the-secret").status_code == 401
    tampered = body.replace(b'"state": "success"', b'"state": "success" ')
    signed_original = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _post(url, "deployment_status", tampered, signature=signed_original).status_code == 401
    unsigned = httpx.post(f"{url}/webhooks/github", content=body,
                          headers={"X-GitHub-Event": "deployment_status"})
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.json()["detail"]
    assert _changes(url) == []


def test_events_that_change_nothing_are_acknowledged_not_recorded(
        served: tuple[Services, str]) -> None:
    _, url = served
    failed = json.loads((PAYLOADS / "deployment_status.json").read_text())
    failed["deployment_status"]["state"] = "failure"
    staging = copy.deepcopy(json.loads((PAYLOADS / "deployment_status.json").read_text()))
    staging["deployment_status"]["environment"] = "staging"
    for event, payload in (("deployment_status", failed), ("deployment_status", staging),
                           ("ping", {"zen": "Keep it logically awesome."}),
                           ("push", {"ref": "refs/heads/main"})):
        response = _post(url, event, json.dumps(payload).encode())
        assert response.status_code == 200 and response.json()["ignored"], response.text
    assert _changes(url) == []
    broken = _post(url, "deployment_status", b'{"deployment_status": {"state": "success"}}')
    assert broken.status_code == 422 and "repository.full_name: missing" in broken.text


def test_a_source_without_its_secret_is_closed(db_url: str) -> None:
    from bot.app.server import ServerThread
    from tests.changes.conftest import changes_services

    services = changes_services(db_url, RESILIO_GITHUB_WEBHOOK_SECRET="")
    with ServerThread(services) as server:
        body = (PAYLOADS / "release_published.json").read_bytes()
        response = _post(server.url, "release", body)
        assert response.status_code == 401 and "RESILIO_GITHUB_WEBHOOK_SECRET" in response.text
    services.close()
