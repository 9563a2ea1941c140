"""Cutting text to Slack's limits so a long diagnosis is shortened, never rejected."""

from __future__ import annotations

from collections.abc import Sequence

SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FIELD_TEXT = 2000
PLAIN_INPUT_INITIAL = 3000
MESSAGE_BLOCKS = 50


def cut(text: str, limit: int, note: str = "…") -> str:
    """``text`` if it fits, else its start and ``note`` within ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))].rstrip() + note


def bullet_list(items: Sequence[str], limit: int = SECTION_TEXT, *, what: str = "items") -> str:
    """As many ``• item`` lines as fit, then a note saying how many were left out."""
    lines: list[str] = []
    used = 0
    for index, item in enumerate(items):
        line = f"• {cut(item, 500)}"
        left = len(items) - index
        note = f"\n_…and {left} more {what} not shown (see `/incident timeline`)_"
        if used + len(line) + 1 + (len(note) if left > 1 else 0) > limit:
            lines.append(note.strip())
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def plain(text: str, limit: int | None = None) -> dict[str, object]:
    return {"type": "plain_text", "text": cut(text, limit) if limit else text, "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": cut(text, limit, "\n_…cut to fit Slack's limit_")}


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> dict[str, object]:
    return {"type": "context", "elements": [mrkdwn(t, 2000) for t in texts[:10]]}


def button(label: str, action_id: str, value: str, style: str | None = None
           ) -> dict[str, object]:
    element: dict[str, object] = {"type": "button", "text": plain(label, BUTTON_TEXT),
                                  "action_id": action_id[:255], "value": value[:BUTTON_VALUE]}
    if style:
        element["style"] = style
    return element
