"""``/oncall`` and ``/silence``: who holds the pager, overrides and swaps, silences.

The ack function parses (a bad command gets its usage at once); the work resolves
the reader's time zone with ``users.info``, calls the on-call or silence service, and
answers through ``response_url``: ephemeral for lookups, in the channel for changes.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.clock import utcnow
from bot.core.errors import UserError
from bot.core.services import Services
from bot.oncall import service as oncall
from bot.silences import service as silences
from bot.slack.listeners.common import (
    Payload,
    Reply,
    acked,
    actor,
    error_reply,
    private,
    said,
    usage_ack,
)
from bot.slack.listeners.oncall_parsing import (
    ONCALL_USAGE,
    SILENCE_USAGE,
    OncallCommand,
    parse_oncall,
    parse_silence,
)
from bot.slack.listeners.parsing import UsageError
from bot.views.markup import date, escape
from bot.views.markup import user as mention
from bot.views.oncall import OnCallRow, oncall_blocks, silence_blocks

UTC_ZONE = ZoneInfo("UTC")


def reader_zone(client: WebClient, user: str) -> ZoneInfo:
    """The Slack user's own time zone (``users.info``), UTC when Slack does not say."""
    try:
        profile: dict[str, Any] = client.users_info(user=user).get("user") or {}
        name = profile.get("tz") or "UTC"
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return UTC_ZONE
    except Exception:  # Slack unreachable: still answer, in UTC
        return UTC_ZONE


def ack_oncall(ack: Ack, command: Payload) -> None:
    try:
        parsed = parse_oncall(command.get("text", ""), utcnow(), UTC_ZONE)
    except UsageError as error:
        usage_ack(ack, ONCALL_USAGE, str(error))  # escaped: the error quotes what was typed
        return
    if parsed.action == "help":
        usage_ack(ack, ONCALL_USAGE)
        return
    ack()


def _one_schedule(services: Services, target: str | None) -> str:
    names = oncall.schedule_names(services)
    if target is not None:
        return target
    if len(names) == 1:
        return names[0]
    raise UserError(f"which schedule? ({', '.join(names) or 'none in the catalog'})")


def run_oncall(command: Payload, client: WebClient, respond: Respond, *,
               services: Services) -> None:
    user = command["user_id"]
    try:
        parsed = parse_oncall(command.get("text", ""), services.clock(), reader_zone(client, user))
        if parsed.action == "help":
            return
        if parsed.action == "show":
            rows = [OnCallRow(name, *oncall.now_and_next(services, name))
                    for name in oncall.schedules_for(services, parsed.target)]
            respond(**private("On call", oncall_blocks(rows)))
        elif parsed.action == "override":
            respond(**_override(services, parsed, user))
        else:
            respond(**_swap(services, parsed, user))
    except (UserError, UsageError) as error:
        respond(**error_reply(error))


def _override(services: Services, parsed: OncallCommand, user: str) -> Reply:
    schedule = _one_schedule(services, parsed.target)
    assert parsed.user is not None and parsed.until is not None  # parse_oncall's contract
    shift = oncall.add_override(services, schedule=schedule, user=parsed.user,
                                until=parsed.until, set_by=user, reason=parsed.reason)
    return said(f"{mention(user)} set an override: {mention(shift.user)} is on call for "
                f"{escape(schedule)} until {date(shift.end)}")


def _swap(services: Services, parsed: OncallCommand, user: str) -> Reply:
    schedule = _one_schedule(services, parsed.target)
    assert parsed.user is not None  # parse_oncall's contract
    made = oncall.swap(services, schedule=schedule, user=parsed.user, set_by=user)
    text = (f"{mention(user)} swapped {escape(schedule)}: {mention(parsed.user)} is on call until "
            f"{date(made.current.end)}")
    if made.theirs is not None:
        text += (f"; {mention(made.current.user)} takes their shift from "
                 f"{date(made.theirs.start)} to {date(made.theirs.end)}")
    return said(text)


def ack_silence(ack: Ack, command: Payload) -> None:
    try:
        parsed = parse_silence(command.get("text", ""))
    except UsageError as error:
        usage_ack(ack, SILENCE_USAGE, str(error))  # escaped: the error quotes what was typed
        return
    if parsed.action == "help":
        usage_ack(ack, SILENCE_USAGE)
        return
    ack()


def run_silence(command: Payload, respond: Respond, *, services: Services) -> None:
    user = command["user_id"]
    try:
        parsed = parse_silence(command.get("text", ""))
        now = services.clock()
        if parsed.action == "list":
            respond(**private("Silences", silence_blocks(silences.list_silences(services, now),
                                                          now)))
        elif parsed.action == "end":
            ended = silences.end_silence(services, parsed.silence_id or 0)
            respond(**said(f"{mention(user)} ended silence #{ended.id}"))
        elif parsed.action == "create":
            made = silences.create_silence(services, matchers=parsed.matchers,
                                           duration=parsed.duration, comment=parsed.comment,
                                           created_by=actor(user))
            respond(**private(f"Silence #{made.id} set", silence_blocks([made], now)))
    except UserError as error:
        respond(**error_reply(error))


def register(app: App, services: Services) -> None:
    app.command("/oncall")(acked(services, ack_oncall, partial(run_oncall, services=services)))
    app.command("/silence")(acked(services, ack_silence,
                                  partial(run_silence, services=services)))
