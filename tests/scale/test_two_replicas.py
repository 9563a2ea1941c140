"""Two ``resilio serve`` replicas on one PostgreSQL: nothing made twice, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import httpx
import pytest
import yaml

from bot.demo.workspace import populate
from bot.devtools.slack_emulator import SlackEmulator
from store import queries
from store.db import make_engine, session_scope, upgrade
from store.models import Alert, Incident
from tests.conftest import API_TOKEN, TOKEN
from tests.support.binaries import missing
from tests.support.postgres import PostgresCluster
from tests.support.replicas import Replica

SERVICES = ["rag-assistant", "fraud-scorer", "checkout", "search", "ranker"]


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster | None) -> str:
    if pg_cluster is None:
        missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
    assert pg_cluster is not None
    url = pg_cluster.url(pg_cluster.create_database())
    upgrade(url)
    return url


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    populate(emulator)
    yield emulator
    emulator.stop()


def catalog_with_digest_due(folder: Path) -> tuple[Path, datetime]:
    """The example catalog, with ml-platform's digest due at the start of the next minute."""
    data = yaml.safe_load(resources.files("bot.defaults").joinpath("resilio.yml").read_text())
    due = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (due - datetime.now(UTC)).total_seconds() < 20:  # leave the replicas time to start
        due += timedelta(minutes=1)
    data["teams"][0]["digest"] = {"weekday": due.strftime("%a").lower(),
                                  "time": due.strftime("%H:%M"), "timezone": "UTC"}
    path = folder / "resilio.yml"
    path.write_text(yaml.safe_dump(data))
    return path, due


@pytest.fixture
def replicas(pg_url: str, slack: SlackEmulator,
             tmp_path: Path) -> Iterator[list[Replica]]:
    catalog, due = catalog_with_digest_due(tmp_path)
    slack.digest_due = due  # type: ignore[attr-defined]
    env = {"DATABASE_URL": pg_url, "RESILIO_WEBHOOK_TOKEN": TOKEN, "RESILIO_API_TOKEN": API_TOKEN,
           "RESILIO_CONFIG": str(catalog),
           "RESILIO_REPORTS_DIR": str(tmp_path / "reports"),
           "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
           "SLACK_API_URL": slack.url, "RESILIO_LEADER_POLL_SECONDS": "1"}
    started = [Replica(env, "a"), Replica(env, "b")]
    try:
        yield [replica.wait_ready() for replica in started]
    finally:
        for replica in started:
            replica.stop()


