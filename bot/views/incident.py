"""The pinned incident summary: what happened, what the bot thinks, what to do next.

The summary is the channel's single source of truth, updated in place, so it
carries the diagnosis (label, confidence, deciding evidence, failing slices,
suspect change) beside the buttons that act on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.views import format as fmt
from bot.views import markup
from bot.views.runbooks import RUN, SuggestedRunbook, suggestion_line
from bot.views.runbooks import summary_buttons as runbook_buttons
from bot.views.text import (
    HEADER_TEXT,
    TOPIC_TEXT,
    bullet_list,
    button,
    context,
    cut,
    fields,
    more,
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
MAX_SLICES = 5
MAX_RUNBOOK_BUTTONS = 5
ANCHOR = {"alert": "the alert", "detector": "the detection", "budget": "the budget alert",
          "manual": "the declaration"}


def _fmt_slice(value: Any) -> str:
    """A slice map as escaped ``k=v`` pairs; the empty slice is all traffic."""
    if isinstance(value, dict):
        return markup.escape(", ".join(f"{k}={v}" for k, v in value.items())) or "all traffic"
    return markup.escape(value) if value else "all traffic"


def evidence_line(item: dict[str, Any]) -> str:
    """One finding: where, what moved and by how much, how sure, which test."""
    where = _fmt_slice(item.get("slice"))
    what = markup.escape(fmt.effect(item))
    stats = " · ".join(t for t in (fmt.p_value(item.get("p_value")),
                                   markup.escape(fmt.detector_name(item.get("detector"))))
                       if t)
    name = markup.code(f"{item.get('layer', '?')}/{item.get('name', '?')}")
    return f"{name} ({where}): {what} · {stats}"


def slice_line(item: dict[str, Any]) -> str:
    text = markup.escape(f"{item.get('dimension', '?')}={item.get('value', '?')}")
    extras = [fmt.p_value(item.get("p_value"))]
    effect = item.get("effect")
    if isinstance(effect, int | float):
        extras.insert(0, f"effect {fmt.significant(float(effect), 2)}")
    extras = [e for e in extras if e]
    return text + (f" ({', '.join(extras)})" if extras else "")


def change_line(change: dict[str, Any]) -> str:
    """A suspect change: kind, ref (and what it replaced), who, when relative to the onset."""
    text = (f"{markup.escape(change.get('kind', 'change'))} change "
            f"{markup.code(change.get('ref', '?'))}")
    if change.get("previous"):
        text += f" (was {markup.code(change['previous'])})"
    if change.get("author"):
        text += f" by {markup.escape(change['author'])}"
    when = fmt.minutes_before(change.get("minutes_before_onset"))
    if when:
        text += f", {when}"
    elif change.get("ts"):
        text += f" at {fmt.moment(change['ts'])}"
    if change.get("description"):
        text += f": {markup.escape(change['description'])}"
    return text


def _reasons(diagnosis: dict[str, Any]) -> str:
    """The classifier's deciding contributions, from the end of its explanation."""
    _, found, reasons = str(diagnosis.get("explanation") or "").partition("Deciding: ")
    return reasons.strip().rstrip(".") if found else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []


def _suspect(change: dict[str, Any]) -> str:
    text = (f"{markup.escape(change.get('kind', 'change'))} change "
            f"{markup.code(change.get('ref', '?'))}")
    when = fmt.minutes_before(change.get("minutes_before_onset"))
    return f"{text}, {when}" if when else text


def headline(incident: Incident) -> str:
    """The one line a responder reads first: what failed, how sure, where, since when, why.

    ``data failure, 0.91 confident · only tenant=acme · began <date> (12 min before
    the alert) · suspect: features change fp-341, 6 min before the onset``.
    """
    if not incident.behavior:
        return "*Not diagnosed yet:* the classifier is reading the service's signals."
    diagnosis = incident.diagnosis or {}
    confidence = f", {incident.confidence:.2f} confident" \
        if isinstance(incident.confidence, int | float) else ""
    by = " (set by a responder)" if incident.label_source == "responder" else ""
    if incident.behavior == "none":
        return f"*No failure found*{confidence}{by}"
    parts = [f"*{markup.code(incident.behavior)} failure*{confidence}{by}"]
    slices = _dicts(diagnosis.get("slices"))
    if slices:
        parts.append("only " + markup.escape(", ".join(
            f"{s.get('dimension', '?')}={s.get('value', '?')}" for s in slices[:3])))
    onset = diagnosis.get("onset") or incident.onset
    if fmt.parse_time(onset) is not None:
        anchor = ANCHOR.get(str(incident.source), "the alert")
        distance = fmt.relative(onset, incident.created_at, anchor)
        parts.append(f"began {fmt.moment(onset)}" + (f" ({distance})" if distance else ""))
    changes = _dicts(diagnosis.get("suspect_changes"))
    if changes:
        parts.append(f"suspect: {_suspect(changes[0])}")
    return " · ".join(parts)


