"""``/incident timeline`` and ``/incident list`` as blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.views.text import MESSAGE_BLOCKS, bullet_list, context, section
from store.models import Incident, TimelineEvent


def _actor(actor: str) -> str:
    return f"<@{actor[6:]}>" if actor.startswith("slack:") else actor


def timeline_blocks(incident: Incident, events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    lines = [f"`{e.ts:%m-%d %H:%M:%S}` *{e.kind}* {_actor(e.actor)}"
             + (f" — {e.message}" if e.message else "") for e in events]
    blocks = [section(f"*Timeline of incident #{incident.id}* ({incident.title})")]
    chunk: list[str] = []
    size = 0
    # Pack lines into sections near the 3,000-character limit; the last block says what's left.
    for index, line in enumerate(lines):
        if size + len(line) > 2800 and chunk:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
            if len(blocks) >= MESSAGE_BLOCKS - 2:
                blocks.append(context(f"_…{len(lines) - index} older events not shown_"))
                return blocks
        chunk.append(line[:2800])
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if not lines:
        blocks.append(context("No events yet."))
    return blocks


def incident_list_blocks(incidents: Sequence[Incident]) -> list[dict[str, Any]]:
    if not incidents:
        return [section(":white_check_mark: No open incidents.")]
    lines = []
    for incident in incidents:
        where = f" <#{incident.slack_channel_id}>" if incident.slack_channel_id else ""
        label = f" `{incident.behavior}`" if incident.behavior else ""
        lines.append(f"*#{incident.id}* [{incident.status}] {incident.severity} "
                     f"{incident.service}: {incident.title}{label}{where}")
    return [section(f"*Open incidents ({len(incidents)})*"),
            section(bullet_list(lines, what="incidents"))]
