"""Random hostile text through every view builder: nothing of it reaches Slack as markup.

Every field that did not come from the bot (alert title, description, service and
severity labels, the diagnosis' evidence, slices, changes and explanation, budget
text, timeline messages and actors, runbook parameters, output and errors, SLO
names) is drawn from ``hostile_text``. The payloads are then read the way Slack
reads them (the emulator's reader): the only live tokens allowed are the ones the
bot means to make, the catalog's owner, its alerts channel, its own record link and
its date tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.slack_emulator.limits import blocks_errors, view_errors
from bot.devtools.slack_emulator.markup import kind
from bot.runbook_runs import Suggestion
from bot.views import incident as views
from bot.views.help import INCIDENT_USAGE, usage_blocks
from bot.views.modals import declare_modal, relabel_modal, runbook_refused_modal
from bot.views.runbooks import plan_blocks, plan_text, run_message, runbook_list_blocks
from bot.views.slo import slo_table_blocks
from bot.views.timeline import incident_list_blocks, timeline_blocks
from runbooks.engine import Plan, PlannedStep
from runbooks.loader import load_directories
from store.models import Incident, TimelineEvent
from tests.views.hostile import foreign_tokens, hostile_text

OWNER, ALERTS, PUBLIC = "U0SRE0001", "C0ALERTS01", "https://bot.example"
ALLOWED = {f"<@{OWNER}>", f"<#{ALERTS}>", f"<#{'C0INC00001'}>"}
OPENED = datetime(2026, 12, 1, 4, 22, tzinfo=UTC)

text = hostile_text()
number = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-10**6, 10**6))


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    finding = st.fixed_dictionaries({
        "layer": text, "name": text, "slice": st.dictionaries(text, text, max_size=2),
        "detector": st.one_of(text, st.sampled_from(["ks", "chi_square", "robust_shift",
                                                      "state_mismatch", "lag_growth"])),
        "statistic": number, "p_value": number, "effect": number, "before": number,
        "after": number, "relative": number,
        "onset": st.one_of(text, st.just("2026-12-01T04:09:58.360151Z"))})
    change = st.fixed_dictionaries({
        "kind": text, "ref": text, "previous": st.one_of(st.none(), text),
        "author": st.one_of(st.none(), text), "description": st.one_of(st.none(), text),
        "ts": st.one_of(text, st.just("2026-12-01T03:50:00Z")),
        "minutes_before_onset": number})
    diagnosis = {
        "evidence": draw(st.lists(finding, max_size=6)),
        "slices": draw(st.lists(st.fixed_dictionaries(
            {"dimension": text, "value": text, "effect": number, "p_value": number}),
            max_size=7)),
        "suspect_changes": draw(st.lists(change, max_size=3)),
        "suggested_runbooks": draw(st.lists(text, max_size=6)),
        "explanation": draw(text) + " Deciding: " + draw(text),
        "onset": draw(st.one_of(text, st.just("2026-12-01T04:09:58.360151Z"))),
    }
    return Incident(id=7, service=draw(text), title=draw(text), severity=draw(text),
                    status=draw(st.sampled_from(["triggered", "acknowledged", "mitigated",
                                                 "resolved"])),
                    source=draw(st.sampled_from(["alert", "detector", "manual"])),
                    description=draw(st.one_of(st.none(), text)),
                    behavior=draw(st.one_of(st.none(), text, st.sampled_from(["data", "none"]))),
                    confidence=draw(st.one_of(st.none(), st.floats(0, 1))),
                    label_source=draw(st.sampled_from(["classifier", "responder"])),
                    diagnosis=diagnosis, budget_impact={"summary": draw(text)},
                    roles={draw(text): OWNER}, alerts_firing=3, created_at=OPENED,
                    updated_at=OPENED, slack_channel_id="C0INC00001")


def inert(payload: Any) -> None:
    found = foreign_tokens(payload, ALLOWED | {f"<{PUBLIC}/v1/incidents/7|incident record>"})
    assert found == [], found


FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def suggestions() -> st.SearchStrategy[list[Suggestion]]:
    return st.lists(st.builds(Suggestion, text, text, text, st.booleans(), st.booleans()),
                    max_size=8)


@FAST
@given(incidents(), text, suggestions())
def test_the_incident_views(incident: Incident, typed: str,
                            suggested: list[Suggestion]) -> None:
    summary = views.incident_summary_blocks(incident, suggestions=suggested, public_url=PUBLIC,
                                            alerts_channel=ALERTS)
    assert blocks_errors(summary) == []
    outputs: list[Any] = [
        summary, views.status_blocks(incident), views.incident_summary_text(incident),
        views.channel_topic(incident), views.alerts_notice_text(incident, "C0INC00001"),
        views.alerts_notice_blocks(incident, "C0INC00001"), views.headline(incident),
        views.owners_invited_text(typed, incident.behavior, [OWNER, typed]),
        views.page_text(incident, OWNER, 15), views.page_text(incident, typed, 15),
        incident_list_blocks([incident] * 3),
    ]
    assert len(views.channel_topic(incident)) <= 250
    for output in outputs:
        inert(output)


@FAST
@given(incidents(), st.lists(st.tuples(text, text, text), max_size=8))
def test_the_timeline(incident: Incident, events: list[tuple[str, str, str]]) -> None:
    timeline = [TimelineEvent(incident_id=7, ts=OPENED + timedelta(seconds=i), kind=kind,
                              actor=actor, message=message)
                for i, (kind, actor, message) in enumerate(events)]
    timeline.append(TimelineEvent(incident_id=7, ts=OPENED, kind="note",
                                  actor=f"slack:{OWNER}", message=""))
    blocks = timeline_blocks(incident, timeline)
    assert blocks_errors(blocks) == []
    inert(blocks)


@FAST
@given(st.dictionaries(text, text, max_size=4), text, text, text, text)
def test_the_runbook_views(params: dict[str, str], name: str, output: str, error: str,
                           reason: str) -> None:
    view = {"id": 3, "runbook": name, "status": "pending_approval", "params": params,
            "requested_by": output, "verdict": error}
    plan = Plan(runbook=name, params=params, steps=(
        PlannedStep(path="steps[0]", step_id=name, kind="http", title=output, idempotent=True,
                    rendered={"body": output, "url": error}),
        PlannedStep(path="steps[1]", step_id="notify", kind="notify", title="x",
                    idempotent=True, rendered={}, error=error)))
    suggestion = Suggestion(name=name, title=output, reason=reason, needs_approval=True,
                            has_parameters=False)
    for blocks in (run_message(view), plan_blocks(plan, 7),
                   runbook_list_blocks(RUNBOOKS.values(), [suggestion], 7),
                   usage_blocks(INCIDENT_USAGE, reason)):
        assert blocks_errors(blocks) == []
        inert(blocks)
    inert(plan_text(plan))
    # A refusal is shown to one person and names who may approve: mentions of people and
    # groups stay, nothing that broadcasts or links does.
    refused = runbook_refused_modal(runbook=name, reason=reason)
    assert view_errors(refused) == []
    assert [t for _, t in foreign_tokens(refused)
            if kind(t[1:-1]) not in ("user", "group")] == []
    for modal in (declare_modal(services=[name, "rag-assistant"], severities=["high"],
                                channel_id="C1", initial_title=output),
                  relabel_modal(incident_id=7, labels=["data", name], current=name,
                                channel_id=None)):
        assert view_errors(modal) == []
        inert(modal)


RUNBOOKS = load_directories()


@FAST
@given(st.lists(st.tuples(text, text), min_size=1, max_size=4))
def test_the_slo_table(names: list[tuple[str, str]]) -> None:
    statuses = [{"service": service, "slo": slo, "attainment": 0.99, "budget_remaining": 0.4,
                 "burn_rate": 2.0, "time_to_exhaustion_seconds": 3600.0, "status": "page"}
                for service, slo in names]
    blocks = slo_table_blocks(statuses, title=names[0][0])
    assert blocks_errors(blocks) == []
    inert(blocks)