def evidence_blocks(incident: Incident) -> list[dict[str, Any]]:
    """What the headline rests on: findings, failing slices, suspect change (each bounded)."""
    diagnosis = incident.diagnosis or {}
    if not incident.behavior:
        return []
    blocks: list[dict[str, Any]] = []
    reasons = _reasons(diagnosis)
    if reasons:
        blocks.append(context(cut(f"Deciding: {markup.escape(reasons)}", 2000)))
    elif incident.behavior == "none" and diagnosis.get("explanation"):
        # why nothing was found, in the classifier's words: "no signals to diagnose: …"
        # tells a responder the service sends nothing, which "no failure found" hides
        blocks.append(context(cut(f"Classifier: {markup.escape(diagnosis['explanation'])}",
                                  2000)))
    evidence = _dicts(diagnosis.get("evidence"))
    if evidence:  # only what is shown is formatted: a diagnosis may hold hundreds
        shown = [evidence_line(e) for e in evidence[:MAX_EVIDENCE]]
        title = f"*Evidence* ({len(shown)} of {len(evidence)} findings, earliest first)" \
            if len(evidence) > len(shown) else f"*Evidence* ({len(evidence)} findings)"
        body = bullet_list(shown, 2900 - len(title), what="findings",
                           where="see the incident record")
        if len(evidence) > len(shown) and "more findings" not in body:
            body += f"\n_… and {len(evidence) - len(shown)} more findings " \
                    f"(see the incident record)_"
        blocks.append(section(f"{title}\n{body}"))
    if incident.behavior != "none":
        slices = _dicts(diagnosis.get("slices"))
        listed = ", ".join(slice_line(item) for item in slices[:MAX_SLICES])
        text = cut(f"*Failing slices:* {listed or 'all traffic'}", 2800)
        if len(slices) > MAX_SLICES:
            text += f" _… and {len(slices) - MAX_SLICES} more_"
        blocks.append(section(text))
    changes = _dicts(diagnosis.get("suspect_changes"))
    if changes:
        text = cut(f"*Suspect change:* {change_line(changes[0])}", 2800)
        if len(changes) > 1:
            text += f"\n_… and {len(changes) - 1} more changes ranked lower_"
        blocks.append(section(text))
    return blocks


def diagnosis_blocks(incident: Incident) -> list[dict[str, Any]]:
    """The headline, then the evidence folded under it."""
    return [section(headline(incident)), *evidence_blocks(incident)]


def _roles(incident: Incident) -> str:
    roles = incident.roles or {}
    return ", ".join(f"{markup.escape(role)} {markup.user(who)}"
                     for role, who in roles.items()) or "none assigned"


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


def _title(incident: Incident) -> str:
    return f"#{incident.id} {markup.escape(incident.title)}"


def incident_summary_blocks(incident: Incident, *, suggestions: Sequence[SuggestedRunbook] = (),
                            public_url: str | None = None,
                            alerts_channel: str | None = None) -> list[dict[str, Any]]:
    """The pinned summary of ``incident`` (at most ~18 blocks, whatever the diagnosis).

    Header, the one-line headline, the facts as fields, then the evidence under them,
    the budget impact, links and the buttons. The runbook buttons are ``suggestions``,
    the runbook library's (``bot.runbook_runs.suggest_for``): the caller asks the
    library, so every button names a runbook that exists, a team's own included.
    """
    status = str(incident.status)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{STATUS_EMOJI.get(status, '')} {_title(incident)}"
                                         .strip(), HEADER_TEXT)},
        section(headline(incident)),
        fields(f"*Service*\n{markup.escape(incident.service)}",
               f"*Severity*\n{markup.escape(incident.severity)}",
               f"*Status*\n{STATUS_EMOJI.get(status, '')} {markup.escape(status)}",
               f"*Roles*\n{cut(_roles(incident), 1900)}",
               f"*Opened*\n{fmt.moment(incident.created_at)}",
               f"*Alerts firing*\n{int(incident.alerts_firing or 0)}"),
    ]
    if incident.description:
        blocks.append(section(cut(markup.escape(incident.description), 2900)))
    blocks.append({"type": "divider"})
    blocks.extend(evidence_blocks(incident))
    impact = incident.budget_impact or {}
    if impact.get("summary"):
        blocks.append(context(cut(f":chart_with_downwards_trend: "
                                  f"{markup.escape(impact['summary'])}", 2000)))
    links = []
    if public_url:
        links.append(markup.link(f"{public_url.rstrip('/')}/v1/incidents/{incident.id}",
                                 "incident record"))
    if alerts_channel:
        links.append(f"alerts in {markup.channel(alerts_channel)}")
    links.append("`/incident timeline` for the full record")
    blocks.append(context(" · ".join(links)))
    blocks.append({"type": "actions", "block_id": "summary.actions",
                   "elements": action_buttons(incident)})
    blocks.extend(runbook_blocks(incident, suggestions))
    return blocks


