"""What Slack would make of the text in a call: the live tokens, read as Slack reads them.

Slack parses ``<...>`` in every text it shows (message text, both kinds of text
object, topics) as a mention, a channel link, a date or a link; ``&lt;`` and
``&gt;`` are shown as characters and parse as nothing. This module is the
emulator's own reading, written from Slack's formatting reference and not from the
bot's escaping code, so a test that uses it checks the bot rather than repeating it.

:func:`texts_of` walks a call's arguments to every string Slack would display;
:func:`live_tokens` finds the tokens in one string; :func:`kind` says what a token
does (``broadcast`` pings everyone in the channel or workspace).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOKEN = re.compile(r"<([^<>]*)>")
BROADCASTS = ("!channel", "!here", "!everyone", "!group")
# Arguments shown to people as text; blocks, attachments and views are walked inside.
TEXT_ARGUMENTS = ("text", "topic", "purpose", "initial_comment", "title", "alt_text")
NESTED_ARGUMENTS = ("blocks", "attachments", "view")
# Keys inside blocks whose strings are never shown (ids, values, metadata).
HIDDEN_KEYS = {"action_id", "block_id", "value", "private_metadata", "callback_id",
               "external_id", "url", "image_url", "type", "style", "initial_value",
               "initial_option", "hash", "id", "team_id", "trigger_id", "response_url"}


@dataclass(frozen=True)
class LiveToken:
    """One token Slack would act on: which call, where in it, the token and what it does."""

    method: str
    where: str
    token: str
    kind: str


def kind(body: str) -> str:
    """What the token ``<body>`` does in Slack."""
    target = body.split("|", 1)[0]
    if target.split("^", 1)[0] in BROADCASTS:
        return "broadcast"
    if target.startswith("!subteam^"):
        return "group"
    if target.startswith("!date^"):
        return "date"
    if target.startswith("@"):
        return "user"
    if target.startswith("#"):
        return "channel"
    if target.startswith("!"):
        return "command"
    return "link"


def live_tokens(text: str) -> list[str]:
    """Every ``<...>`` token Slack would parse in ``text`` (escaped ones are not tokens)."""
    return [f"<{m.group(1)}>" for m in TOKEN.finditer(text)]


def _walk(value: Any, where: str, key: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in HIDDEN_KEYS:
                yield from _walk(item, f"{where}.{name}", name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]", key)
    elif isinstance(value, str) and key is not None:
        yield where, value


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def texts_of(args: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every string of a call that Slack would show a person."""
    for name in TEXT_ARGUMENTS:
        if isinstance(args.get(name), str):
            yield name, args[name]
    for name in NESTED_ARGUMENTS:
        nested = _decoded(args.get(name))
        if nested is not None:
            yield from _walk(nested, name)


def scan(method: str, args: dict[str, Any]) -> list[LiveToken]:
    """Every live token in the displayed text of one call."""
    return [LiveToken(method, where, token, kind(token[1:-1]))
            for where, text in texts_of(args) for token in live_tokens(text)]


def parses_bare_mentions(args: dict[str, Any]) -> bool:
    """True when the call asks Slack to turn bare ``@channel``/``@name`` words into mentions
    (``parse=full`` or ``link_names``): then even escaped data could ping people."""
    return (str(args.get("parse", "")).lower() == "full"
            or str(args.get("link_names", "")).lower() in ("1", "true"))
