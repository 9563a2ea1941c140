"""The outbox itself, on both stores: atomic with the change, one claimant, retries, dead rows."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from bot.app.http import create_app
from bot.core import outbox
from bot.core.runner_identity import HOST
from bot.core.services import Services
from bot.incidents import lifecycle
from store import outbox_queries as tasks_q
from store.db import session_scope
from store.outbox_models import OutboxTask
from tests.conftest import make_services

CALLS: Counter[str] = Counter()
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def always_fails(*, services: Services, key: str, **_: object) -> None:
    CALLS[key] += 1
    raise RuntimeError(f"{key} cannot be done")


def counts_calls(*, services: Services, key: str, **_: object) -> None:
    CALLS[key] += 1


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def bot(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setitem(outbox.FOLLOW_UPS, "test", tuple(
        outbox.FollowUp(name) for name in ("always_fails", "counts_calls")))
    services = make_services(db_url, RESILIO_RUN_SCHEDULER="false", RESILIO_OUTBOX_MAX_ATTEMPTS=3)
    services.follow_up_handlers.update(always_fails=always_fails, counts_calls=counts_calls)
    services.clock = Clock()
    CALLS.clear()
    yield services
    services.drain(10)
    services.close()


def add(services: Services, function: str, key: str, **fields: object) -> int:
    row = {"event": "test", "handler": function,
           "payload": {"key": key}, "incident_id": None, "pending_key": None,
           "state": "pending", "attempts": 0, "available_at": services.clock(),
           "created_at": services.clock(), **fields}
    with session_scope(services.engine) as session:
        [task_id] = tasks_q.add(session=session, rows=[row])
    return task_id


def rows(services: Services) -> list[OutboxTask]:
    with session_scope(services.engine) as session:
        return list(session.exec(select(OutboxTask).order_by(col(OutboxTask.id))))


def test_follow_up_rows_commit_and_roll_back_with_the_incident(bot: Services) -> None:
    with pytest.raises(RuntimeError), session_scope(bot.engine) as session:
        incident = lifecycle.new_incident(session=session, service="checkout", title="lost",
                                          severity="page", source="alert", actor="t",
                                          now=bot.clock())
        outbox.record(session, "incident.opened", now=bot.clock(), incident_id=incident.id)
        raise RuntimeError("the intake transaction fails")
    assert rows(bot) == []
    with session_scope(bot.engine) as session:
        incident = lifecycle.new_incident(session=session, service="checkout", title="kept",
                                          severity="page", source="alert", actor="t",
                                          now=bot.clock())
        outbox.record(session, "incident.opened", now=bot.clock(), incident_id=incident.id)
    assert sorted(t.handler for t in rows(bot)) == sorted(
        f.handler for f in outbox.FOLLOW_UPS["incident.opened"])


def test_a_waiting_repeat_is_coalesced_and_a_later_one_is_not(bot: Services) -> None:
    with session_scope(bot.engine) as session:
        first = outbox.record(session, "incident.changed", now=bot.clock(), incident_id=7)
        again = outbox.record(session, "incident.changed", now=bot.clock(), incident_id=7)
        priced = outbox.record(session, "incident.changed", now=bot.clock(), incident_id=7,
                               status="mitigated")
    assert len(first) == 1 and again == []  # one summary refresh waits: enough
    assert len(priced) == 2  # a new status is new work: pricing and the refresh
    with session_scope(bot.engine) as session:
        tasks_q.claim(session=session, worker="w", now=bot.clock(),
                      lease_until=bot.clock() + timedelta(minutes=1), ids=first)
        later = outbox.record(session, "incident.changed", now=bot.clock(), incident_id=7)
    assert len(later) == 1  # the claimed refresh may have read the incident already


def test_each_row_goes_to_one_worker_of_many(bot: Services) -> None:
    ids = {add(bot, "counts_calls", f"k{i}") for i in range(120)}
    taken: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with session_scope(bot.engine) as session:
                claimed = tasks_q.claim(session=session, worker=name, now=bot.clock(),
                                        lease_until=bot.clock() + timedelta(minutes=5),
                                        limit=7)
            if not claimed:
                return
            with lock:
                taken.extend(task.id for task in claimed)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(ids)  # every row once: none twice, none missed


def test_failures_back_off_then_the_row_is_dead_and_healthz_says_so(bot: Services) -> None:
    task_id = add(bot, "always_fails", "doomed")
    clock: Clock = bot.clock  # type: ignore[assignment]
    waits = []
    for _ in range(3):
        [task] = outbox._claim(bot)  # noqa: SLF001 - the poller's own step
        assert outbox.run_task(bot, task) is False
        [row] = rows(bot)
        if row.state == "pending":
            waits.append((row.available_at - clock.now).total_seconds())
            assert outbox._claim(bot) == []  # noqa: SLF001 - not before its time
            clock.now = row.available_at
    assert waits == [2.0, 4.0]  # exponential backoff
    [row] = rows(bot)
    assert row.id == task_id and row.state == "dead" and row.attempts == 3
    assert "doomed cannot be done" in (row.last_error or "") and CALLS["doomed"] == 3
    bot.runs_follow_ups = True
    with TestClient(create_app(bot)) as client:
        health = client.get("/healthz").json()
        metrics = client.get("/metrics").text
    assert health["checks"]["outbox"]["dead"] == 1
    assert 'resilio_outbox_failures_total{handler="always_fails"} 3.0' in metrics
    assert 'resilio_outbox_tasks{state="dead"} 1.0' in metrics


def test_rows_of_a_dead_local_process_are_taken_at_once(bot: Services) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = f"{HOST}:{child.stdout.strip()}"  # exited: its pid is gone
    far = bot.clock() + timedelta(hours=1)
    mine = add(bot, "counts_calls", "left-by-the-dead", state="running", claimed_by=dead,
               lease_until=far)
    remote = add(bot, "counts_calls", "held-elsewhere", state="running",
                 claimed_by="another-host:1", lease_until=bot.clock() + timedelta(minutes=1))
    assert outbox._claim(bot) == []  # noqa: SLF001 - both leases still hold
    assert outbox.release_dead_workers(bot) == 1
    assert [t.id for t in outbox._claim(bot)] == [mine]  # noqa: SLF001
    clock: Clock = bot.clock  # type: ignore[assignment]
    clock.now += timedelta(seconds=90)  # the other host went silent past its lease
    [task] = outbox._claim(bot)  # noqa: SLF001
    assert task.id == remote and task.attempts == 1
    assert outbox.run_task(bot, task) and CALLS["held-elsewhere"] == 1
    assert {t.id: t.state for t in rows(bot)}[remote] == "done"


def test_only_listed_handlers_are_run(bot: Services) -> None:
    """A row naming anything else (a bad migration, a hand-edited table) is never imported:
    names resolve only through the handlers the process was given."""
    add(bot, "counts_calls", "x", handler="os:system", payload={"command": "true"})
    [task] = outbox._claim(bot)  # noqa: SLF001
    assert outbox.run_task(bot, task) is False
    [row] = rows(bot)
    assert "no follow-up handler 'os:system'" in (row.last_error or "")


def test_a_worker_that_lost_its_lease_cannot_finish_the_row(bot: Services) -> None:
    task_id = add(bot, "counts_calls", "slow")
    lease = bot.clock() + timedelta(seconds=30)
    with session_scope(bot.engine) as session:
        [slow] = tasks_q.claim(session=session, worker="slow", now=bot.clock(),
                               lease_until=lease)
        [fast] = tasks_q.claim(session=session, worker="fast", now=lease + timedelta(seconds=1),
                               lease_until=lease + timedelta(minutes=1))
        assert slow.id == fast.id == task_id and fast.attempts == 2
        assert not tasks_q.finish(session=session, task_id=task_id, worker="slow",
                                  now=bot.clock())
        assert tasks_q.finish(session=session, task_id=task_id, worker="fast", now=bot.clock())
