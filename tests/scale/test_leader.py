"""Exactly one leader on PostgreSQL; when it dies another takes over within the poll."""

from __future__ import annotations

import time

import psycopg
import pytest

from bot.core.leader import ADVISORY_KEY, LeaderElection
from store.db import make_engine
from tests.support.binaries import missing
from tests.support.postgres import PostgresCluster


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster | None) -> str:
    if pg_cluster is None:
        missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
    assert pg_cluster is not None
    return pg_cluster.url(pg_cluster.create_database())


def test_one_leader_and_failover(pg_url: str, pg_cluster: PostgresCluster) -> None:
    events: list[str] = []
    engines = [make_engine(pg_url), make_engine(pg_url)]
    first = LeaderElection(engines[0], on_elected=lambda: events.append("a+"),
                           on_lost=lambda: events.append("a-"), poll_seconds=0.2).start()
    second = LeaderElection(engines[1], on_elected=lambda: events.append("b+"),
                            on_lost=lambda: events.append("b-"), poll_seconds=0.2).start()
    try:
        time.sleep(0.6)
        assert (first.is_leader, second.is_leader) == (True, False)
        # Kill the leader's database session, as a crashed process would lose it.
        with psycopg.connect(pg_cluster.admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks "
                          "WHERE locktype = 'advisory' AND objid = %s", (ADVISORY_KEY,))
        deadline = time.monotonic() + 5
        while not second.is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert second.is_leader
        assert not first.is_leader  # it noticed, paused, and did not take the lock back
        assert events[:3] == ["a+", "a-", "b+"] or events[:3] == ["a+", "b+", "a-"]
    finally:
        first.stop()
        second.stop()
        for engine in engines:
            engine.dispose()


def test_sqlite_process_is_always_leader(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    election = LeaderElection(engine, on_elected=lambda: None, on_lost=lambda: None).start()
    assert election.is_leader
    election.stop()
    engine.dispose()


def test_the_leader_registers_the_periodic_jobs(sqlite_url: str) -> None:
    from bot.core.scheduler import stop_scheduler
    from bot.scheduling.jobs import start_scheduling
    from tests.conftest import make_services

    services = make_services(sqlite_url)
    try:
        start_scheduling(services)  # the start hook: the scheduler with the fixed jobs
        scheduler = services.scheduler
        assert scheduler is not None
        ids = {job.id for job in scheduler.get_jobs()}
        assert {"watch", "burn-alerts", "recover-runs", "prune-signals"} <= ids
        assert services.is_leader()
    finally:
        stop_scheduler(services)
        services.close()
