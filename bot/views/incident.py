"""The pinned incident summary: what happened, what the bot thinks, what to do next.

The summary is the channel's single source of truth, updated in place, so it
carries the diagnosis (label, confidence, deciding evidence, failing slices,
suspect change) beside the buttons that act on it.
"""

from __future__ import annotations

from typing import Any

from bot.views.runbooks import RUN
from bot.views.runbooks import summary_buttons as runbook_buttons
from bot.views.text import (
    HEADER_TEXT,
    bullet_list,
    button,
    context,
    cut,
    plain,
    section,
)
from store.models import Incident

ACK = "incident.ack"
MITIGATE = "incident.mitigate"
RESOLVE = "incident.resolve"
REOPEN = "incident.reopen"
RELABEL = "incident.relabel"
RUNBOOK = RUN  # + runbook name

STATUS_EMOJI = {"triggered": ":red_circle:", "acknowledged": ":large_orange_circle:",
                "mitigated": ":large_yellow_circle:", "resolved": ":large_green_circle:"}
MAX_EVIDENCE = 8
MAX_RUNBOOK_BUTTONS = 5


def _fmt_slice(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "all traffic"
    return str(value or "all traffic")


def _number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "?"


def evidence_line(item: dict[str, Any]) -> str:
    where = _fmt_slice(item.get("slice"))
    detector = item.get("detector") or "test"
    p_value = item.get("p_value")
    p_text = f"p={p_value:.2g}" if isinstance(p_value, int | float) else ""
    effect = item.get("effect")
    effect_text = f"effect {_number(effect, '+.3g')}" if effect is not None else ""
    stats = ", ".join(t for t in (detector, p_text, effect_text) if t)
    return f"`{item.get('layer', '?')}/{item.get('name', '?')}` ({where}): {stats}"


def slice_line(item: dict[str, Any]) -> str:
    text = f"{item.get('dimension', '?')}={item.get('value', '?')}"
    if item.get("effect") is not None:
        text += f" (effect {_number(item.get('effect'), '+.3g')})"
    return text


def change_line(change: dict[str, Any]) -> str:
    text = f"{change.get('kind', 'change')} `{change.get('ref', '?')}`"
    if change.get("previous"):
        text += f" (was `{change['previous']}`)"
    if change.get("author"):
        text += f" by {change['author']}"
    if change.get("minutes_before_onset") is not None:
        text += f", {_number(change['minutes_before_onset'], '.0f')} min before onset"
    elif change.get("ts"):
        text += f" at {change['ts']}"
    if change.get("description"):
        text += f": {change['description']}"
    return text


def runbook_names(incident: Incident) -> list[str]:
    names = []
    for item in (incident.diagnosis or {}).get("suggested_runbooks", []) or []:
        name = item.get("name") if isinstance(item, dict) else item
        if name and name not in names:
            names.append(str(name))
    return names


def diagnosis_blocks(incident: Incident) -> list[dict[str, Any]]:
    diagnosis = incident.diagnosis or {}
    if not incident.behavior:
        return [section("*Diagnosis:* not classified yet.")]
    confidence = f", {incident.confidence:.2f} confident" \
        if incident.confidence is not None else ""
    by = " (set by a responder)" if incident.label_source == "responder" else ""
    text = f"*Diagnosis:* `{incident.behavior}` failure{confidence}{by}"
    if diagnosis.get("explanation"):
        text += f"\n{diagnosis['explanation']}"
    blocks = [section(text)]
    evidence = [evidence_line(e) for e in diagnosis.get("evidence", []) or []
                if isinstance(e, dict)]
    if evidence:
        shown = evidence[:MAX_EVIDENCE]
        body = bullet_list(shown, 2900, what="findings")
        if len(evidence) > len(shown):
            body += f"\n_…{len(evidence) - len(shown)} more findings not shown_"
        blocks.append(section(f"*Deciding evidence*\n{body}"))
    slices = [slice_line(s) for s in diagnosis.get("slices", []) or [] if isinstance(s, dict)]
    blocks.append(section("*Failing slices:* " + (cut(", ".join(slices), 2800, " …")
                                                  if slices else "all traffic")))
    changes = [c for c in diagnosis.get("suspect_changes", []) or [] if isinstance(c, dict)]
    if changes:
        blocks.append(section(f"*Suspect change:* {cut(change_line(changes[0]), 2800)}"))
    return blocks


def _roles(incident: Incident) -> str:
    roles = incident.roles or {}
    return ", ".join(f"{role} <@{user}>" for role, user in roles.items()) or "none assigned"


def action_buttons(incident: Incident) -> list[dict[str, Any]]:
    value = str(incident.id)
    status = incident.status
    buttons = []
    if status == "triggered":
        buttons.append(button("Acknowledge", ACK, value, "primary"))
    if status in ("triggered", "acknowledged"):
        buttons.append(button("Mitigated", MITIGATE, value))
    if status != "resolved":
        buttons.append(button("Resolve", RESOLVE, value, "danger"))
    else:
        buttons.append(button("Reopen", REOPEN, value))
    buttons.append(button("Relabel", RELABEL, value))
    return buttons


def incident_summary_blocks(incident: Incident, *, public_url: str | None = None,
                            alerts_channel: str | None = None) -> list[dict[str, Any]]:
    """The pinned summary of ``incident`` (at most ~15 blocks, whatever the diagnosis)."""
    status = incident.status
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"#{incident.id} {incident.title}", HEADER_TEXT)},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Service*\n{incident.service}"},
            {"type": "mrkdwn", "text": f"*Severity*\n{incident.severity}"},
            {"type": "mrkdwn", "text": f"*Status*\n{STATUS_EMOJI.get(status, '')} {status}"},
            {"type": "mrkdwn", "text": f"*Roles*\n{cut(_roles(incident), 1900)}"},
        ]},
    ]
    if incident.description:
        blocks.append(section(cut(incident.description, 2900)))
    blocks.append({"type": "divider"})
    blocks.extend(diagnosis_blocks(incident))
    impact = incident.budget_impact or {}
    if impact.get("summary"):
        blocks.append(context(f":chart_with_downwards_trend: {impact['summary']}"))
    links = []
    if public_url:
        links.append(f"<{public_url.rstrip('/')}/v1/incidents/{incident.id}|incident record>")
    if alerts_channel:
        links.append(f"alerts in <#{alerts_channel}>")
    links.append("`/incident timeline` for the full record")
    blocks.append(context(" · ".join(links)))
    blocks.append({"type": "actions", "block_id": "summary.actions",
                   "elements": action_buttons(incident)})
    runbooks = runbook_names(incident)[:MAX_RUNBOOK_BUTTONS]
    if runbooks:
        blocks.append({"type": "actions", "block_id": "summary.runbooks",
                       "elements": runbook_buttons(incident.id, runbooks)})
    return blocks


def incident_summary_text(incident: Incident) -> str:
    """The notification text (and the fallback where blocks are not shown)."""
    label = f" — {incident.behavior} ({incident.confidence or 0:.2f})" if incident.behavior else ""
    return cut(f"Incident #{incident.id} [{incident.status}] {incident.service}: "
               f"{incident.title}{label}", 3000)


def status_blocks(incident: Incident) -> list[dict[str, Any]]:
    """``/incident status``: the summary without the buttons, for an ephemeral reply."""
    return [b for b in incident_summary_blocks(incident) if b.get("type") != "actions"]


def alerts_notice_text(incident: Incident, channel_id: str | None) -> str:
    where = f" in <#{channel_id}>" if channel_id else ""
    label = f", diagnosed `{incident.behavior}`" if incident.behavior else ""
    return cut(f":rotating_light: Incident #{incident.id} ({incident.severity}) on "
               f"*{incident.service}*: {incident.title}{label}. Follow it{where}.", 3000)
