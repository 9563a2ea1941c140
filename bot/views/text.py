"""Block Kit pieces within Slack's limits, so a long diagnosis is shortened, never rejected.

The builders here take Slack text: what came from outside is escaped by the caller
with :mod:`bot.views.markup` as it is put in. ``mrkdwn`` objects are ``verbatim``, so
Slack does not turn a bare URL or ``#name`` in data into a link either; the bot's own
links and mentions are explicit tokens, which verbatim text still renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FIELD_TEXT = 2000
PLAIN_INPUT_INITIAL = 3000
MESSAGE_BLOCKS = 50
SECTION_FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
TOPIC_TEXT = 250

def cut(text: str, limit: int, note: str = "…") -> str:
    """``text`` if it fits, else its start and ``note`` within ``limit`` characters.

    The cut never splits an entity (``&amp;``) or a token (``<@U…>``, a date): a
    half entity would show as garbage and a half token as broken markup.
    """
    if len(text) <= limit:
        return text
    head = text[: max(0, limit - len(note))]
    opened = head.rfind("<")
    if opened > head.rfind(">"):  # inside a token: end before it
        head = head[:opened]
    amp = head.rfind("&", max(0, len(head) - 5))
    if amp >= 0 and ";" not in head[amp:]:  # inside an entity: the same
        head = head[:amp]
    return head.rstrip() + note


def more(count: int, what: str, where: str | None = None) -> str:
    """The line that says what did not fit: ``_… and 12 more findings (see …)_``."""
    pointer = f" ({where})" if where else ""
    return f"_… and {count} more {what}{pointer}_"


def bullet_list(items: Sequence[str], limit: int = SECTION_TEXT, *, what: str = "items",
                where: str | None = "see `/incident timeline`", line_limit: int = 500) -> str:
    """As many ``• item`` lines as fit in ``limit``, then a line saying how many were left out."""
    lines: list[str] = []
    used = 0
    for index, item in enumerate(items):
        line = f"• {cut(item, line_limit)}"
        left = len(items) - index
        note = more(left, what, where)
        if used + len(line) + 1 + (len(note) + 1 if left > 1 else 0) > limit:
            lines.append(note)
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def plain(text: str, limit: int | None = None) -> dict[str, object]:
    return {"type": "plain_text", "text": (cut(text, limit) if limit else text) or " ",
            "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit, "\n_… cut to fit Slack's limit_") or " ",
            "verbatim": True}


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": mrkdwn(text)}


def fields(*texts: str) -> dict[str, object]:
    """A section of up to ten short fields (two columns), each within Slack's 2,000."""
    return {"type": "section", "fields": [mrkdwn(t, FIELD_TEXT) for t in texts[:SECTION_FIELDS]]}


def context(*texts: str) -> dict[str, object]:
    return {"type": "context",
            "elements": [mrkdwn(t, 2000) for t in texts[:CONTEXT_ELEMENTS]]}


def fit_blocks(blocks: list[dict[str, Any]], limit: int = MESSAGE_BLOCKS, *,
               what: str = "sections") -> list[dict[str, Any]]:
    """``blocks`` within ``limit``: the last block that fits says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, context(more(len(blocks) - len(kept), what))]


def button(label: str, action_id: str, value: str, style: str | None = None
           ) -> dict[str, object]:
    element: dict[str, object] = {"type": "button", "text": plain(label, BUTTON_TEXT),
                                  "action_id": action_id[:255], "value": value[:BUTTON_VALUE]}
    if style:
        element["style"] = style
    return element
