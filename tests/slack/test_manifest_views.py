"""The manifest is a valid, minimal Slack manifest; the pure views stay within limits."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.devtools.slack_emulator.limits import blocks_errors, view_errors
from bot.runbook_runs import Suggestion
from bot.slack.listeners.parsing import parse_incident, parse_runbook
from bot.views.incident import incident_summary_blocks
from bot.views.modals import declare_modal, relabel_modal, resolve_modal
from bot.views.timeline import incident_list_blocks, timeline_blocks
from store.models import Incident, TimelineEvent

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_declares_what_the_bot_uses_and_no_more() -> None:
    manifest = yaml.safe_load((ROOT / "app_manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/incident", "/runbook", "/slo", "/budget", "/oncall", "/silence"}
    assert all(c["url"].endswith("/slack/events") for c in manifest["features"]
               ["slash_commands"])
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert "reaction_added" in settings["event_subscriptions"]["bot_events"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "pins:write",
            "usergroups:read"} <= scopes
    assert not scopes & {"admin", "channels:write", "chat:write.public", "users:read.email"}
    assert manifest["features"]["bot_user"]["display_name"] == "resilio"


def huge_incident(status: str = "triggered") -> Incident:
    finding = {"layer": "data", "name": "query_length" * 20, "slice": {"tenant": "acme" * 30},
               "detector": "ks", "p_value": 1e-12, "effect": 0.42}
    return Incident(id=7, service="rag-assistant", title="T" * 900, status=status,
                    severity="high", description="D" * 9000, behavior="data", confidence=0.91,
                    roles={"commander": "U1"},
                    diagnosis={"evidence": [finding] * 500,
                               "slices": [{"dimension": "tenant", "value": "acme" * 40,
                                           "effect": 0.3}] * 200,
                               "suspect_changes": [{"kind": "features", "ref": "fp-341",
                                                    "minutes_before_onset": 6,
                                                    "description": "x" * 5000}],
                               "suggested_runbooks": [f"runbook-{i}" * 10 for i in range(20)],
                               "explanation": "E" * 5000})


def test_a_huge_diagnosis_is_cut_with_a_note_not_rejected() -> None:
    for status in ("triggered", "acknowledged", "resolved"):
        blocks = incident_summary_blocks(huge_incident(status), public_url="http://bot",
                                         alerts_channel="C1", suggestions=[
                                             Suggestion(f"runbook-{i}" * 10, "T" * 500, "R" * 900,
                                                        True, True) for i in range(20)])
        assert blocks_errors(blocks) == []
    text = str(blocks)
    assert "more findings (see the incident record)" in text and "0.91 confident" in text
    assert "tenant=" in text and "fp-341" in text and "6 min before the onset" in text


def test_buttons_follow_the_status() -> None:
    def action_ids(status: str) -> list[str]:
        blocks = incident_summary_blocks(huge_incident(status))
        return [e["action_id"] for b in blocks if b.get("block_id") == "summary.actions"
                for e in b["elements"]]
    assert action_ids("triggered") == ["incident.ack", "incident.mitigate", "incident.resolve",
                                       "incident.relabel"]
    assert action_ids("resolved") == ["incident.reopen", "incident.relabel"]


def test_modals_timeline_and_list_are_valid() -> None:
    for view in (declare_modal(services=["a"] * 150, severities=["high"], channel_id="C",
                               initial_title="t" * 900),
                 resolve_modal(incident_id=1, channel_id=None),
                 relabel_modal(incident_id=1, labels=["data", "model"], current="data",
                               channel_id="C")):
        assert view_errors(view) == []
    from datetime import UTC, datetime

    events = [TimelineEvent(incident_id=7, ts=datetime(2026, 1, 1, tzinfo=UTC), actor="slack:U1",
                            kind="note", message="m" * 400)] * 2000
    blocks = timeline_blocks(huge_incident(), events)
    assert blocks_errors(blocks) == [] and "more events not shown" in str(blocks[-1])
    assert blocks_errors(incident_list_blocks([huge_incident()] * 300)) == []


def test_parsing() -> None:
    assert parse_incident("ack #12").incident_id == 12
    assert parse_incident("note #3 3 replicas down").args == {"text": "3 replicas down"}
    assert parse_incident("note 3 replicas down").incident_id is None
    assert parse_incident("assign scribe <@U0AB|ana> 4").args == {"role": "scribe",
                                                                   "user": "U0AB"}
    assert parse_incident("").name == "help"
    assert parse_runbook("run cap-tokens max=2000 route=primary").params == {
        "max": "2000", "route": "primary"}
