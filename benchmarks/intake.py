"""Alert intake throughput: the real server (``resilio serve``) driven over loopback.

Starts one or more ``resilio serve`` processes on a fresh database, posts
Alertmanager v4 webhook bodies from concurrent clients for a fixed duration, then
checks that every alert sent was stored or deduplicated (stored count equals the
distinct fingerprints sent) and prints sustained alerts/s and p50/p99 latency.

    python3 benchmarks/intake.py                         # SQLite, one replica
    python3 benchmarks/intake.py --postgres --replicas 2    # a throwaway PostgreSQL
    python3 benchmarks/intake.py --database-url postgresql+psycopg://... --replicas 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_replica(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "RESILIO_WEBHOOK_TOKEN": TOKEN,
           "RESILIO_RUN_SCHEDULER": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not become ready")


def body(alerts: list[dict]) -> dict:
    return {"receiver": "resilio", "status": "firing", "alerts": alerts,
            "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}


def make_alert(index: int, services: int) -> dict:
    service = f"svc-{index % services}"
    return {"status": "firing",
            "labels": {"alertname": f"Alert{index % 7}", "service": service,
                       "instance": f"10.0.{index % 250}.{index % 97}:8080",
                       "severity": "warning"},
            "annotations": {"summary": "benchmark alert"},
            "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"{index:016x}"}


async def drive(urls: list[str], seconds: float, batch: int, concurrency: int,
                distinct: int, services: int) -> tuple[int, set[str], list[float], int]:
    latencies: list[float] = []
    sent_fingerprints: set[str] = set()
    errors = 0
    sent = 0
    rng = random.Random(7)

    # Bodies are encoded before the clock starts: the client's JSON work would otherwise
    # take CPU from the server it measures (both share this machine's two cores).
    pool = []
    for _ in range(2000):
        alerts = [make_alert(rng.randrange(distinct), services) for _ in range(batch)]
        pool.append(([a["fingerprint"] for a in alerts], json.dumps(body(alerts)).encode()))
    deadline = time.perf_counter() + seconds
    cursor = iter(range(10**9))

    async def worker(worker_id: int) -> None:
        nonlocal errors, sent
        url = urls[worker_id % len(urls)]
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            while time.perf_counter() < deadline:
                fingerprints, payload = pool[next(cursor) % len(pool)]
                start = time.perf_counter()
                response = await client.post("/webhooks/alertmanager", content=payload)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1
                    continue
                sent += batch
                sent_fingerprints.update(fingerprints)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return sent, sent_fingerprints, latencies, errors


def stored_alerts(database_url: str) -> int:
    from sqlmodel import Session

    from store import queries
    from store.db import make_engine
    from store.models import Alert

    engine = make_engine(database_url)
    with Session(engine) as session:
        count = queries.count_rows(session=session, table=Alert)
    engine.dispose()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--postgres", action="store_true",
                        help="start a throwaway PostgreSQL cluster (Debian binaries) and use it")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=50, help="alerts per webhook body")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--distinct", type=int, default=100_000,
                        help="distinct fingerprints to draw from (repeats are deduplicated)")
    parser.add_argument("--services", type=int, default=5)
    args = parser.parse_args()

    from store.db import upgrade

    folder = Path(tempfile.mkdtemp(prefix="resilio-bench-"))
    cluster = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.postgres import PostgresCluster, pg_bin_dir

        bin_dir = pg_bin_dir()
        if bin_dir is None:
            parser.error("--postgres needs the PostgreSQL binaries (Debian package postgresql)")
        cluster = PostgresCluster(bin_dir).start()
        args.database_url = cluster.url(cluster.create_database())
    database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    upgrade(database_url)
    ports = [free_port() for _ in range(args.replicas)]
    replicas = [start_replica(database_url, port, folder / f"replica{i}.log")
                for i, port in enumerate(ports)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_ready(url)
        print(f"{args.replicas} replica(s) on {database_url.split('@')[-1]}; "
              f"{args.concurrency} clients, {args.batch} alerts per request, {args.seconds:g} s",
              flush=True)
        sent, fingerprints, latencies, errors = asyncio.run(
            drive(urls, args.seconds, args.batch, args.concurrency, args.distinct,
                  args.services))
    finally:
        for process in replicas:
            process.send_signal(signal.SIGINT)
        for process in replicas:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    stored = stored_alerts(database_url)
    if cluster is not None:
        cluster.stop()
    lat = np.array(latencies) * 1000
    print(f"requests: {len(latencies)} ({errors} errors)")
    print(f"alerts sent: {sent}  ->  {sent / args.seconds:,.0f} alerts/s sustained")
    print(f"request latency: p50 {np.percentile(lat, 50):.1f} ms, "
          f"p99 {np.percentile(lat, 99):.1f} ms")
    print(f"distinct fingerprints sent: {len(fingerprints)}; stored alerts: {stored}; "
          f"deduplicated: {sent - len(fingerprints)}")
    ok = stored == len(fingerprints) and errors == 0
    print("every alert stored or deduplicated: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
