"""A channel's story as plain text: what a person scrolling the channel would see.

Blocks are rendered the way Slack lays them out, reduced to text: headers in
capitals, sections as paragraphs, fields two to a line, buttons in brackets.
"""

from __future__ import annotations

import time
from typing import Any

from bot.devtools.slack_emulator.workspace import Activity


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


def render_blocks(blocks: list[dict[str, Any]], indent: str = "    ") -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'))} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block["text"]).splitlines())
            fields = [_text(f) for f in block.get("fields", [])]
            for left, right in zip(fields[::2], fields[1::2] + [""], strict=False):
                lines.append(f"{left.replace(chr(10), ' ')}    {right.replace(chr(10), ' ')}"
                             .rstrip())
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                lines.append(f"[{_text(accessory.get('text'))}]")
        elif kind == "context":
            lines.append("(" + " · ".join(_text(e) for e in block.get("elements", [])) + ")")
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append(" ".join(f"[{_text(e.get('text')) or e.get('type')}]"
                                  for e in block.get("elements", [])))
        elif kind == "input":
            lines.append(f"{_text(block.get('label'))}: ____")
    return [indent + line for line in lines]


def _line(entry: Activity, names: dict[str, str], pinned: set[str]) -> list[str]:
    clock = time.strftime("%H:%M:%S", time.gmtime(entry.at))
    who = "@" + names.get(entry.actor, entry.actor)
    body: list[str]
    if entry.kind == "created":
        body = [f"{who} created the channel {entry.text}"]
    elif entry.kind == "topic":
        body = [f"{who} set the topic: {entry.text}"]
    elif entry.kind == "invited":
        invited = ", ".join("@" + names.get(u.strip(), u.strip()) for u in entry.text.split(","))
        body = [f"{who} invited {invited}"]
    elif entry.kind == "joined":
        body = [f"{who} joined"]
    elif entry.kind in ("message", "ephemeral"):
        prefix = "(only visible to you) " if entry.kind == "ephemeral" else ""
        tag = " [pinned]" if entry.ts in pinned else ""
        body = [f"{who}{tag}: {prefix}{entry.text}".rstrip()]
        body += render_blocks(entry.blocks)
    elif entry.kind == "updated":
        body = [f"{who} edited their message {entry.ts}:"] + render_blocks(entry.blocks)
    elif entry.kind == "pinned":
        body = [f"{who} pinned message {entry.ts}"]
    elif entry.kind == "reaction":
        body = [f"{who} reacted {entry.text} to message {entry.ts}"]
    elif entry.kind == "click":
        body = [f"{who} clicked [{entry.text}]"]
    elif entry.kind == "command":
        body = [f"{who} ran {entry.text}"]
    else:
        body = [f"{who} {entry.kind} {entry.text}".rstrip()]
    return [f"[{clock}] {body[0]}"] + [f"           {line}" for line in body[1:]]


def render_transcript(emulator: Any, channel_id: str) -> str:
    """The readable conversation of one channel, oldest first."""
    workspace = emulator.workspace
    with workspace.lock:
        channel = workspace.channel(channel_id)
        names = {uid: user.get("name", uid) for uid, user in workspace.users.items()}
        entries = list(workspace.activity.get(channel_id, []))
        pinned = set(channel.pins)
        header = f"#{channel.name} ({channel.id})"
        if channel.topic:
            header += f" — {channel.topic}"
        members = ", ".join("@" + names.get(m, m) for m in sorted(channel.members))
    lines = [header, f"members: {members}", ""]
    for entry in entries:
        lines.extend(_line(entry, names, pinned))
    return "\n".join(lines) + "\n"
