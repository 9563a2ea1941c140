"""Block Kit for ``/oncall`` and ``/silence``: who holds the pager, what is silenced.

Times are Slack date tokens, so each reader sees them in their own time zone; the
fallback after ``|`` is UTC for clients that cannot render tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.config.oncall_schedule import PagePlan, Shift, Target
from bot.views.markup import actor, code, date, escape, group, user
from bot.views.text import MESSAGE_BLOCKS, context, cut, section


@dataclass(frozen=True)
class OnCallRow:
    schedule: str
    now: Shift | None
    next: Shift | None


class SilenceShown(Protocol):
    """What the silence list reads of a silence (``bot.silences.silence.Silence``)."""

    # read-only (properties), so a frozen dataclass's fields satisfy them
    @property
    def id(self) -> int | None: ...
    @property
    def matchers(self) -> Sequence[object]: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def created_by(self) -> str: ...
    @property
    def comment(self) -> str: ...

    def state(self, now: datetime) -> str: ...


def oncall_blocks(rows: Sequence[OnCallRow], title: str = "On call") -> list[dict[str, object]]:
    if not rows:
        return [section("No on-call schedules in the catalog (`schedules:`).")]
    blocks: list[dict[str, object]] = [section(f"*{escape(title)}*")]
    for row in rows[: MESSAGE_BLOCKS - 2]:
        if row.now is None:
            now = "nobody right now"
        else:
            via = " (override)" if row.now.source == "override" else ""
            now = f"{user(row.now.user)}{via} until {date(row.now.end)}"
        upcoming = (f"next {user(row.next.user)} from {date(row.next.start)}"
                    if row.next else "no next shift in the next 60 days")
        blocks.append(section(f"*{escape(row.schedule)}*: {now}\n{upcoming}"))
    if len(rows) > MESSAGE_BLOCKS - 2:
        blocks.append(context(f"…and {len(rows) - (MESSAGE_BLOCKS - 2)} more schedules"))
    return blocks


def silence_blocks(silences: Sequence[SilenceShown], now: datetime) -> list[dict[str, object]]:
    live = [s for s in silences if s.state(now) != "expired"]
    if not live:
        return [section("No silences in force or pending.")]
    blocks: list[dict[str, object]] = [section("*Silences*")]
    for silence in live[: MESSAGE_BLOCKS - 2]:
        matchers = ", ".join(str(m) for m in silence.matchers)
        when = (f"until {date(silence.ends_at)}" if silence.state(now) == "active"
                else f"from {date(silence.starts_at)} to {date(silence.ends_at)}")
        blocks.append(section(
            f"*#{silence.id}* {code(matchers)} {when}\n"
            f"by {actor(silence.created_by)}: {escape(silence.comment)}"))
    if len(live) > MESSAGE_BLOCKS - 2:
        blocks.append(context(f"…and {len(live) - (MESSAGE_BLOCKS - 2)} more"))
    return blocks


def on_call_text(plan: PagePlan) -> str:
    """Who is paged first and why, and who else owns the class but is not paged."""
    first = ", ".join(_target(t) + f" ({escape(t.why)})" for t in plan.first)
    text = f":pager: Paged for this incident: {first}" if first else ""
    if plan.listed:
        text += ("\n" if text else "") + "Other owners, not paged: " + \
            ", ".join(user(u) for u in plan.listed)
    return cut(text, 3000)


def _target(target: Target) -> str:
    return user(target.id) if target.kind == "user" else group(target.id)
