"""The pinned summary's runbook buttons are the runbook library's suggestions.

A team adds its own runbook to the catalog (``runbooks.directories`` and the service's
``runbooks:`` list); the summary posted through the real Bolt app offers it, and a
name the library does not hold (one the diagnosis carries, say) never becomes a
button. Before, the buttons were the diagnosis' ``suggested_runbooks``, names from a
fixed table in ``bot/diagnosis/explain.py``: the team's runbook never showed, and
any name there did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot import runbook_runs
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from store.db import session_scope
from store.models import Incident
from tests.slack.conftest import SRE, Bot, catalog_with_runbooks, running_bot
from tests.slack.test_commands import declare

TEAM_RUNBOOK = {
    "name": "drain-reranker", "title": "Drain the reranker pool",
    "description": "The ML team's own: take the reranker out of the path.",
    "applies_to": {"classes": ["model"]},
    "steps": [{"id": "say", "kind": "notify",
               "text": "reranker drained for #{{ incident.id }}"}]}
ABSENT = "reboot-the-datacenter"  # in no library


@pytest.fixture
def team_bot(slack: SlackEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[Bot]:
    catalog = catalog_with_runbooks(tmp_path, [TEAM_RUNBOOK])
    with running_bot(slack, sqlite_url, catalog) as running:
        yield running


def diagnosed(bot: Bot, behavior: str, suggested_by_diagnosis: list[str]) -> Incident:
    """A declared incident given ``behavior`` and a diagnosis naming runbooks itself."""
    incident = declare(bot)
    with session_scope(bot.services.engine) as session:
        session.execute(update(Incident).where(Incident.id == incident.id).values(
            behavior=behavior, diagnosis={"suggested_runbooks": suggested_by_diagnosis}))
    bot.services.emit("incident.changed", incident_id=incident.id)
    bot.settle()
    return incident_service.get_incident(bot.services, incident.id)


def summary_action_ids(bot: Bot, incident: Incident) -> list[str]:
    message = bot.slack.workspace.channel(incident.slack_channel_id or "").message(
        incident.slack_summary_ts or "")
    return [e["action_id"] for b in message.blocks if b.get("block_id") == "summary.runbooks"
            for e in b["elements"]]


def summary_text(bot: Bot, incident: Incident) -> str:
    message = bot.slack.workspace.channel(incident.slack_channel_id or "").message(
        incident.slack_summary_ts or "")
    return str(message.blocks)


def test_a_team_runbook_is_a_button_and_a_name_not_in_the_library_never_is(
        team_bot: Bot) -> None:
    bot = team_bot
    assert TEAM_RUNBOOK["name"] in runbook_runs.library(bot.services)
    assert ABSENT not in runbook_runs.library(bot.services)
    incident = diagnosed(bot, "model", [ABSENT, "scale-replicas"])
    ids = summary_action_ids(bot, incident)
    assert "runbook.run:drain-reranker" in ids and "runbook.dry_run:drain-reranker" in ids
    # the shipped runbooks for a model failure, as the library scores them
    assert "runbook.run:rollback-model" in ids
    text = summary_text(bot, incident)
    assert ABSENT not in text
    assert "scale-replicas" not in text  # the library says: infrastructure only
    assert "Drain the reranker pool" in text and "model failure" in text  # and why

    # the button works: no parameters, no approval, so the click runs it
    reply = bot.slack.click(incident.slack_channel_id or "", incident.slack_summary_ts or "",
                            "runbook.run:drain-reranker", user=SRE)
    assert reply.status == 200
    bot.settle()
    runs: list[dict[str, Any]] = runbook_runs.runs_of(bot.services, incident_id=incident.id or 0)
    assert [r["runbook"] for r in runs] == ["drain-reranker"]

    # /incident status: the same suggestions, without the buttons
    bot.slack.slash_command("/incident", "status", user=SRE,
                            channel=incident.slack_channel_id or "")
    bot.settle()
    status = str(bot.slack.responses[-1]["blocks"])
    assert "`drain-reranker` — Drain the reranker pool (model failure)" in status
    assert ABSENT not in status and "runbook.run:" not in status


def test_the_buttons_follow_the_label_not_the_diagnosis_list(team_bot: Bot) -> None:
    """Relabelled infrastructure: the model runbooks (the team's too) go, scaling comes."""
    bot = team_bot
    incident = diagnosed(bot, "infrastructure", ["rollback-model", "drain-reranker"])
    ids = summary_action_ids(bot, incident)
    assert "runbook.run:scale-replicas" in ids
    assert not {"runbook.run:rollback-model", "runbook.run:drain-reranker"} & set(ids)


def test_no_label_no_runbook_buttons(bot: Bot) -> None:
    """Undiagnosed and no suspect change: nothing in the library applies yet."""
    incident = declare(bot)
    with session_scope(bot.services.engine) as session:
        session.execute(update(Incident).where(Incident.id == incident.id).values(
            behavior=None, diagnosis={"suggested_runbooks": ["rollback-model"]}))
    bot.services.emit("incident.changed", incident_id=incident.id)
    bot.settle()
    assert summary_action_ids(bot, incident_service.get_incident(bot.services,
                                                                 incident.id)) == []
