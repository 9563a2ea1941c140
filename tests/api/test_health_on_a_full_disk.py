"""``/healthz`` on a real full disk: a small tmpfs holds the SQLite file, then fills up."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import bot.api.health as health
from bot.app.server import ServerThread
from store.db import upgrade
from tests.conftest import TOKEN, make_services
from tests.support.binaries import missing


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        missing("mounting a 4 MB tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        missing(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError:
            pass
    return filler


def storm(size: int, start: int) -> list[dict]:
    return [{"type": "alert", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
             "name": "DiskTest", "labels": {"pod": f"pod-{i}"},
             "annotations": {"summary": "x" * 500}} for i in range(start, start + size)]


def test_healthz_degrades_while_writes_fail_and_recovers(small_disk: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "PROBE_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(health, "RECENT_FAILURE_SECONDS", 2.0)
    url = f"sqlite:///{small_disk / 'resilio.db'}"
    upgrade(url)
    services = make_services(url, RESILIO_RUN_SCHEDULER="false")
    try:
        with ServerThread(services) as server, httpx.Client(
                base_url=server.url, timeout=30,
                headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            assert client.get("/healthz").json()["checks"]["writes"] == "ok"
            filler = fill(small_disk)
            refused = client.post("/webhooks/generic", json=storm(2000, 0))
            assert refused.status_code == 503, refused.text
            answer = client.get("/healthz")
            assert answer.status_code == 503
            body = answer.json()
            assert body["status"] == "degraded"
            assert body["checks"]["database"] == "ok"  # SELECT 1 still works...
            assert body["checks"]["writes"].startswith("error")  # ...writes do not
            assert "full" in body["checks"]["writes"]

            filler.unlink()
            time.sleep(2.5)
            recovered = client.get("/healthz")
            assert recovered.status_code == 200, recovered.text
            assert recovered.json()["checks"]["writes"] == "ok"
            assert client.post("/webhooks/generic", json=storm(50, 5000)).status_code == 200
    finally:
        services.drain(30)
        services.close()
