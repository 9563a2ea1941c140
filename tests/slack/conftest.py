"""A running bot (uvicorn on 127.0.0.1) wired to a running Slack emulator.

The emulator checks every Web API call against Slack's published spec
(``tests/fixtures/slack_web_openapi_v2.json``); each test ends by asserting the bot made no call
that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.server import ServerThread
from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator import SlackEmulator

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "slack_web_openapi_v2.json"
ALERTS = "C0ALERTS01"
GENERAL = "C0GENERAL1"
SRE, SRE2, ML, ML_GROUP_MEMBER, DATA = "U0SRE0001", "U0SRE0002", "U0ML00001", "U0ML00777", \
    "U0DATA001"


def populate(slack: SlackEmulator) -> None:
    """The people and channels the example catalog (bot/defaults/resilio.yml) names."""
    ws = slack.workspace
    for user in ("U0SRE0001", "U0SRE0002", "U0DATA001", "U0PLAT001", "U0ML00001",
                 "U0ML00002", "U0EVAL001", "U0FINOPS1"):
        ws.add_user(user)
    ws.add_usergroup("S0INFRA01", "infra", ["U0SRE0001", "U0INFRA01"])
    ws.add_usergroup("S0MLTEAM1", "ml-team", ["U0ML00001", ML_GROUP_MEMBER])
    ws.add_channel("ai-alerts", channel_id=ALERTS, members=[])  # the bot must join first
    ws.add_channel("general", channel_id=GENERAL)


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(spec_path=SPEC).start()
    populate(emulator)
    yield emulator
    emulator.stop()
    assert emulator.violations == [], "the bot broke the Web API spec"


WEBHOOK_TOKEN = "slack-tests-webhook-token"


def slack_settings(slack: SlackEmulator, db_url: str) -> Settings:
    return Settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=slack.bot_token,
                    RESILIO_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
                    SLACK_SIGNING_SECRET=slack.signing_secret, SLACK_APP_TOKEN=slack.app_token,
                    SLACK_API_URL=slack.url, RESILIO_RUN_SCHEDULER="false")


@dataclass
class Bot:
    services: Services
    server: ServerThread
    slack: SlackEmulator

    def settle(self) -> None:
        assert self.services.drain(30), "background work did not finish"


@pytest.fixture
def bot(slack: SlackEmulator, sqlite_url: str) -> Iterator[Bot]:
    services = wire(build_services(slack_settings(slack, sqlite_url), load_catalog(None)))
    server = ServerThread(services).start()
    slack.app_url = f"{server.url}/slack/events"
    yield Bot(services, server, slack)
    services.drain(30)
    server.stop()
    services.close()