def body(alerts: list[dict]) -> dict:
    return {"receiver": "resilio", "status": "firing", "alerts": alerts, "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}


def alert(index: int) -> dict:
    return {"status": "firing",
            "labels": {"alertname": f"A{index % 3}", "service": SERVICES[index % 5],
                       "pod": str(index), "severity": "warning"},
            "annotations": {"summary": "storm"}, "startsAt": "2026-11-26T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"storm-{index:06d}"}


def post(url: str, alerts: list[dict]) -> int:
    response = httpx.post(f"{url}/webhooks/alertmanager", json=body(alerts), timeout=60,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    return response.status_code


def test_storm_split_across_two_replicas(replicas: list[Replica], pg_url: str,
                                         slack: SlackEmulator) -> None:
    storm = [alert(i) for i in range(3000)]
    batches = [storm[i:i + 50] for i in range(0, len(storm), 50)]
    jobs = [(replicas[i % 2].url, batch) for i, batch in enumerate(batches)]
    # the first 400 alerts also go to both replicas at the same moment
    jobs += [(replica.url, batch) for batch in batches[:8] for replica in replicas]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda job: post(*job), jobs))
    assert set(statuses) == {200}

    engine = make_engine(pg_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            incidents = queries.list_incidents(session=session)
            if incidents and all(i.slack_summary_ts for i in incidents):
                break
        time.sleep(0.5)
    with session_scope(engine) as session:
        assert queries.count_rows(session=session, table=Alert) == 3000
        assert queries.count_rows(session=session, table=Incident) == 5  # as one process makes
        incidents = queries.list_incidents(session=session)
        assert sorted(i.alerts_firing for i in incidents) == [600] * 5
        assert sorted(i.service for i in incidents) == sorted(SERVICES)
    engine.dispose()

    assert all(i.slack_channel_id and i.slack_summary_ts for i in incidents)
    created = slack.calls_to("conversations.create", ok=True)
    assert len(created) == 5, [c.args.get("name") for c in created]
    pinned = slack.calls_to("pins.add", ok=True)
    assert len(pinned) == 5
    leaders = [replica.health()["checks"]["leader"] for replica in replicas]
    assert sorted(leaders) == [False, True]

    # The ml-platform digest fell due during the test: posted once, by one replica.
    due = slack.digest_due  # type: ignore[attr-defined]
    while datetime.now(UTC) < due + timedelta(seconds=20):
        if [c for c in slack.calls_to("chat.postMessage", ok=True)
                if c.args.get("channel") == "C0MLPLAT1"]:
            break
        time.sleep(0.5)
    time.sleep(3)
    digests = [c for c in slack.calls_to("chat.postMessage", ok=True)
               if c.args.get("channel") == "C0MLPLAT1"]
    assert len(digests) == 1, digests


def test_leader_dies_and_the_other_takes_over(replicas: list[Replica]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        leaders = [replica.health()["checks"]["leader"] for replica in replicas]
        if sorted(leaders) == [False, True]:
            break
        time.sleep(0.2)
    leader = replicas[leaders.index(True)]
    follower = replicas[leaders.index(False)]
    leader.kill()
    started = time.monotonic()
    while not follower.health()["checks"]["leader"]:
        assert time.monotonic() - started < 30, "no takeover within 30 s"
        time.sleep(0.2)
    print(f"takeover after {time.monotonic() - started:.1f} s")


def test_leader_killed_mid_runbook_run_is_resumed_or_interrupted_once(
        replicas: list[Replica], pg_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}  # posts the alert
    api = {"Authorization": f"Bearer {API_TOKEN}"}  # runs and reads
    leaders = [replica.health()["checks"]["leader"] for replica in replicas]
    leader, follower = (replicas[0], replicas[1]) if leaders[0] else (replicas[1], replicas[0])
    record = {"type": "alert", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
              "name": "GroundednessLow"}
    opened = httpx.post(f"{leader.url}/webhooks/generic", json=record, headers=headers,
                        timeout=30).json()["incidents_opened"][0]
    # fallback-mode's verify step waits for groundedness that never comes: a long run.
    run = httpx.post(f"{leader.url}/v1/incidents/{opened}/runbooks", headers=api,
                     timeout=30, json={"name": "fallback-mode",
                                       "idempotency_key": "failover-1",
                                       "params": {"verify_poll_seconds": 1,
                                                  "gateway_url": "http://127.0.0.1:9"}})
    assert run.status_code == 202, run.text
    run_id = run.json()["id"]

    def state() -> dict:
        return httpx.get(f"{follower.url}/v1/runbook-runs/{run_id}", headers=api,
                         timeout=10).json()

    def recoveries() -> list[str]:
        timeline = httpx.get(f"{follower.url}/v1/incidents/{opened}", headers=api,
                             timeout=10).json()["timeline"]
        return [e["kind"] for e in timeline
                if e["kind"] in ("runbook.resumed", "runbook.interrupted")]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and state()["status"] != "running":
        time.sleep(0.2)
    assert state()["status"] == "running"
    leader.kill()
    deadline = time.monotonic() + 60  # takeover (~1 s) + heartbeat silence (20 s) + job (10 s)
    while time.monotonic() < deadline and not recoveries():
        time.sleep(0.5)
    time.sleep(12)  # another recovery round must not act on it again
    assert len(recoveries()) == 1
    final = state()
    if recoveries() == ["runbook.interrupted"]:
        assert final["status"] == "interrupted"
    else:
        assert final["status"] in ("running", "succeeded", "failed")
    runs = httpx.get(f"{follower.url}/v1/incidents/{opened}/runbooks", headers=api,
                     timeout=10).json()["runs"]
    assert [r["id"] for r in runs] == [run_id]  # never doubled
