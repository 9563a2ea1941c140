"""An escalation step whose process dies before it pages: the page still goes out.

The step (``escalation_level`` moved, ``escalated`` on the timeline) and its page and
next timer commit together. Here the process that took the step does not run
follow-up work at all (not wired, as a process killed right after the commit would
not), and a second process, the way a restarted server's poller does, sends the
page once and sets the next timer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core import outbox
from bot.core.scheduler import start_scheduler, stop_scheduler
from bot.core.services import build_services
from bot.demo.workspace import populate
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from bot.oncall import escalation

CHAIN = ("U0SRE0001", "U0SRE0002")  # rag-assistant's chain in the example catalog


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    populate(emulator)
    yield emulator
    emulator.stop()


def pages(slack: SlackEmulator) -> list[str]:
    return [str(c.args.get("channel")) for c in slack.calls_to("chat.postMessage", ok=True)
            if "has not been acknowledged" in str(c.args.get("text"))]


def test_a_step_taken_just_before_a_crash_still_pages(slack: SlackEmulator, db_url: str) -> None:
    settings = Settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=slack.bot_token,
                        SLACK_SIGNING_SECRET=slack.signing_secret, SLACK_API_URL=slack.url)
    dying = build_services(settings, load_catalog(None))  # writes rows, runs none of them
    incident = incident_service.declare_incident(dying, service="rag-assistant",
                                                 title="nobody home", actor="test")
    assert escalation.escalate(dying, incident.id, 0) == CHAIN[0]
    assert pages(slack) == [] and slack.calls_to("conversations.create") == []
    dying.close()

    restarted = wire(build_services(settings, load_catalog(None)))
    start_scheduler(restarted)
    try:
        worker = outbox.Worker(restarted)
        while worker.poll():  # what the poller finds due, until nothing is left
            assert restarted.drain(30)
        scheduler = restarted.scheduler
        next_timer = scheduler.get_job(escalation.job_id(incident.id, 1))
        counts = outbox.counts(restarted)
    finally:
        stop_scheduler(restarted)
        restarted.drain(10)
        restarted.close()
    # paged once by DM (and in the incident channel if the recovery made it first)
    sent = pages(slack)
    assert sent.count(CHAIN[0]) == 1 and len(sent) <= 2, sent
    assert next_timer is not None  # the chain goes on to the next person
    assert counts["pending"] == counts["running"] == counts["dead"] == 0
