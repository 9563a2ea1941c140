"""The state of the emulated workspace: users, user groups, channels, messages, pins,
reactions, files and open views, plus a per-channel activity log for transcripts.

Operations raise ``SlackError`` with the error code Slack would return; the HTTP
layer turns it into ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.devtools.slack_emulator.limits import MAX_MESSAGE_TEXT, channel_name_error


class SlackError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class Message:
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    edits: int = 0
    thread_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    is_private: bool = False
    is_im: bool = False
    topic: str = ""
    purpose: str = ""
    members: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)

    def message(self, ts: str) -> Message:
        for message in self.messages:
            if message.ts == ts:
                return message
        raise SlackError("message_not_found")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "is_channel": not self.is_private,
                "is_private": self.is_private, "is_im": self.is_im, "creator": self.creator,
                "created": int(self.created), "is_member": True,
                "topic": {"value": self.topic}, "purpose": {"value": self.purpose},
                "num_members": len(self.members)}


@dataclass
class Activity:
    """One line of a channel's story, for the transcript."""

    at: float
    actor: str
    kind: str  # created, topic, joined, invited, message, updated, pinned, reaction, click, ...
    text: str = ""
    ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)


class Workspace:
    def __init__(self, *, bot_user: str = "U0BOT00001", team: str = "T0RESILIO") -> None:
        self.lock = threading.RLock()
        self.team = team
        self.bot_user = bot_user
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, float] = {}
        self.activity: dict[str, list[Activity]] = {}
        self._ids = itertools.count(1)
        self._ts_seq = itertools.count(1)
        self.add_user(bot_user, "resilio", is_bot=True)

    # -- setup ---------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_seq):06d}"

    def add_user(self, user_id: str, name: str | None = None, *, is_bot: bool = False,
                 tz: str = "UTC") -> None:
        with self.lock:
            self.users[user_id] = {"id": user_id, "name": name or user_id.lower(),
                                   "is_bot": is_bot, "team_id": self.team,
                                   "real_name": name or user_id, "tz": tz}

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        with self.lock:
            for member in members:
                self.users.setdefault(member, {"id": member, "name": member.lower(),
                                               "is_bot": False, "team_id": self.team})
            self.usergroups[group_id] = {"id": group_id, "handle": handle,
                                         "users": list(members)}

    def add_channel(self, name: str, *, channel_id: str | None = None,
                    members: list[str] | None = None) -> Channel:
        """A pre-existing channel (alerts channels), with the bot as member by default."""
        with self.lock:
            channel = Channel(id=channel_id or self.next_id("C"), name=name,
                              creator="U0ADMIN001",
                              members=set(members if members is not None else [self.bot_user]))
            self.channels[channel.id] = channel
            self.activity.setdefault(channel.id, [])
            return channel

    def note(self, channel_id: str, actor: str, kind: str, text: str = "", *,
             ts: str | None = None, blocks: list[dict[str, Any]] | None = None) -> None:
        self.activity.setdefault(channel_id, []).append(
            Activity(time.time(), actor, kind, text, ts, list(blocks or [])))

    # -- lookups -------------------------------------------------------------------------
    def channel(self, channel_id: str | None) -> Channel:
        channel = self.channels.get(channel_id or "")
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def member_channel(self, channel_id: str | None, caller: str) -> Channel:
        """A channel the caller may post in: a DM target opens an IM on the fly."""
        if channel_id and channel_id in self.users and channel_id not in self.channels:
            return self.open_im(caller, channel_id)
        channel = self.channel(channel_id)
        if caller not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def open_im(self, caller: str, user: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.members == {caller, user}:
                return channel
        channel = Channel(id=self.next_id("D"), name=user, creator=caller, is_im=True,
                          members={caller, user})
        self.channels[channel.id] = channel
        return channel

    def user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    # -- operations ----------------------------------------------------------------------
    def create_channel(self, caller: str, name: str, is_private: bool) -> Channel:
        error = channel_name_error(name)
        if error:
            raise SlackError(error)
        if any(c.name == name for c in self.channels.values() if not c.is_im):
            raise SlackError("name_taken")
        channel = Channel(id=self.next_id("G" if is_private else "C"), name=name,
                          creator=caller, is_private=is_private, members={caller})
        self.channels[channel.id] = channel
        self.note(channel.id, caller, "created", f"#{name}")
        return channel

    def invite(self, caller: str, channel_id: str, users: list[str]) -> Channel:
        channel = self.channel(channel_id)
        if caller not in channel.members:
            raise SlackError("not_in_channel")
        if not users:
            raise SlackError("no_user")
        for user in users:
            self.user(user)
            if user == caller:
                raise SlackError("cant_invite_self")
        new = [u for u in users if u not in channel.members]
        if not new:
            raise SlackError("already_in_channel",
                             errors=[{"user": u, "ok": False, "error": "already_in_channel"}
                                     for u in users])
        channel.members.update(new)
        self.note(channel.id, caller, "invited", ", ".join(new))
        if len(new) < len(users):
            raise SlackError("already_in_channel",
                             errors=[{"user": u, "ok": False, "error": "already_in_channel"}
                                     for u in users if u not in new])
        return channel

    def post(self, caller: str, channel_id: str, text: str, blocks: list[dict[str, Any]],
             thread_ts: str | None = None) -> tuple[Channel, Message]:
        channel = self.member_channel(channel_id, caller)
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        message = Message(self.next_ts(), caller, text, blocks, thread_ts=thread_ts)
        channel.messages.append(message)
        self.note(channel.id, caller, "message", text, ts=message.ts, blocks=blocks)
        return channel, message

    def update(self, caller: str, channel_id: str, ts: str, text: str | None,
               blocks: list[dict[str, Any]] | None) -> tuple[Channel, Message]:
        channel = self.channel(channel_id)
        message = channel.message(ts)
        if message.user != caller:
            raise SlackError("cant_update_message")
        if text is not None and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.edits += 1
        self.note(channel.id, caller, "updated", message.text, ts=ts, blocks=message.blocks)
        return channel, message

    def pin(self, caller: str, channel_id: str, ts: str) -> None:
        channel = self.member_channel(channel_id, caller)
        channel.message(ts)
        if ts in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.append(ts)
        self.note(channel.id, caller, "pinned", ts=ts)

    def react(self, caller: str, channel_id: str, ts: str, name: str) -> Message:
        channel = self.channel(channel_id)
        message = channel.message(ts)
        users = message.reactions.setdefault(name, [])
        if caller in users:
            raise SlackError("already_reacted")
        users.append(caller)
        self.note(channel.id, caller, "reaction", f":{name}:", ts=ts)
        return message

    def issue_trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        self.triggers[trigger] = time.monotonic()
        return trigger

    def use_trigger(self, trigger_id: str, lifetime: float = 3.0) -> None:
        issued = self.triggers.pop(trigger_id, None)
        if issued is None or time.monotonic() - issued > lifetime:
            raise SlackError("expired_trigger_id")
