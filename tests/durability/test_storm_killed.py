"""A storm over 20 services with ``resilio serve`` killed by SIGKILL in the middle of it.

No hold here: the kill lands wherever it lands, while follow-up work is running (some
rows done, some claimed by the dying process, some not yet started). Alertmanager
re-sends what got no answer; the restarted server must finish everything: every
incident diagnosed, one channel each, each escalation timer set, nothing dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

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

SERVICES = [f"svc-{n:02d}" for n in range(20)]
# A few hundred by default, so the test stays fast; RESILIO_TEST_STORM_ALERTS=5000 for more.
ALERTS = int(os.environ.get("RESILIO_TEST_STORM_ALERTS", "400"))
PER_REQUEST = 10


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    populate(emulator)
    yield emulator
    emulator.stop()


def storm() -> list[list[dict]]:
    alerts = [alert(SERVICES[i % len(SERVICES)], f"A{i % 7}", f"storm-{i:05d}")
              for i in range(ALERTS)]
    return [alerts[i:i + PER_REQUEST] for i in range(0, ALERTS, PER_REQUEST)]


def send(url: str, batch: list[dict]) -> int:
    try:
        return post_alerts(url, batch).status_code
    except httpx.TransportError:
        return 0  # the server died under it: Alertmanager will send this again


def test_storm_killed_midway_every_incident_is_finished_after_restart(
        db_url: str, slack: SlackEmulator, tmp_path: Path) -> None:
    database = Database(db_url)
    catalog = catalog_of(tmp_path, SERVICES)
    batches = storm()
    first = Replica(environment(db_url, slack, catalog), "first").wait_ready()
    answered: list[int] = []
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(send, first.url, batch) for batch in batches]
            # kill once the first incidents' channels are being made: mid-storm, mid-work
            wait_for(lambda: len(slack.calls_to("conversations.create")) >= 3, timeout=60,
                     what="the first channels")
            first.kill()
            answered = [index for index, f in enumerate(futures) if f.result() == 200]
    finally:
        first.kill()
    left = database.tasks()
    unfinished = [t for t in left if t.state != "done"]
    opened_before = [i.id for i in database.incidents()]
    print(f"\nkilled after {len(answered)} of {len(batches)} requests answered: "
          f"{len(opened_before)} incidents, {len(unfinished)} of {len(left)} follow-up rows "
          f"unfinished ({sum(t.state == 'running' for t in unfinished)} claimed by the dead "
          f"process), {sum(i.behavior is None for i in database.incidents())} incidents "
          f"undiagnosed")
    assert unfinished, "the kill came after all the work: it proves nothing"

    second = Replica(environment(db_url, slack, catalog), "second").wait_ready()
    try:
        resend = [batch for index, batch in enumerate(batches) if index not in answered]
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert set(pool.map(lambda b: send(second.url, b), resend)) <= {200}
        started = time.monotonic()
        incidents = database.incidents()
        wait_for(lambda: database.finished([i.id for i in incidents]), timeout=120,
                 what="every incident's follow-up work")
        print(f"restart finished all {len(incidents)} incidents in "
              f"{time.monotonic() - started:.1f} s")
        health = second.health()
        incidents = database.incidents()
    finally:
        second.stop()
        database.close()

    assert len(incidents) == len(SERVICES)  # one per service, as without the crash
    assert all(i.behavior is not None for i in incidents)
    names = channels_created(slack)
    assert sorted(names) == sorted(i.slack_channel_name for i in incidents)  # once each
    assert health["checks"]["outbox"]["dead"] == 0
