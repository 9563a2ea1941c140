"""Slack markup: text the bot did not write made inert, and the bot's own mentions and links.

Slack reads ``&``, ``<`` and ``>`` as control characters in every text it shows:
message text, ``mrkdwn`` and ``plain_text`` objects, channel topics ("all text in
Slack uses the same system of escaping"). ``<...>`` is how a message pings
(``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U…>``, ``<!subteam^S…>``), links a
channel (``<#C…>``) or plants a link whose label hides where it goes
(``<https://evil.example|Click to re-authenticate>``). So:

- every piece of text that came from outside (alert labels and annotations, signal
  and change fields, runbook output, what people typed) passes through
  :func:`escape` where it is put into a message, and nowhere else is escaped;
- the bot's own markup is made only by :func:`user`, :func:`group`, :func:`channel`,
  :func:`link` and :func:`date`, which check what they are given, so an id read from
  a stored record cannot smuggle a token in either;
- text Slack sends us (slash commands, messages read back) is turned into plain text
  by :func:`plain_from_slack` before it is stored, so what is stored is data and the
  one escape on the way out is right.

mrkdwn's ``*_~`` marks are left alone in prose (they cannot ping or link, and an alert
that writes ``*all* tenants`` means it); identifiers go in :func:`code`, where a
backtick in the data cannot close the span.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# C0 controls but tab and newline: invisible, and some make Slack refuse the payload.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{1,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{1,30}$")
_URL = re.compile(r"^https?://[^\s<>|]+$")
_BACKTICK_LOOKALIKE = "\u02cb"  # ˋ modifier letter grave accent


def escape(text: Any) -> str:
    """``text`` as Slack shows it literally: ``&``, ``<`` and ``>`` as entities.

    The one escaping function for Slack text (Slack's documented escaping, and only
    those three characters: other entities would be shown as typed). ``None`` is the
    empty string; control characters other than tab and newline are dropped.
    """
    if text is None:
        return ""
    # chained replace runs in C; str.translate with a mapping is ~20x slower on long text
    plain = _CONTROLS.sub("", str(text))
    return plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: Any) -> str:
    """``text`` as inline code: escaped, on one line, a backtick in it unable to end the span."""
    inner = escape(text).replace("`", _BACKTICK_LOOKALIKE).replace("\n", " ").strip()
    return f"`{inner or ' '}`"


def user(user_id: Any) -> str:
    """A mention of the Slack user ``user_id`` (``<@U…>``); anything else is shown as text."""
    value = str(user_id or "")
    return f"<@{value}>" if _USER_ID.match(value) else escape(f"@{value}")


def group(group_id: Any) -> str:
    """A mention of the Slack user group ``group_id`` (``<!subteam^S…>``), else text."""
    value = str(group_id or "")
    return f"<!subteam^{value}>" if _GROUP_ID.match(value) else escape(f"@{value}")


def channel(channel_id: Any) -> str:
    """A link to the channel ``channel_id`` (``<#C…>``), else its text."""
    value = str(channel_id or "")
    return f"<#{value}>" if _CHANNEL_ID.match(value) else escape(f"#{value}")


def link(url: Any, label: Any) -> str:
    """``<url|label>`` for an http(s) URL the bot chose (its own public URL); else the label."""
    target = str(url or "")
    if not _URL.match(target):
        return escape(label)
    shown = escape(label).replace("|", "\u2223")  # ∣: a bar would end the URL part
    return f"<{escape(target)}|{shown}>"


def actor(name: Any) -> str:
    """Who did something, as the timeline records it: ``slack:U…`` is that person's mention,
    anything else (``alert:alertmanager``, ``classifier``, ``api``) is shown as text."""
    value = str(name or "?")
    return user(value[6:]) if value.startswith("slack:") else escape(value)


_NAMED = re.compile(r"&lt;(@[UW][A-Z0-9]{1,30}|!subteam\^S[A-Z0-9]{1,30})&gt;")


def error(message: Any) -> str:
    """An error for the one person who caused it (ephemeral replies, refusal modals).

    Escaped like any text, except that a person's or a user group's mention survives:
    the bot's refusals name who may approve (``members of <!subteam^S…>``). Broadcasts,
    channel links and links stay inert, and an ephemeral mention notifies nobody.
    """
    return _NAMED.sub(r"<\1>", escape(message))


DATE_FORMAT = "{date_short_pretty} {time}"


def date(moment: datetime, fmt: str = DATE_FORMAT, *, fallback: str | None = None) -> str:
    """A Slack date token: each reader sees ``moment`` in their own time zone.

    ``fmt`` uses Slack's tokens (``{date_short_pretty}``, ``{time}``, ``{date_num}``...);
    the fallback, shown where tokens are not rendered (notifications, old clients),
    is the time in UTC, to the minute.
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    shown = fallback if fallback is not None else aware.astimezone(UTC).strftime(
        "%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{fmt}|{escape(shown)}>"


# -- text from Slack ----------------------------------------------------------------------
_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _plain_token(body: str) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else f"@{label or target[9:]}"
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):
        return f"@{label or target[1:]}"
    return f"{label} ({target})" if label and label != target else target


def plain_from_slack(text: str | None) -> str:
    """What a person typed, from the escaped form Slack sends (slash commands, messages).

    Mentions become ``@name`` (or ``@U…`` when Slack gave no name), channel links
    ``#name``, links ``label (url)``, and the three entities their characters: plain
    data to store, escaped again only when it is shown in Slack.
    """
    if not text:
        return ""
    plain = _TOKEN.sub(lambda m: _plain_token(m.group(1)), text)
    for entity, char in _ENTITIES:
        plain = plain.replace(entity, char)
    return plain
