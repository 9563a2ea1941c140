"""``POST /slack/events`` under hostile requests: replays, malformed headers, huge bodies.

Every request here goes over HTTP to the running bot; the signed ones are signed
the way Slack signs (``bot.devtools.slack_emulator.payloads.sign``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from bot.app.server import ServerThread, free_port
from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.core.services import build_services
from bot.devtools.slack_emulator import SlackEmulator, payloads
from bot.incidents import service as incident_service
from bot.slack.replay import _prune, claim_work
from store.db import session_scope
from store.slack_models import SlackProcessedRequest
from tests.conftest import make_services
from tests.slack.conftest import GENERAL, SRE, SRE2, Bot, slack_settings
from tests.slack.test_commands import declare


def note_command(bot: Bot, channel: str, text: str) -> dict[str, str]:
    return payloads.slash_command(command="/incident", text=f"note {text}", user=SRE2,
                                  channel=channel, channel_name="incident",
                                  trigger_id=bot.slack.workspace.issue_trigger(),
                                  response_url=bot.slack._new_response_url(channel))


def notes(bot: Bot, incident_id: int) -> list[str]:
    return [e.message for e in incident_service.timeline(bot.services, incident_id)
            if e.kind == "note"]


def test_a_replayed_signed_command_runs_once(bot: Bot) -> None:
    incident = declare(bot)
    payload = note_command(bot, incident.slack_channel_id, "rolled back v8")
    now = int(time.time())
    answers = [bot.slack.deliver("slash_commands", payload, timestamp=now) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]  # a replay is acked, not run
    bot.settle()
    assert len(notes(bot, incident.id)) == 1
    # The same command signed anew (a person typing it again) is a new request.
    bot.slack.deliver("slash_commands", payload, timestamp=now + 1)
    bot.settle()
    assert len(notes(bot, incident.id)) == 2


def test_a_replay_sent_to_another_replica_does_nothing_there(slack: SlackEmulator,
                                                            sqlite_url: str) -> None:
    # Two bots on one database: each has its own in-process cache, so the replay
    # reaches the second one's dispatch; the database claim stops its work.
    settings = slack_settings(slack, sqlite_url)
    first = wire(build_services(settings, load_catalog(None)))
    second = wire(build_services(settings, load_catalog(None)))
    with ServerThread(first) as one, ServerThread(second) as two:
        slack.app_url = f"{one.url}/slack/events"
        bot = Bot(first, one, slack)
        incident = declare(bot)
        payload = note_command(bot, incident.slack_channel_id, "seen once")
        now = int(time.time())
        assert slack.deliver("slash_commands", payload, timestamp=now).status == 200
        slack.app_url = f"{two.url}/slack/events"
        assert slack.deliver("slash_commands", payload, timestamp=now).status == 200
        assert first.drain(30) and second.drain(30)
        assert len(notes(bot, incident.id)) == 1
    first.close()
    second.close()


def post(bot: Bot, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bot.server.url}/slack/events", content=body, headers=headers,
                      timeout=30)


def test_malformed_timestamp_and_non_utf8_body_are_400_before_anything(bot: Bot) -> None:
    body = "command=%2Fincident&text=help"
    signed = payloads.sign(bot.slack.signing_secret, body)
    for bad in ("soon", "-5", "1e9", "12345678901234567890", "17000.5", "0x10", ""):
        answer = post(bot, body.encode(), {**signed, "X-Slack-Request-Timestamp": bad})
        assert answer.status_code == 400, (bad, answer.text)
        assert "X-Slack-Request-Timestamp" in answer.text
    raw = b"command=%2Fincident&text=\xff\xfe"
    ts = str(int(time.time()))
    digest = hmac.new(bot.slack.signing_secret.encode(), b"v0:" + ts.encode() + b":" + raw,
                      hashlib.sha256).hexdigest()
    answer = post(bot, raw, {"X-Slack-Request-Timestamp": ts,
                             "X-Slack-Signature": f"v0={digest}",
                             "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and "not UTF-8" in answer.text
    unsigned = post(bot, body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_a_body_over_the_limit_is_refused_without_holding_it(bot: Bot) -> None:
    limit = bot.services.settings.max_body_bytes
    declared = post(bot, b"x" * (limit + 1), {"X-Slack-Request-Timestamp": "1"})
    assert declared.status_code == 413

    # 200 MB sent chunked (no Content-Length), as the issue's attacker did: the
    # server (in this process) must not grow by anything like it while it arrives.
    baseline, peak, done = rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.01)

    def stream() -> Iterator[bytes]:
        chunk = b"y" * (1 << 20)
        for _ in range(200):
            yield chunk

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answer = httpx.post(f"{bot.server.url}/slack/events", content=stream(), timeout=60)
        assert answer.status_code == 413
    except httpx.HTTPError:
        pass  # the server may close the connection on the refused upload: also a refusal
    finally:
        done.set()
        sampler.join()
    assert peak[0] - baseline < 64 * (1 << 20), f"grew {(peak[0] - baseline) >> 20} MB"


def test_the_ack_never_waits_on_an_unreachable_slack(slack: SlackEmulator,
                                                     sqlite_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    settings = slack_settings(slack, sqlite_url).model_copy(update={"slack_api_url": dead})
    services = wire(build_services(settings, load_catalog(None)))
    with ServerThread(services) as server:
        slack.app_url = f"{server.url}/slack/events"
        for _ in range(3):
            reply = slack.slash_command("/incident", "help", user=SRE, channel=GENERAL)
            assert reply.status == 200, reply.body
            assert reply.latency < 1.0
    services.drain(30)
    services.close()


def test_work_claims_are_once_per_key_and_pruned_after_the_window(sqlite_url: str) -> None:
    services = make_services(sqlite_url)
    assert claim_work(services, "signed:v0=abc:1") is True
    assert claim_work(services, "signed:v0=abc:1") is False  # another replica's replay
    assert claim_work(services, "signed:v0=abc:2") is True
    _prune(services, before=services.clock() - timedelta(minutes=10))
    with session_scope(services.engine) as session:
        assert len(session.exec(select(SlackProcessedRequest)).all()) == 2
    _prune(services, before=services.clock() + timedelta(seconds=1))
    with session_scope(services.engine) as session:
        assert session.exec(select(SlackProcessedRequest)).all() == []
    services.close()
