"""``resilio serve`` killed with SIGKILL after it answered: the follow-up work is not lost.

The first server runs with ``RESILIO_OUTBOX_HOLD_SECONDS`` (a test-only setting: follow-up
rows younger than that are left alone), so "killed right after the answer" is certain
rather than a race: when the kill lands, the incident is stored and nothing after it has
happened. A second server on the same database, without the hold, must then diagnose
the incident, create its channel exactly once and set its escalation timer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.runner_identity import HOST
from bot.demo.workspace import populate
from bot.devtools.slack_emulator import SlackEmulator
from tests.durability.support import (
    Database,
    alert,
    catalog_of,
    channels_created,
    environment,
    post_alerts,
    wait_for,
)
from tests.support.replicas import Replica


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    populate(emulator)
    yield emulator
    emulator.stop()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    opened = Database(db_url)
    yield opened
    opened.close()


def test_incident_opened_then_kill_9_is_finished_by_the_next_server(
        db_url: str, slack: SlackEmulator, database: Database, tmp_path: Path) -> None:
    catalog = catalog_of(tmp_path, ["rag-assistant"])
    first = Replica(environment(db_url, slack, catalog, RESILIO_OUTBOX_HOLD_SECONDS="600"),
                    "first").wait_ready()
    try:
        response = post_alerts(first.url, [alert("rag-assistant", "HighLatency", "kill-1")])
        assert response.status_code == 200, response.text
        [incident_id] = response.json()["incidents_opened"]
    finally:
        first.kill()

    # What the dead process left: the incident, and its follow-up work as rows, undone.
    [incident] = database.incidents()
    assert incident.id == incident_id and incident.behavior is None
    assert incident.slack_channel_id is None and channels_created(slack) == []
    assert database.escalation_jobs() == set()
    left = [(t.handler, t.state) for t in database.tasks()]
    assert sorted(left) == [("arm-escalation", "pending"), ("diagnose", "pending"),
                            ("open-channel", "pending")]

    second = Replica(environment(db_url, slack, catalog), "second").wait_ready()
    try:
        wait_for(lambda: database.finished([incident_id]), timeout=60,
                 what="the restarted server to finish the incident's follow-up work")
        # Alertmanager re-sends the same alert: it joins the incident, nothing is made twice.
        again = post_alerts(second.url, [alert("rag-assistant", "HighLatency", "kill-1")])
        assert again.status_code == 200 and again.json()["incidents_opened"] == []
        wait_for(lambda: all(t.state == "done" for t in database.tasks()), timeout=30,
                 what="the re-sent alert's follow-up work")
        health = second.health()
    finally:
        second.stop()

    [incident] = database.incidents()
    assert incident.behavior is not None and incident.diagnosis  # diagnosed
    assert channels_created(slack) == [incident.slack_channel_name]  # one channel, once
    channel = slack.channel_by_name(incident.slack_channel_name)
    assert channel is not None and incident.slack_summary_ts in channel.pins
    notices = [c for c in slack.calls_to("chat.postMessage", ok=True)
               if c.args.get("channel") == "C0ALERTS01"]
    assert len(notices) == 1  # announced once in the alerts channel
    assert f"escalation-{incident_id}-0" in database.escalation_jobs()  # paged in due time
    assert all(t.state == "done" for t in database.tasks())
    assert health["checks"]["outbox"]["dead"] == 0



def test_another_replica_finishes_what_a_killed_one_left(
        pg_cluster, slack: SlackEmulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two replicas on PostgreSQL: the one that answered dies; the other, still running
    and never restarted, does the dead one's follow-up work from the rows it left."""
    if pg_cluster is None:
        pytest.skip("PostgreSQL binaries not found")
    from store.db import upgrade

    url = pg_cluster.url(pg_cluster.create_database())
    upgrade(url)
    database = Database(url)
    catalog = catalog_of(tmp_path, ["rag-assistant", "checkout"])
    held = Replica(environment(url, slack, catalog, RESILIO_OUTBOX_HOLD_SECONDS="600"), "held")
    other = Replica(environment(url, slack, catalog), "other")
    try:
        held.wait_ready()
        other.wait_ready()
        response = post_alerts(held.url, [alert("checkout", "Errors", "replica-1")])
        [incident_id] = response.json()["incidents_opened"]
        held.kill()
        wait_for(lambda: database.finished([incident_id]), timeout=60,
                 what="the surviving replica to finish the incident")
        workers = {t.claimed_by for t in database.tasks()}
    finally:
        held.kill()
        other.stop()
        database.close()
    assert len(channels_created(slack)) == 1
    assert workers == {f"{HOST}:{other.process.pid}"}  # all of it done by the survivor
