"""A running bot (uvicorn on 127.0.0.1) wired to a running Slack emulator.

The emulator checks every Web API call against Slack's published spec
(``tests/fixtures/slack_web_openapi_v2.json``); each test ends by asserting the bot made no call
that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.server import ServerThread
from bot.app.wiring import wire
from bot.config.catalog import Catalog, load_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator import SlackEmulator

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "slack_web_openapi_v2.json"
CATALOG = Path(__file__).resolve().parents[2] / "bot" / "defaults" / "resilio.yml"
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


def catalog_with_runbooks(tmp_path: Path, runbooks: Sequence[dict[str, Any]],
                          service: str = "rag-assistant") -> Catalog:
    """The example catalog plus a team's runbook directory holding ``runbooks``, each
    listed for ``service``: what a team writes in its own resilio.yml."""
    data = yaml.safe_load(CATALOG.read_text())
    directory = tmp_path / "team-runbooks"
    directory.mkdir()
    for runbook in runbooks:
        (directory / f"{runbook['name']}.yml").write_text(yaml.safe_dump(runbook))
    data["runbooks"] = {**(data.get("runbooks") or {}), "directories": [directory.name]}
    listed = next(s for s in data["services"] if s["name"] == service)
    listed["runbooks"] = [*listed.get("runbooks", []), *(r["name"] for r in runbooks)]
    path = tmp_path / "resilio.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_catalog(path)


@contextmanager
def running_bot(slack: SlackEmulator, db_url: str, catalog: Catalog) -> Iterator[Bot]:
    """The bot on ``catalog``, served on loopback, the emulator delivering to it."""
    services = wire(build_services(slack_settings(slack, db_url), catalog))
    server = ServerThread(services).start()
    slack.app_url = f"{server.url}/slack/events"
    try:
        yield Bot(services, server, slack)
    finally:
        services.drain(30)
        server.stop()
        services.close()


@pytest.fixture
def bot(slack: SlackEmulator, sqlite_url: str) -> Iterator[Bot]:
    with running_bot(slack, sqlite_url, load_catalog(None)) as running:
        yield running
