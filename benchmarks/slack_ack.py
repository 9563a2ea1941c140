"""Slack ack latency: 50 concurrent signed slash commands and button clicks on loopback.

Runs ``resilio serve`` in its own process against the Slack emulator, declares an
incident through /incident declare and its modal, then sends 25 ``/incident note``
commands and 25 Acknowledge clicks at once. Prints p50/p99 of the time until the
HTTP answer (target: p99 < 50 ms), then shows that the work after the ack
completed: 25 notes on the timeline, one acknowledgement, a reply to every request.

    python benchmarks/slack_ack.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from bot import incident_service
from bot.catalog import load_catalog
from bot.devtools.slack_emulator import SlackEmulator, payloads
from bot.server import free_port
from bot.services import build_services
from bot.settings import Settings
from store.db import upgrade

CONCURRENCY = 50


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def fire(url: str, secret: str, requests: list[tuple[str, dict]]) -> list[float]:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        async def one(kind: str, payload: dict) -> float:
            body, content_type = payloads.encode(kind, payload)
            headers = {"Content-Type": content_type, **payloads.sign(secret, body)}
            started = time.perf_counter()
            reply = await client.post(url, content=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert reply.status_code == 200, reply.text
            return elapsed

        await client.get(url.replace("/slack/events", "/healthz"))  # open the pool
        return list(await asyncio.gather(*(one(k, p) for k, p in requests)))


def wait_until(predicate, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the follow-up work did not finish")
        time.sleep(0.01)
    return time.perf_counter() - started


def start_bot(slack: SlackEmulator, url: str) -> tuple[subprocess.Popen, str]:
    """``resilio serve`` in its own process, as it runs in production."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SLACK_BOT_TOKEN=slack.bot_token,
               SLACK_SIGNING_SECRET=slack.signing_secret, SLACK_API_URL=slack.url,
               RESILIO_RUN_SCHEDULER="false")
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(base), timeout=30)
    return process, base


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="resilio-bench-")
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    with SlackEmulator() as slack:
        for user in ("U0SRE0001", "U0SRE0002"):
            slack.workspace.add_user(user)
        slack.workspace.add_channel("ai-alerts", channel_id="C0ALERTS01")
        general = slack.workspace.add_channel("general").id
        reader = build_services(Settings(DATABASE_URL=url), load_catalog(None))
        process, base = start_bot(slack, url)
        slack.app_url = f"{base}/slack/events"
        try:
            latencies: list[float] = []
            for round_number in range(args.rounds):
                title = f"bench {round_number}"
                slack.slash_command("/incident", "declare", user="U0SRE0001", channel=general)
                wait_until(lambda: bool(slack.workspace.views) and
                           slack.last_view()["callback_id"] == "incident.declare")
                slack.submit_view(slack.last_view()["id"], {
                    "title": title, "service": "rag-assistant", "severity": "high"},
                    user="U0SRE0001")
                slack.workspace.views.clear()

                def ready(title: str = title) -> bool:
                    return any(i.title == title and i.slack_summary_ts
                               for i in incident_service.list_open(reader))
                wait_until(ready)
                incident = next(i for i in incident_service.list_open(reader)
                                if i.title == title)
                channel, ts = incident.slack_channel_id, incident.slack_summary_ts
                message = slack.workspace.channel(channel).message(ts)
                summary = {"type": "message", "ts": ts, "user": message.user,
                           "text": message.text, "blocks": message.blocks}
                ack_button = next(e for b in message.blocks if b.get("type") == "actions"
                                  for e in b["elements"] if e["action_id"] == "incident.ack")
                requests: list[tuple[str, dict]] = []
                for n in range(CONCURRENCY // 2):
                    requests.append(("slash_commands", payloads.slash_command(
                        command="/incident", text=f"note benchmark note {n}", user="U0SRE0001",
                        channel=channel, channel_name="inc", trigger_id=f"t{n}",
                        response_url=f"{slack.base}response/bench-{round_number}-{n}")))
                    requests.append(("interactive", payloads.block_actions(
                        user=f"U0SRE{n:04d}", channel=channel, channel_name="inc",
                        message=summary, action=ack_button, block_id="summary.actions",
                        trigger_id=f"b{n}",
                        response_url=f"{slack.base}response/click-{round_number}-{n}")))
                before = len(slack.responses)
                started = time.perf_counter()
                round_latencies = asyncio.run(fire(slack.app_url, slack.signing_secret,
                                                   requests))
                acked = time.perf_counter() - started
                wait_until(lambda before=before: len(slack.responses) - before >= CONCURRENCY)
                done = time.perf_counter() - started
                latencies += round_latencies
                events = incident_service.timeline(reader, incident.id)
                notes = sum(1 for e in events if e.kind == "note")
                acks = sum(1 for e in events if e.kind == "acknowledged")
                replies = len(slack.responses) - before
                print(f"round {round_number + 1}: {len(requests)} concurrent requests answered "
                      f"in {acked * 1000:.0f} ms (p99 "
                      f"{percentile(round_latencies, .99) * 1000:.1f} ms); follow-up done after "
                      f"{done * 1000:.0f} ms: {notes} notes and {acks} acknowledgement on the "
                      f"timeline, {replies} replies sent")
                assert notes == CONCURRENCY // 2 and acks == 1 and replies >= CONCURRENCY
            print(f"\nack latency over {len(latencies)} requests: "
                  f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
                  f"p99 {percentile(latencies, .99) * 1000:.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms (target p99 < 50 ms)")
        finally:
            process.terminate()
            process.wait(10)
            reader.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
