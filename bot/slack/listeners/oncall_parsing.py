"""``/oncall`` and ``/silence`` text to typed requests, or a usage error saying why.

Pure, like :mod:`bot.slack.listeners.parsing`: the ack function refuses a bad command at
once. Times a person types are read in their own time zone (Slack tells it with the
user), so "until 17:00" means five in the afternoon where they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.slack.listeners.parsing import UsageError

ONCALL_USAGE = """*`/oncall`*: who is on call
• `/oncall` every schedule, now and next
• `/oncall <schedule | failure class>` one schedule, or the schedules of a class
• `/oncall override @user [schedule] until <17:00 | tomorrow 09:00 | 2026-12-02T09:00Z>`
  or `for <8h | 90m | 2d>` [reason]
• `/oncall swap @user [schedule]` @user takes the rest of the current shift, and the
  person on call now takes @user's next one"""

SILENCE_USAGE = """*`/silence`*: keep matching alerts from paging
• `/silence <matchers> for <2h | 30m | 1d> <reason>` e.g.
  `/silence service="rag-assistant", alertname=~"Ground.*" for 2h re-indexing`
• `/silence list` the silences in force
• `/silence end <id>` end one now"""

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d)$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class OncallCommand:
    action: str  # show | override | swap | help
    target: str | None = None   # schedule name or failure class (show), schedule (others)
    user: str | None = None
    until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class SilenceCommand:
    action: str  # create | list | end | help
    matchers: str = ""
    duration: timedelta | None = None
    comment: str = ""
    silence_id: int | None = None


def duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise UsageError(f"{text!r} is not a duration like 30m, 2h or 1d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def moment(words: list[str], now: datetime, zone: ZoneInfo) -> datetime:
    """``17:00``, ``tomorrow 09:00`` (reader's zone) or an RFC 3339 time with its offset."""
    text = " ".join(words).strip()
    tomorrow = text.lower().startswith("tomorrow")
    clock = _CLOCK.match(text.split()[-1]) if text else None
    if clock and (tomorrow or len(text.split()) == 1):
        local_now = now.astimezone(zone)
        at = local_now.replace(hour=int(clock[1]), minute=int(clock[2]), second=0,
                               microsecond=0)
        if tomorrow:
            at += timedelta(days=1)
        elif at <= local_now:
            at += timedelta(days=1)  # "until 08:00" at 22:00 means tomorrow morning
        return at.astimezone(now.tzinfo)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r} is not a time: use 17:00, tomorrow 09:00 or "
                         "2026-12-02T09:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(now.tzinfo)


def parse_oncall(text: str, now: datetime, zone: ZoneInfo) -> OncallCommand:
    words = text.split()
    if not words:
        return OncallCommand("show")
    head = words[0].lower()
    if head == "help":
        return OncallCommand("help")
    if head not in ("override", "swap"):
        if len(words) > 1:
            raise UsageError(f"`/oncall {head}` takes one schedule or failure class")
        return OncallCommand("show", target=words[0])
    mention = _USER.match(words[1]) if len(words) > 1 else None
    if mention is None:
        raise UsageError(f"`/oncall {head}` needs a person: `/oncall {head} @someone ...`")
    user = mention[1]
    rest = words[2:]
    schedule = None
    if rest and rest[0].lower() not in ("until", "for"):
        schedule, rest = rest[0], rest[1:]
    if head == "swap":
        if rest:
            raise UsageError("`/oncall swap @user [schedule]` takes nothing more")
        return OncallCommand("swap", target=schedule, user=user)
    if not rest or rest[0].lower() not in ("until", "for"):
        raise UsageError("say how long: `until 17:00` or `for 8h`")
    if rest[0].lower() == "for":
        if len(rest) < 2:
            raise UsageError("`for` needs a duration like 8h")
        until = now + duration(rest[1])
        reason = " ".join(rest[2:])
    else:
        time_words = rest[1:3] if len(rest) > 2 and rest[1].lower() == "tomorrow" else rest[1:2]
        if not time_words:
            raise UsageError("`until` needs a time like 17:00")
        until = moment(time_words, now, zone)
        reason = " ".join(rest[1 + len(time_words):])
    if until <= now:
        raise UsageError("that time has passed")
    return OncallCommand("override", target=schedule, user=user, until=until, reason=reason)


def parse_silence(text: str) -> SilenceCommand:
    stripped = text.strip()
    words = stripped.split()
    if not words or words[0].lower() == "help":
        return SilenceCommand("help")
    if words[0].lower() in ("list", "ls") and len(words) == 1:
        return SilenceCommand("list")
    if words[0].lower() == "end":
        if len(words) != 2 or not words[1].lstrip("#").isdigit() or len(words[1]) > 12:
            raise UsageError("`/silence end <id>`, e.g. `/silence end 4`")
        return SilenceCommand("end", silence_id=int(words[1].lstrip("#")))
    split = _split_for(stripped)
    if split is None:
        raise UsageError("say how long: `/silence <matchers> for 2h <reason>`")
    matchers, length, comment = split
    if not comment:
        raise UsageError("say why after the duration: `... for 2h re-indexing`")
    return SilenceCommand("create", matchers=matchers, duration=duration(length),
                          comment=comment)


def _split_for(text: str) -> tuple[str, str, str] | None:
    """Matchers, duration and comment around the last `` for <duration>`` outside quotes."""
    quoted, escaped, found = False, False, None
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char.isspace():
            match = re.match(r"\s+for\s+(\d{1,4}\s*(?:m|min|h|d))(?=\s|$)", text[index:])
            if match:
                found = (text[:index].strip(), match[1], text[index + match.end():].strip())
    if found is None or not found[0]:
        return None
    comment = re.sub(r"^(reason|because)\b:?\s*|^:\s*", "", found[2], flags=re.IGNORECASE)
    return found[0], found[1], comment
