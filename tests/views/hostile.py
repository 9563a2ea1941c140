"""Hostile text and the check that none of it reached Slack as markup.

``FRAGMENTS`` are the pieces an alert source (or a person) can use to ping, link or
break formatting; :func:`hostile_text` strings them together with random text.
:func:`live_tokens_in` reads a payload as Slack would (the emulator's reader, not the
bot's escaping), and :func:`foreign_tokens` keeps those the bot did not mean to make.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from bot.devtools.slack_emulator.markup import live_tokens, texts_of

ISSUE_14_SUMMARY = ("<!channel> <!here> <@U0EVIL001> <!subteam^S0EVIL01> "
                    "<https://evil.example|Click to re-authenticate>")
FRAGMENTS = [
    "<!channel>", "<!here>", "<!everyone>", "<!group>", "<@U0EVIL001>", "<@U0EVIL001|boss>",
    "<@W0EVIL002>", "<!subteam^S0EVIL01>", "<!subteam^S0EVIL01|@sre>", "<#C0EVIL001>",
    "<#C0EVIL001|general>", "<https://evil.example|Click to re-authenticate>",
    "<https://evil.example>", "<mailto:x@evil.example|mail>", "<!date^1^{date}^https://evil|x>",
    "&", "&lt;", "&gt;", "&amp;", "<", ">", "|", "`", "```", "*", "_", "~", "\n", ":",
    "<<!channel>>", "<!channel", "!channel>", "@channel", "@here", "\u202e", "\x00",
    ISSUE_14_SUMMARY,
]


def hostile_text(max_parts: int = 6) -> st.SearchStrategy[str]:
    part = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12))
    return st.lists(part, min_size=1, max_size=max_parts).map("".join)


# The tokens the bot makes on purpose in these tests: dates with a digits-only fallback
# (no link part), the catalog's people and channels, the bot's own record link.
BOT_DATE = re.compile(r"^<!date\^\d+\^(\{[a-z_]+\}[ ]?)+\|[0-9: UTC-]+>$")


def live_tokens_in(payload: Any) -> list[tuple[str, str]]:
    """(where, token) for every token Slack would act on in a message, view or text."""
    if isinstance(payload, str):
        args: dict[str, Any] = {"text": payload}
    elif isinstance(payload, list):
        args = {"blocks": payload}
    elif payload.get("type") in ("modal", "home"):
        args = {"view": payload}
    else:
        args = payload
    return [(where, token) for where, text in texts_of(args) for token in live_tokens(text)]


def foreign_tokens(payload: Any, allowed: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The live tokens that are not the bot's own: each one is hostile text let through."""
    mine = set(allowed)
    return [(where, token) for where, token in live_tokens_in(payload)
            if token not in mine and not BOT_DATE.match(token)]
