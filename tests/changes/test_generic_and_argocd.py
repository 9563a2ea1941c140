"""The generic signed change form and Argo CD notifications (the documented template)."""

from __future__ import annotations

import json
import time

import httpx

from bot.changes.signatures import sign_generic
from bot.core.services import Services
from tests.changes.conftest import READ, SECRETS

SECRET = SECRETS["RESILIO_CHANGE_WEBHOOK_SECRET"]


def _signed(url: str, payload: object, *, secret: str = SECRET, ts: int | None = None,
            body: bytes | None = None) -> httpx.Response:
    raw = body if body is not None else json.dumps(payload).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    return httpx.post(f"{url}/webhooks/change", content=raw, headers={
        "X-Resilio-Timestamp": stamp,
        "X-Resilio-Signature": sign_generic(secret, body=raw, timestamp=stamp)})


def test_generic_signed_changes_track_previous_by_subject(served: tuple[Services, str]) -> None:
    _, url = served
    flag = {"service": "rag-assistant", "kind": "threshold", "ref": "0.7",
            "subject": "guardrail-threshold", "author": "launchdarkly-relay",
            "ts": "2026-11-30T10:00:00Z"}
    assert _signed(url, flag).json()["recorded"][0]["previous"] is None
    moved = _signed(url, [{**flag, "ref": "0.9", "ts": "2026-11-30T11:00:00Z"},
                          {"service": "rag-assistant", "kind": "nonsense", "ref": "x"}])
    body = moved.json()
    assert [c["previous"] for c in body["recorded"]] == ["0.7"]
    assert body["errors"][0]["index"] == 1 and "kind" in body["errors"][0]["reason"]


def test_generic_signature_and_replay_are_checked(served: tuple[Services, str]) -> None:
    _, url = served
    change = {"service": "rag-assistant", "kind": "config", "ref": "c1"}
    assert _signed(url, change, secret="wrong").status_code == 401
    stale = _signed(url, change, ts=int(time.time()) - 3600)
    assert stale.status_code == 401 and "replay" in stale.json()["detail"]
    assert _signed(url, None, body=b"{not json").status_code == 400
    listed = httpx.get(f"{url}/v1/changes", params={"service": "rag-assistant"},
                       headers=READ).json()
    assert listed["data"] == []


def test_argocd_sync_is_a_config_change(served: tuple[Services, str]) -> None:
    _, url = served
    headers = {"Authorization": f"Bearer {SECRETS['RESILIO_ARGOCD_TOKEN']}"}
    body = {"app": "rag-config", "revision": "a1b2c3d4e5f6", "phase": "Succeeded",
            "finished_at": "2026-11-30T12:00:00Z", "author": "ana",
            "repo": "https://git.example/rag-config.git"}
    first = httpx.post(f"{url}/webhooks/argocd", json=body, headers=headers)
    assert first.status_code == 200, first.text
    second = httpx.post(f"{url}/webhooks/argocd", headers=headers, json={
        **body, "revision": "f6e5d4c3b2a1", "finished_at": "2026-11-30T13:00:00Z"})
    [change] = second.json()["recorded"]
    assert (change["service"], change["kind"], change["previous"]) == (
        "rag-assistant", "config", "a1b2c3d4e5f6")
    running = httpx.post(f"{url}/webhooks/argocd", headers=headers,
                         json={**body, "phase": "Running"})
    assert running.json()["ignored"]
    assert httpx.post(f"{url}/webhooks/argocd", json=body).status_code == 401
    kinds = httpx.get(f"{url}/v1/changes", headers=READ, params={"service": "rag-assistant",
                                                                  "kind": "config"}).json()
    assert kinds["count"] == 2


def test_signed_nonsense_is_a_4xx_never_a_500(served: tuple[Services, str]) -> None:
    """Correctly signed bodies of the wrong shape, for every source."""
    import base64
    import hashlib
    import hmac
    import uuid

    _, url = served
    shapes = [[], "x", 5, None, {"entity": 3}, {"entity": "model_version_alias",
                                                "action": "created", "data": []},
              {"entity": "model_version_alias", "action": "created",
               "data": {"name": {"a": 1}, "alias": "c", "version": [1]}},
              {"repository": {"full_name": ["x"]}, "deployment_status": {"state": "success"}},
              {"action": "published", "repository": {"full_name": "a/b"}, "release": {}},
              {"app": "x", "revision": "r", "kind": "nonsense"}, {"app": [], "revision": 1}]
    for shape in shapes:
        body = json.dumps(shape).encode()
        stamp = str(int(time.time()))
        delivery = str(uuid.uuid4())
        mlflow_sig = "v1," + base64.b64encode(hmac.new(
            SECRETS["RESILIO_MLFLOW_WEBHOOK_SECRET"].encode(),
            f"{delivery}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
        github_sig = "sha256=" + hmac.new(SECRETS["RESILIO_GITHUB_WEBHOOK_SECRET"].encode(),
                                          body, hashlib.sha256).hexdigest()
        answers = [
            httpx.post(f"{url}/webhooks/mlflow", content=body, headers={
                "X-MLflow-Signature": mlflow_sig, "X-MLflow-Timestamp": stamp,
                "X-MLflow-Delivery-Id": delivery}),
            *(httpx.post(f"{url}/webhooks/github", content=body, headers={
                "X-GitHub-Event": event, "X-Hub-Signature-256": github_sig})
              for event in ("deployment_status", "release")),
            httpx.post(f"{url}/webhooks/argocd", content=body, headers={
                "Authorization": f"Bearer {SECRETS['RESILIO_ARGOCD_TOKEN']}"}),
            _signed(url, None, body=body)]
        for answer in answers:
            assert answer.status_code < 500, (shape, answer.request.url, answer.text)