def runbook_blocks(incident: Incident, suggestions: Sequence[SuggestedRunbook]
                   ) -> list[dict[str, Any]]:
    """Why each suggested runbook fits, then its Run and Dry run buttons (the first few)."""
    unique = list({s.name: s for s in suggestions}.values())
    shown = unique[:MAX_RUNBOOK_BUTTONS]
    if not shown:
        return []
    title = "*Runbooks for this incident*"
    hidden = len(unique) - len(shown)
    left = more(hidden, "runbook" if hidden == 1 else "runbooks", "`/runbook list` shows them") \
        if hidden else ""
    why = bullet_list([suggestion_line(s) for s in shown], 2900 - len(title) - len(left) - 2,
                      what="runbooks", where="`/runbook list` shows them")
    return [section("\n".join(t for t in (title, why, left) if t)),
            {"type": "actions", "block_id": "summary.runbooks",
             "elements": runbook_buttons(incident.id, shown)}]


def _label(incident: Incident) -> str:
    if not incident.behavior:
        return ""
    confidence = f" ({incident.confidence:.2f})" \
        if isinstance(incident.confidence, int | float) else ""
    if incident.behavior == "none":
        return f" — no failure found{confidence}"
    return f" — {markup.escape(incident.behavior)} failure{confidence}"


def incident_summary_text(incident: Incident) -> str:
    """The notification text (and the fallback where blocks are not shown)."""
    return cut(f"Incident #{incident.id} [{markup.escape(incident.status)}] "
               f"{markup.escape(incident.service)}: {markup.escape(incident.title)}"
               f"{_label(incident)}", 3000)


def status_blocks(incident: Incident, suggestions: Sequence[SuggestedRunbook] = ()
                  ) -> list[dict[str, Any]]:
    """``/incident status``: the summary without the buttons, for an ephemeral reply."""
    return [b for b in incident_summary_blocks(incident, suggestions=suggestions)
            if b.get("type") != "actions"]


def channel_topic(incident: Incident) -> str:
    """The incident channel's topic (Slack: at most 250 characters, same escaping)."""
    return cut(f"#{incident.id} {markup.escape(incident.severity)} "
               f"{markup.escape(incident.service)}: {markup.escape(incident.title)}", TOPIC_TEXT)


def alerts_notice_text(incident: Incident, channel_id: str | None) -> str:
    """The alerts channel's notice: the incident's headline and where to follow it."""
    where = f" Follow it in {markup.channel(channel_id)}." if channel_id else ""
    label = "" if not incident.behavior else " — no failure found" \
        if incident.behavior == "none" else f" — {markup.code(incident.behavior)} failure"
    return cut(f":rotating_light: *{_title(incident)}* on *{markup.escape(incident.service)}* "
               f"({markup.escape(incident.severity)}){label}.{where}", 3000)


def alerts_notice_blocks(incident: Incident, channel_id: str | None) -> list[dict[str, Any]]:
    """The notice as blocks: its line, then the diagnosis headline once there is one."""
    blocks = [section(alerts_notice_text(incident, channel_id))]
    if incident.behavior:
        blocks.append(context(cut(headline(incident), 2000)))
    return blocks


def owners_invited_text(by: str, label: str | None, users: list[str]) -> str:
    """``Classified `data`: invited @ana, @bob`` (the owners the catalog names)."""
    return cut(f"{markup.escape(by)} {markup.code(label or 'unclassified')}: invited "
               + ", ".join(markup.user(u) for u in users), 3000)


def page_text(incident: Incident, target: str, minutes: float, *, group: bool = False) -> str:
    """The escalation page: the next person (or group) in line, and what waited for them."""
    who = markup.group(target) if group else markup.user(target)
    return cut(f":rotating_light: {who} incident #{incident.id} "
               f"({markup.escape(incident.severity)}, {markup.escape(incident.service)}: "
               f"{markup.escape(incident.title)}) has not been acknowledged after "
               f"{minutes:g} min. You are next in line.", 3000)


def alerts_resolved_text(incident: Incident) -> str:
    """The channel's notice that every alert of the incident has resolved."""
    return cut(f":white_check_mark: Every alert of {_title(incident)} has resolved. "
               "If the service is healthy again, resolve the incident; if it is not, "
               "it stays open and the summary keeps the diagnosis.", 3000)


def alerts_resolved_blocks(incident: Incident) -> list[dict[str, Any]]:
    """The notice, with the Resolve button (it asks for the resolution summary)."""
    return [section(alerts_resolved_text(incident)),
            {"type": "actions", "block_id": "alerts_resolved.actions",
             "elements": [button("Resolve", RESOLVE, str(incident.id), "primary")]}]
