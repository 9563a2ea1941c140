"""A postmortem drafted from a real incident record: lifecycle, diagnosis, relabel,
budget impact, runbook run and follow-ups written the way the bot writes them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.cli.main import main
from bot.config.catalog import parse_catalog
from bot.core.errors import NotFound
from bot.incidents import lifecycle
from bot.incidents import service as incident_service
from bot.slack.postmortem import render_postmortem
from store.db import session_scope
from store.models import Incident
from store.runbook_models import RunbookRun
from tests.reports.fixtures import CATALOG, t
from tests.reports.support import team_services


def _at(moment: datetime):
    return lambda: moment


def record_incident(services) -> int:
    """Opened 10:00 by an alert, classified, acked 10:06, relabelled, rolled back, mitigated
    10:30, resolved 11:00 (onset 09:54); then a follow-up."""
    with session_scope(services.engine) as session:
        incident = lifecycle.new_incident(session=session, service="svc-a",
                                          title="Groundedness | dropped for acme",
                                          severity="page", source="alert",
                                          actor="alert:alertmanager", now=t(18, 10))
        incident.onset = t(18, 9, 54)
        incident.behavior, incident.confidence, incident.label_source = "model", 0.62, \
            "classifier"
        incident.diagnosis = {
            "explanation": "model (0.62): quality fell after model change v8",
            "slices": [{"dimension": "tenant", "value": "acme", "effect": 0.21,
                        "p_value": 1e-7}],
            "evidence": [{"layer": "data", "name": "null_rate", "slice": {"tenant": "acme"},
                          "detector": "shift", "effect": 0.3, "p_value": 2e-9}],
            "suspect_changes": [{"ts": "2026-11-18T09:48:00Z", "kind": "features",
                                 "ref": "fp-341", "previous": "fp-340", "author": "ana",
                                 "description": "feature pipeline change", "score": 0.81,
                                 "minutes_before_onset": 6.0}]}
        incident.budget_impact = {"slos": {"availability": {
            "objective": "events of error_rate", "unit": "events", "bad": 1050.0,
            "total": 10000.0, "excess_bad": 1000.0, "share": 1000 / 1680,
            "slices": {"tenant=acme": {"share": 0.56}, "tenant=globex": {"share": 0.0}}}}}
        incident_id = incident.id
        lifecycle.record(session=session, incident_id=incident_id, actor="classifier",
                         kind="diagnosis", message="model (0.62)", now=t(18, 10, 1),
                         details={"behavior": "model", "confidence": 0.62})
        lifecycle.transition(session=session, incident=incident, to="acknowledged",
                             actor="slack:U0SRE0001", now=t(18, 10, 6))
        lifecycle.record(session=session, incident_id=incident_id, actor="slack:U0DATA001",
                         kind="relabelled", message="relabelled model -> data",
                         now=t(18, 10, 15), details={"from": "model", "to": "data"})
        incident.behavior, incident.label_source = "data", "responder"
        session.add(RunbookRun(incident_id=incident_id, runbook="pin-retrieval-index",
                               status="succeeded", verdict="recovered",
                               requested_by="slack:U0DATA001", decided_by="slack:U0SRE0002",
                               idempotency_key="pm-1", created_at=t(18, 10, 20),
                               updated_at=t(18, 10, 29), started_at=t(18, 10, 21),
                               ended_at=t(18, 10, 29)))
        lifecycle.transition(session=session, incident=incident, to="mitigated",
                             actor="runbook:pin-retrieval-index", now=t(18, 10, 30))
        lifecycle.transition(session=session, incident=incident, to="resolved",
                             actor="slack:U0SRE0001", now=t(18, 11),
                             note="pinned the previous feature set")
    services.clock = _at(t(18, 11, 5))
    incident_service.add_followup(services, incident_id=incident_id,
                                  text="Validate nulls in fp | pipeline", actor="slack:U0DATA001")
    return incident_id


def test_postmortem_from_the_record(db_url: str) -> None:
    with team_services(db_url) as services:
        incident_id = record_incident(services)
        services.clock = _at(t(19, 9))
        markdown = render_postmortem(services, incident_id)
    assert markdown.startswith(f"# Postmortem: #{incident_id} Groundedness | dropped for acme")
    # Summary: acked 6 min, mitigated 30 min, resolved 60 min after opening at 10:00.
    assert "| Acknowledged | 2026-11-18 10:06 UTC (after 6.0 min) |" in markdown
    assert "| Mitigated | 2026-11-18 10:30 UTC (after 30 min) |" in markdown
    assert "| Resolved | 2026-11-18 11:00 UTC (after 1 h 00 min) |" in markdown
    assert "| Failure class | data (0.62 confident, labelled by the responder) |" in markdown
    assert "**Resolution:** pinned the previous feature set" in markdown
    # Impact: onset 09:54 to resolution 11:00 is 66 min; 1000 of 1680 budget = 59.5 %.
    assert "**Duration:** 1 h 06 min from the onset (2026-11-18 09:54 UTC)" in markdown
    assert "| availability | events of error_rate | 1,050.0 events | 1,000.0 | 59.5% | " \
           "tenant=acme 56.0% |" in markdown
    assert "`tenant=acme` (effect 0.210)" in markdown
    # How the diagnosis changed: the classifier's model, then the responder's data.
    assert "| classifier | model (0.62) | model (0.62) |" in markdown
    assert "| slack:U0DATA001 | model → data | relabelled model -> data |" in markdown
    assert "**features `fp-341`** (was `fp-340`) by ana at 2026-11-18 09:48 UTC, 6 min " \
           "before the onset (score 0.81)." in markdown
    # Timeline rows come from the stored events, with '|' escaped inside cells.
    assert "| 2026-11-18 10:06:00 | slack:U0SRE0001 | **acknowledged** acknowledged by " \
           "slack:U0SRE0001 |" in markdown
    assert "**followup** Validate nulls in fp \\| pipeline |" in markdown
    assert "| pin-retrieval-index | slack:U0DATA001 | slack:U0SRE0002 | succeeded | " \
           "verified: recovered |" in markdown
    assert "- [ ] Validate nulls in fp | pipeline _(slack:U0DATA001, 2026-11-18 11:05 UTC)_" \
        in markdown


def test_template_overridden_from_the_catalog_and_the_cli(db_url: str, tmp_path: Path,
                                                          monkeypatch, capsys) -> None:
    custom = tmp_path / "pm.md.j2"
    custom.write_text("PM {{ incident.id }}: {{ incident.behavior }}, "
                      "{{ time_to_resolve | duration }}, {{ followups | length }} follow-up\n")
    data = CATALOG.model_dump()
    data["templates"] = {"postmortem": "pm.md.j2"}  # relative to the catalog file
    catalog_file = tmp_path / "resilio.yml"
    catalog_file.write_text(yaml.safe_dump(data))
    with team_services(db_url) as services:
        services.catalog = parse_catalog(data, str(catalog_file))
        incident_id = record_incident(services)
        assert render_postmortem(services, incident_id) == \
            f"PM {incident_id}: data, 1 h 00 min, 1 follow-up\n"
        with pytest.raises(NotFound):
            render_postmortem(services, 999)
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "pm.md"
    assert main(["--config", str(catalog_file), "postmortem", str(incident_id),
                 "--out", str(out)]) == 0
    assert out.read_text() == f"PM {incident_id}: data, 1 h 00 min, 1 follow-up\n"
    assert main(["--config", str(catalog_file), "postmortem", "999"]) == 2
    assert "no incident with id 999" in capsys.readouterr().err


def test_incident_postmortem_in_slack_uploads_the_draft(slack, sqlite_url: str) -> None:
    from bot.slack.postmortem import postmortem_for_slack
    from store import queries
    from tests.slack.conftest import slack_settings

    slack.workspace.add_channel("inc-1-svc-a", channel_id="C0INC00001")
    settings = slack_settings(slack, sqlite_url).model_dump(by_alias=True)
    with team_services(sqlite_url, **settings) as services:
        incident_id = record_incident(services)
        with session_scope(services.engine) as session:
            incident = session.get(Incident, incident_id)
            incident.slack_channel_id = "C0INC00001"
            session.add(incident)
        reply = postmortem_for_slack(services, incident_id=incident_id, actor="slack:U0SRE0001")
        with session_scope(services.engine) as session:
            kinds = [e.kind for e in queries.timeline(session=session, incident_id=incident_id)]
    assert reply["response_type"] == "in_channel"
    assert f"postmortem-{incident_id}.md" in reply["text"]
    (uploaded,) = [f for f in slack.workspace.files.values() if f.get("complete")]
    assert uploaded["name"] == f"postmortem-{incident_id}.md"
    assert uploaded["content"].startswith(f"# Postmortem: #{incident_id}".encode())
    assert kinds[-1] == "postmortem"
