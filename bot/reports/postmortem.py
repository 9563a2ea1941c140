"""A Markdown postmortem drafted from an incident's record, so nobody types it up.

``postmortem_context`` is pure: the incident, its timeline and its runbook runs
as plain dicts (the shapes of ``bot.incidents.serialize``) in, the template's context
out. ``render_postmortem`` reads them from the store and renders the
``postmortem`` template, which the catalog may override
(``templates: {postmortem: path/to/postmortem.md.j2}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.catalog import Catalog
from bot.core.errors import NotFound
from bot.incidents.serialize import event_dict, incident_dict
from bot.reports.templates import template
from store import queries, runbook_queries
from store.db import session_scope

if TYPE_CHECKING:
    from bot.core.services import Services

# Timeline kinds that set or change the diagnosis (the classifier, the watch, a responder).
DIAGNOSIS_PREFIXES = ("diagnos", "classif", "relabel", "reclassif")
TOP_SLICES = 3
TOP_EVIDENCE = 5


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _minutes(start: Any, end: Any) -> float | None:
    first, last = _time(start), _time(end)
    if first is None or last is None:
        return None
    return (last - first).total_seconds() / 60.0


def diagnosis_history(timeline: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each time the label or confidence was set or changed, oldest first."""
    history = []
    for event in timeline:
        if not str(event.get("kind", "")).startswith(DIAGNOSIS_PREFIXES):
            continue
        details = event.get("details") or {}
        label = details.get("to") or details.get("behavior") or details.get("label")
        history.append({"ts": _time(event.get("ts")), "actor": event.get("actor", ""),
                        "kind": event.get("kind", ""), "label": label,
                        "previous": details.get("from") or details.get("previous"),
                        "confidence": details.get("confidence"),
                        "message": event.get("message", "")})
    return history


def budget_lines(impact: dict[str, Any]) -> list[dict[str, Any]]:
    """Each SLO's spend (largest first) with its worst slices."""
    lines = []
    for name, value in (impact.get("slos") or {}).items():
        if not isinstance(value, dict):
            continue
        slices = sorted(((key, s.get("share") or 0.0) for key, s in
                         (value.get("slices") or {}).items() if (s.get("share") or 0.0) > 0),
                        key=lambda item: (-item[1], item[0]))[:TOP_SLICES]
        lines.append({"slo": name, "objective": value.get("objective", ""),
                      "unit": value.get("unit", ""), "bad": value.get("bad"),
                      "total": value.get("total"), "excess_bad": value.get("excess_bad"),
                      "share": value.get("share"), "slices": slices})
    lines.sort(key=lambda line: (-(line["share"] or 0.0), line["slo"]))
    return lines


def run_line(run: dict[str, Any]) -> dict[str, Any]:
    return {"runbook": run.get("runbook"), "status": run.get("status"),
            "verdict": run.get("verdict"), "verified": run.get("verdict") == "recovered",
            "requested_by": run.get("requested_by"), "decided_by": run.get("decided_by"),
            "started_at": _time(run.get("started_at")), "ended_at": _time(run.get("ended_at")),
            "error": run.get("error")}


def postmortem_context(incident: dict[str, Any], timeline: Sequence[dict[str, Any]],
                       runs: Sequence[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    diagnosis = incident.get("diagnosis") or {}
    created = incident.get("created_at")
    end = incident.get("resolved_at") or now
    suspects = diagnosis.get("suspect_changes") or []
    return {
        "incident": incident,
        "generated_at": now,
        "opened": _time(created),
        "onset": _time(incident.get("onset")),
        "time_to_ack": _minutes(created, incident.get("acknowledged_at")),
        "time_to_mitigate": _minutes(created, incident.get("mitigated_at")),
        "time_to_resolve": _minutes(created, incident.get("resolved_at")),
        "duration": _minutes(incident.get("onset") or created, end),
        "ongoing": incident.get("resolved_at") is None,
        "budget": budget_lines(incident.get("budget_impact") or {}),
        "slices": list(diagnosis.get("slices") or []),
        "evidence": list(diagnosis.get("evidence") or [])[:TOP_EVIDENCE],
        "explanation": diagnosis.get("explanation"),
        "diagnosis_history": diagnosis_history(timeline),
        "suspect": suspects[0] if suspects else None,
        "other_suspects": suspects[1:3],
        "timeline": [{**event, "ts": _time(event.get("ts"))} for event in timeline],
        "runs": [run_line(run) for run in runs],
        "followups": list(incident.get("followups") or []),
    }


def render_markdown(context: dict[str, Any], catalog: Catalog | None = None) -> str:
    return template("postmortem", catalog).render(**context)


def render_postmortem(services: Services, incident_id: int) -> str:
    """The postmortem of one stored incident; ``NotFound`` when there is none."""

    with session_scope(services.engine) as session:
        incident = queries.get_incident(session=session, incident_id=incident_id)
        if incident is None:
            raise NotFound(f"no incident with id {incident_id}")
        record = incident_dict(incident)
        events = [event_dict(e) for e in queries.timeline(session=session,
                                                            incident_id=incident_id)]
        runs = [{"runbook": r.runbook, "status": r.status, "verdict": r.verdict,
                 "requested_by": r.requested_by, "decided_by": r.decided_by,
                 "started_at": r.started_at, "ended_at": r.ended_at, "error": r.error}
                for r in runbook_queries.runs_for_incident(session=session,
                                                           incident_id=incident_id)]
    context = postmortem_context(record, events, runs, now=services.clock())
    return render_markdown(context, services.catalog)
