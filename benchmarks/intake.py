"""Alert intake throughput: the real server (``resilio serve``) driven over loopback.

Starts one or more ``resilio serve`` processes on a fresh database, posts
Alertmanager v4 webhook bodies from concurrent clients for a fixed duration, then
checks that every alert sent was stored or deduplicated (stored count equals the
distinct fingerprints sent) and prints sustained alerts/s and p50/p99 latency.

Two references, measured in the same run:

- a parse-only route (run before and after the bot; the mean of the two): the same
  bodies from the same clients for the same time against a benchmark-only app on the
  same server stack (``bot.app.server.serve``, the same uvicorn settings, FastAPI) whose
  ``POST /webhooks/alertmanager`` reads the
  body and ``json.loads`` it as the bot does, and stores nothing;
- bare inserts: the alert rows the bot stored, inserted again into a fresh database
  of the same store (same migrations) by SQLAlchemy ``executemany``, one transaction
  per request's worth of rows (``--batch``), without the incident link.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI, Request

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


def parse_only_server(host: str, port: int) -> int:
    """The reference route: same framework and JSON parsing as the webhook, nothing stored."""
    from bot.app.server import serve

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/webhooks/alertmanager")
    async def parse_only(request: Request) -> dict[str, int]:
        payload = json.loads(await request.body())
        return {"accepted": len(payload["alerts"])}

    serve(app, host=host, port=port)
    return 0


def start_parse_only(port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--parse-only-server", "127.0.0.1",
                             str(port)], stdout=log.open("wb"), stderr=subprocess.STDOUT)


def bare_inserts(source_url: str, target_url: str, batch: int) -> tuple[int, float]:
    """The rows the bot stored, inserted again by ``executemany``: (rows, seconds)."""
    from sqlalchemy import insert, select

    from store.db import make_engine, upgrade
    from store.models import Alert

    table = Alert.__table__  # type: ignore[attr-defined]
    source = make_engine(source_url)
    with source.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(table))]
    source.dispose()
    for row in rows:
        row.pop("id", None)
        row["incident_id"] = None  # the incidents are not copied
    upgrade(target_url)
    target = make_engine(target_url)
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        with target.begin() as connection:
            connection.execute(insert(table), rows[start:start + batch])
    took = time.perf_counter() - started
    target.dispose()
    return len(rows), took


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


def arguments() -> argparse.ArgumentParser:
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
    parser.add_argument("--parse-only-server", nargs=2, metavar=("HOST", "PORT"),
                        help=argparse.SUPPRESS)
    return parser


@dataclass(frozen=True)
class Stores:
    """The bot's database, the bare-insert reference's (``None``: no reference) and the
    throwaway PostgreSQL cluster both live in (``None`` for SQLite)."""

    database_url: str
    reference_url: str | None
    cluster: Any


def stores(args: argparse.Namespace, parser: argparse.ArgumentParser, folder: Path) -> Stores:
    from store.db import upgrade

    cluster = None
    database_url = args.database_url
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.postgres import PostgresCluster, pg_bin_dir

        bin_dir = pg_bin_dir()
        if bin_dir is None:
            parser.error("--postgres needs the PostgreSQL binaries (Debian package postgresql)")
        cluster = PostgresCluster(bin_dir).start()
        database_url = cluster.url(cluster.create_database())
    url = database_url or f"sqlite:///{folder / 'bench.db'}"
    reference_url = (cluster.url(cluster.create_database()) if cluster is not None
                     else None if database_url else f"sqlite:///{folder / 'bare.db'}")
    upgrade(url)
    return Stores(url, reference_url, cluster)


@dataclass(frozen=True)
class Run:
    """What the clients saw in one timed run."""

    sent: int
    fingerprints: set[str]
    latencies: list[float]
    errors: int


def timed_run(args: argparse.Namespace, urls: list[str]) -> Run:
    sent, fingerprints, latencies, errors = asyncio.run(
        drive(urls, args.seconds, args.batch, args.concurrency, args.distinct, args.services))
    return Run(sent, fingerprints, latencies, errors)


def parse_only_run(args: argparse.Namespace, folder: Path, log_name: str) -> Run:
    parse_port = free_port()
    parse_only = start_parse_only(parse_port, folder / log_name)
    try:
        wait_ready(f"http://127.0.0.1:{parse_port}")
        return timed_run(args, [f"http://127.0.0.1:{parse_port}"])
    finally:
        parse_only.send_signal(signal.SIGINT)
        parse_only.wait(timeout=15)


def bot_run(args: argparse.Namespace, database_url: str, folder: Path) -> Run:
    """The timed run against ``--replicas`` real servers on one database."""
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
        return timed_run(args, urls)
    finally:
        for process in replicas:
            process.send_signal(signal.SIGINT)
        for process in replicas:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def report_ours(args: argparse.Namespace, ours: Run, stored: int) -> bool:
    """Print the bot's figures; whether every alert sent was stored or deduplicated."""
    lat = np.array(ours.latencies) * 1000
    print(f"requests: {len(ours.latencies)} ({ours.errors} errors)")
    print(f"alerts sent: {ours.sent}  ->  {ours.sent / args.seconds:,.0f} alerts/s sustained")
    print(f"request latency: p50 {np.percentile(lat, 50):.1f} ms, "
          f"p99 {np.percentile(lat, 99):.1f} ms")
    print(f"distinct fingerprints sent: {len(ours.fingerprints)}; stored alerts: {stored}; "
          f"deduplicated: {ours.sent - len(ours.fingerprints)}")
    ok = stored == len(ours.fingerprints) and ours.errors == 0
    print("every alert stored or deduplicated: " + ("yes" if ok else "NO"))
    return ok


