"""A very long diagnosis stays within Slack's limits, shortened with a count, never rejected.

Slack's documented limits (Block Kit reference): 50 blocks a message, 3,000 characters
a section text (2,000 a field, 10 fields), 150 a header, 75 a button label, 250 a
topic. The emulator's checker (``bot.devtools.slack_emulator.limits``) enforces them;
here hundreds of evidence items, huge labels and long names go through every view.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.devtools.slack_emulator.limits import MAX_MESSAGE_BLOCKS, blocks_errors
from bot.reports.content import build_digest
from bot.reports.render import render_message
from bot.runbook_runs import Suggestion
from bot.views import incident as views
from bot.views.runbooks import plan_blocks
from bot.views.slo import slo_table_blocks
from bot.views.text import TOPIC_TEXT, fit_blocks, section
from bot.views.timeline import timeline_blocks
from runbooks.engine import Plan, PlannedStep
from store.models import Incident, TimelineEvent
from tests.reports import fixtures
from tests.views.hostile import foreign_tokens

HUGE = "<!channel>&" * 400  # 4,400 characters, each < and & growing 3 to 4 when escaped
OPENED = datetime(2026, 12, 1, 4, 22, tzinfo=UTC)
HUGE_SUGGESTIONS = [Suggestion(f"runbook-{i}" * 30, HUGE, HUGE, True, True) for i in range(40)]


def huge_incident() -> Incident:
    evidence = [{"layer": "quality" * 30, "name": f"signal_{i}_" + "x" * 300,
                 "slice": {f"dim{j}" * 20: HUGE[:300] for j in range(6)},
                 "detector": "robust_shift", "p_value": 0.0, "before": 0.91, "after": 0.74,
                 "relative": -0.187, "onset": "2026-12-01T04:10:00Z"} for i in range(400)]
    diagnosis = {"evidence": evidence, "onset": "2026-12-01T04:10:00Z",
                 "slices": [{"dimension": "tenant" * 40, "value": HUGE, "effect": 0.3,
                             "p_value": 0.0}] * 300,
                 "suspect_changes": [{"kind": "model", "ref": HUGE, "previous": HUGE,
                                      "author": HUGE, "description": HUGE,
                                      "minutes_before_onset": 6}] * 50,
                 "suggested_runbooks": [f"runbook-{i}" * 30 for i in range(40)],
                 "explanation": "E" * 9000 + " Deciding: " + HUGE}
    return Incident(id=7, service="s" * 200, title=HUGE, severity="page" * 20,
                    description=HUGE * 3, behavior="data", confidence=0.91,
                    roles={f"role{i}" * 20: "U0SRE0001" for i in range(50)},
                    budget_impact={"summary": HUGE}, diagnosis=diagnosis, alerts_firing=9999,
                    created_at=OPENED, updated_at=OPENED, slack_channel_id="C0INC00001")


def test_the_summary_of_a_huge_diagnosis_fits_and_says_what_it_left_out() -> None:
    incident = huge_incident()
    for status in ("triggered", "acknowledged", "resolved"):
        incident.status = status
        blocks = views.incident_summary_blocks(incident, suggestions=HUGE_SUGGESTIONS,
                                               public_url="https://bot.example",
                                               alerts_channel="C0ALERTS01")
        assert blocks_errors(blocks) == [] and len(blocks) <= 20
    text = str(blocks)
    assert "… and 35 more runbooks (`/runbook list` shows them)" in text
    assert "*Evidence* (8 of 400 findings, earliest first)" in text
    assert "… and 392 more findings (see the incident record)" in text or \
        "more findings (see the incident record)" in text
    assert "… and 49 more changes ranked lower" in text and "… and 295 more" in text
    assert blocks_errors(views.status_blocks(incident)) == []
    assert blocks_errors(views.alerts_notice_blocks(incident, "C0INC00001")) == []
    assert len(views.channel_topic(incident)) <= TOPIC_TEXT
    assert len(views.incident_summary_text(incident)) <= 3000
    assert len(views.page_text(incident, "U0SRE0001", 5)) <= 3000


def test_a_long_timeline_a_long_plan_and_many_slos_fit() -> None:
    events = [TimelineEvent(incident_id=7, ts=OPENED + timedelta(seconds=i), kind="note",
                            actor="slack:U0SRE0001", message=HUGE[:3000]) for i in range(3000)]
    blocks = timeline_blocks(huge_incident(), events)
    assert blocks_errors(blocks) == [] and len(blocks) <= MAX_MESSAGE_BLOCKS
    assert "more events not shown" in str(blocks[-1])

    steps = tuple(PlannedStep(path=f"steps[{i}]", step_id=f"s{i}", kind="http", title="t",
                              idempotent=True, rendered={"body": HUGE}) for i in range(500))
    blocks = plan_blocks(Plan(runbook="r", params={"p": HUGE}, steps=steps), 7)
    assert blocks_errors(blocks) == [] and "more steps not shown" in str(blocks)

    statuses = [{"service": f"svc-{i}-" + "n" * 100, "slo": "o" * 60, "attainment": 0.9,
                 "budget_remaining": 0.1, "burn_rate": 14.4, "time_to_exhaustion_seconds": 60.0,
                 "status": "page"} for i in range(200)]
    blocks = slo_table_blocks(statuses, title=HUGE)
    assert blocks_errors(blocks) == [] and "more services not shown" in str(blocks[-1])


def test_fit_blocks_counts_what_it_drops() -> None:
    blocks = fit_blocks([section(f"b{i}") for i in range(120)])
    assert len(blocks) == MAX_MESSAGE_BLOCKS and blocks_errors(blocks) == []
    assert "… and 71 more sections" in str(blocks[-1])


def test_a_digest_with_huge_names_fits() -> None:
    inputs = fixtures.inputs()
    incidents = tuple(fact.__class__(**{**fact.__dict__, "title": HUGE})
                      for fact in inputs.incidents) * 30
    digest = build_digest(inputs.__class__(**{**inputs.__dict__, "team": HUGE[:500],
                                              "incidents": incidents}))
    message = render_message(digest)
    assert blocks_errors(message.blocks) == [] and len(message.text) <= 40_000
    # and the hostile titles and team name arrive as text, not as pings
    assert foreign_tokens(message.blocks) == [] and foreign_tokens(message.text) == []
    assert "&lt;!channel&gt;" in str(message.blocks)
