"""``/incident timeline`` and ``/incident list`` as blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from bot.views import markup
from bot.views.text import MESSAGE_BLOCKS, bullet_list, context, cut, section
from store.models import Incident, TimelineEvent


def event_line(event: TimelineEvent) -> str:
    """One event: when (in the reader's zone), what, who, and its message as data."""
    ts = event.ts if event.ts.tzinfo else event.ts.replace(tzinfo=UTC)
    when = markup.date(ts, "{date_short} {time_secs}",
                       fallback=ts.astimezone(UTC).strftime("%m-%d %H:%M:%S UTC"))
    text = f"{when} *{markup.escape(event.kind)}* {markup.actor(event.actor)}"
    if event.message:
        text += f" — {markup.escape(event.message)}"
    return cut(text, 2800)


def timeline_blocks(incident: Incident, events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    blocks = [section(cut(f"*Timeline of incident #{incident.id}* "
                          f"({markup.escape(incident.title)})", 2900))]
    chunk: list[str] = []
    size = 0
    # Pack lines into sections near the 3,000-character limit; the last block says what's
    # left. Lines are formatted as they are packed: a long incident has thousands.
    for index, event in enumerate(events):
        line = event_line(event)
        if size + len(line) > 2800 and chunk:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
            if len(blocks) >= MESSAGE_BLOCKS - 2:
                blocks.append(context(f"_… and {len(events) - index} more events not shown "
                                      f"(`GET /v1/incidents/{incident.id}` has them all)_"))
                return blocks
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if not events:
        blocks.append(context("No events yet."))
    return blocks


def incident_list_blocks(incidents: Sequence[Incident]) -> list[dict[str, Any]]:
    if not incidents:
        return [section(":white_check_mark: No open incidents.")]
    lines = []
    for incident in incidents:
        where = f" {markup.channel(incident.slack_channel_id)}" \
            if incident.slack_channel_id else ""
        label = f" {markup.code(incident.behavior)}" if incident.behavior else ""
        lines.append(f"*#{incident.id}* [{markup.escape(incident.status)}] "
                     f"{markup.escape(incident.severity)} {markup.escape(incident.service)}: "
                     f"{markup.escape(incident.title)}{label}{where}")
    return [section(f"*Open incidents ({len(incidents)})*"),
            section(bullet_list(lines, what="incidents", where=None))]