def report_references(args: argparse.Namespace, before: Run, after: Run,
                      bare: tuple[int, float] | None,
                      database_url: str) -> list[tuple[str, float]]:
    """Print the references; returns (name, rate) of each."""
    parse_rate = (before.sent + after.sent) / 2 / args.seconds
    parse_lat = np.array(before.latencies + after.latencies) * 1000
    print(f"\nreference, parse-only route (same server stack, json.loads, nothing stored): "
          f"{parse_rate:,.0f} alerts/s, p50 {np.percentile(parse_lat, 50):.1f} ms, "
          f"p99 {np.percentile(parse_lat, 99):.1f} ms ({before.errors + after.errors} errors; "
          f"before the bot {before.sent / args.seconds:,.0f}/s, after it "
          f"{after.sent / args.seconds:,.0f}/s)")
    lines = [("parse-only route", parse_rate)]
    if bare is not None:
        rows, took = bare
        bare_rate = rows / took
        print(f"reference, bare executemany of the {rows:,} stored rows into a fresh "
              f"{database_url.split(':')[0]} store, {args.batch} rows a transaction: "
              f"{bare_rate:,.0f} rows/s")
        lines.append(("bare executemany", bare_rate))
    return lines


def main() -> int:
    parser = arguments()
    args = parser.parse_args()
    if args.parse_only_server:
        return parse_only_server(args.parse_only_server[0], int(args.parse_only_server[1]))
    folder = Path(tempfile.mkdtemp(prefix="resilio-bench-"))
    where = stores(args, parser, folder)
    # The parse-only reference runs before and after the bot (the mean of both is the
    # reference): on a shared machine the load moves in minutes, and a reference taken
    # on one side only measured another machine than ours did.
    before = parse_only_run(args, folder, "parse-only-before.log")
    run = bot_run(args, where.database_url, folder)
    after = parse_only_run(args, folder, "parse-only-after.log")
    stored = stored_alerts(where.database_url)
    bare = (bare_inserts(where.database_url, where.reference_url, args.batch)
            if where.reference_url else None)
    if where.cluster is not None:
        where.cluster.stop()
    ok = report_ours(args, run, stored)
    lines = report_references(args, before, after, bare, where.database_url)
    ours = run.sent / args.seconds
    print(f"ours: {ours:,.0f} alerts/s; " + "; ".join(
        f"{name}: {rate:,.0f}/s, ratio ours/reference {ours / rate:.2f}" for name, rate in lines))
    passed = ok and ours >= 2000
    print(f"alertmanager intake: ours {ours:,.0f} alerts/s | reference "
          + " / ".join(f"{name} {rate:,.0f}/s" for name, rate in lines) + " | ratio "
          + " / ".join(f"{ours / rate:.2f}x" for _, rate in lines)
          + " | target >= 2,000 alerts/s sustained, every alert stored or deduplicated | "
          + ("PASS" if passed else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
