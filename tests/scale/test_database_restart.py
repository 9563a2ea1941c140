"""A database restart is survived: 503 while it is down, normal service after."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from bot.app.server import ServerThread
from store.db import upgrade
from tests.conftest import API_TOKEN, TOKEN, make_services
from tests.support.binaries import missing
from tests.support.postgres import PostgresCluster, pg_bin_dir


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
    assert bin_dir is not None
    cluster = PostgresCluster(bin_dir).start()
    yield cluster
    cluster.stop()


def test_requests_fail_fast_while_the_database_is_down(own_cluster: PostgresCluster) -> None:
    url = own_cluster.url(own_cluster.create_database())
    upgrade(url)
    services = make_services(url, RESILIO_DB_POOL_TIMEOUT=2, RESILIO_RUN_SCHEDULER=False)
    alert = {"type": "alert", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
             "name": "GroundednessLow"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with ServerThread(services) as server, httpx.Client(base_url=server.url, timeout=30,
                                                        headers=headers) as client:
        assert client.post("/webhooks/generic", json=alert).status_code == 200
        own_cluster.halt()
        started = time.monotonic()
        down = client.post("/webhooks/generic", json={**alert, "name": "Other"})
        assert down.status_code == 503, down.text
        assert time.monotonic() - started < 10
        assert down.headers["retry-after"] == "5"
        assert client.get("/healthz").status_code == 503
        own_cluster.launch()
        deadline = time.monotonic() + 20
        while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        again = client.post("/webhooks/generic", json={**alert, "name": "Other"})
        assert again.status_code == 200, again.text
        listed = client.get("/v1/incidents", headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert listed.json()["data"][0]["alerts_firing"] == 2
    services.close()
