"""A channel's story as plain text: what a person scrolling the channel would see.

Blocks are rendered the way Slack lays them out, reduced to text: headers in
capitals, sections as paragraphs, fields two to a line, buttons in brackets. Text
is shown as Slack shows it: live tokens become what they render as (``@name``,
``#channel``, a live ``@here``, a date's fallback, ``label (→ url)`` for a link) and
``&lt;`` is ``<`` again, so escaped alert text reads as the literal ``<!here>`` it was.
"""

from __future__ import annotations

import time
from typing import Any

from bot.devtools.slack_emulator.markup import TOKEN, kind
from bot.devtools.slack_emulator.workspace import Activity


def _token(body: str, names: dict[str, str]) -> str:
    target, _, label = body.partition("|")
    what = kind(body)
    if what == "user":
        return "@" + names.get(target[1:], label or target[1:])
    if what == "channel":
        return "#" + names.get(target[1:], label or target[1:])
    if what == "broadcast":
        return "@" + target[1:]
    if what == "group":
        return label or "@" + names.get(target[9:], target[9:])
    if what == "date":
        return label
    return f"{label} (→ {target})" if label else target


def shown(text: str, names: dict[str, str] | None = None) -> str:
    """``text`` as a person reads it in Slack (names: user, group and channel ids)."""
    lookup = names or {}
    plain = TOKEN.sub(lambda m: _token(m.group(1), lookup), text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: dict[str, str] | None = None) -> str:
    raw = obj.get("text", "") if isinstance(obj, dict) else str(obj or "")
    return shown(raw, names)


def render_blocks(blocks: list[dict[str, Any]], indent: str = "    ",
                  names: dict[str, str] | None = None) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'), names)} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block["text"], names).splitlines())
            fields = [_text(f, names) for f in block.get("fields", [])]
            for left, right in zip(fields[::2], fields[1::2] + [""], strict=False):
                lines.append(f"{left.replace(chr(10), ' ')}    {right.replace(chr(10), ' ')}"
                             .rstrip())
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                lines.append(f"[{_text(accessory.get('text'), names)}]")
        elif kind == "context":
            lines.append("(" + " · ".join(_text(e, names) for e in block.get("elements", [])) + ")")
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append(" ".join(f"[{_text(e.get('text'), names) or e.get('type')}]"
                                  for e in block.get("elements", [])))
        elif kind == "input":
            lines.append(f"{_text(block.get('label'), names)}: ____")
    return [indent + line for line in lines]


def _line(entry: Activity, names: dict[str, str], pinned: set[str]) -> list[str]:
    clock = time.strftime("%H:%M:%S", time.gmtime(entry.at))
    who = "@" + names.get(entry.actor, entry.actor)
    body: list[str]
    if entry.kind == "created":
        body = [f"{who} created the channel {entry.text}"]
    elif entry.kind == "topic":
        body = [f"{who} set the topic: {shown(entry.text, names)}"]
    elif entry.kind == "invited":
        invited = ", ".join("@" + names.get(u.strip(), u.strip()) for u in entry.text.split(","))
        body = [f"{who} invited {invited}"]
    elif entry.kind == "joined":
        body = [f"{who} joined"]
    elif entry.kind in ("message", "ephemeral"):
        prefix = "(only visible to you) " if entry.kind == "ephemeral" else ""
        tag = " [pinned]" if entry.ts in pinned else ""
        body = [f"{who}{tag}: {prefix}{shown(entry.text, names)}".rstrip()]
        blocks = render_blocks(entry.blocks, names=names)
        if blocks and blocks[0].strip() == shown(entry.text, names).strip():
            blocks = blocks[1:]  # the notification text of its first section: shown once
        body += blocks
    elif entry.kind == "updated":
        body = [f"{who} edited their message {entry.ts}:",
                *render_blocks(entry.blocks, names=names)]
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
        names.update({gid: "@" + str(g.get("handle", gid)) for gid, g in
                      workspace.usergroups.items()})
        names.update({cid: c.name for cid, c in workspace.channels.items()})

        entries = list(workspace.activity.get(channel_id, []))
        pinned = set(channel.pins)
        header = f"#{channel.name} ({channel.id})"
        if channel.topic:
            header += f" — {shown(channel.topic, names)}"
        members = ", ".join("@" + names.get(m, m) for m in sorted(channel.members))
    lines = [header, f"members: {members}", ""]
    for entry in entries:
        lines.extend(_line(entry, names, pinned))
    return "\n".join(lines) + "\n"
