"""The incident channel: created when an incident opens, kept in step as it changes.

Channel names follow ``<prefix>-<id>-<service>-<yyyymmdd>`` (prefix from the
catalog's ``slack.channel_prefix``, default ``inc``), lowercased, with every
character Slack refuses turned into ``-`` and cut to 80 characters; a taken name
gets ``-2``, ``-3``… An incident gets exactly one channel even when
``incident.opened`` fires twice or on two replicas: the ``slack_channel_claims``
row is inserted (unique per incident) before anything is created in Slack.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot import incident_service
from bot.slack_effects import SlackCallFailed, call, record_failure
from bot.views.incident import (
    alerts_notice_blocks,
    alerts_notice_text,
    channel_topic,
    incident_summary_blocks,
    incident_summary_text,
    owners_invited_text,
)
from store.db import session_scope
from store.models import Incident
from store.slack_models import SlackChannelClaim

log = logging.getLogger(__name__)

MAX_NAME = 80
MAX_SUFFIX_TRIES = 20


def channel_name(*, prefix: str, incident_id: int, service: str, opened: datetime) -> str:
    """The documented channel name, normalised to Slack's rules."""
    def clean(text: str) -> str:
        return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]", "-", text.lower())).strip("-_")

    head = clean(f"{prefix}-{incident_id}")
    tail = opened.strftime("%Y%m%d")
    room = MAX_NAME - len(head) - len(tail) - 2
    middle = clean(service)[:max(room, 0)].strip("-_")
    return "-".join(part for part in (head, middle, tail) if part)


def with_suffix(name: str, number: int) -> str:
    suffix = f"-{number}"
    return name[: MAX_NAME - len(suffix)].rstrip("-_") + suffix


# -- claims ------------------------------------------------------------------------------
def _claim(services: Any, incident_id: int) -> bool:
    """True if this caller won the right to create the incident's channel."""
    now = services.clock()
    try:
        with session_scope(services.engine) as session:
            session.add(SlackChannelClaim(incident_id=incident_id, state="creating",
                                          claimed_at=now))
        return True
    except IntegrityError:
        # A failed earlier attempt may be retried; a creating or ready one may not.
        with session_scope(services.engine) as session:
            result = session.execute(
                update(SlackChannelClaim)
                .where(SlackChannelClaim.incident_id == incident_id,  # type: ignore[arg-type]
                       SlackChannelClaim.state == "failed")  # type: ignore[arg-type]
                .values(state="creating", claimed_at=now, error=None))
            return bool(getattr(result, "rowcount", 0))


def _finish_claim(services: Any, incident_id: int, **values: Any) -> None:
    with session_scope(services.engine) as session:
        session.execute(update(SlackChannelClaim)
                        .where(SlackChannelClaim.incident_id == incident_id)  # type: ignore
                        .values(**values))


def _save_on_incident(services: Any, incident_id: int, **values: Any) -> None:
    with session_scope(services.engine) as session:
        session.execute(update(Incident).where(Incident.id == incident_id)  # type: ignore
                        .values(**values))


# -- steps -------------------------------------------------------------------------------
def _create_channel(services: Any, incident: Incident) -> tuple[str, str]:
    base = channel_name(prefix=services.catalog.slack.channel_prefix,
                        incident_id=incident.id or 0, service=incident.service,
                        opened=incident.created_at or services.clock())
    for number in range(1, MAX_SUFFIX_TRIES + 1):
        name = base if number == 1 else with_suffix(base, number)
        try:
            response = call(services.slack, "conversations_create", name=name)
            return response["channel"]["id"], name
        except SlackCallFailed as error:
            if error.code != "name_taken":
                raise
    raise SlackCallFailed("conversations_create", "name_taken")


def owners_to_invite(services: Any, service_name: str, label: str | None) -> list[str]:
    """The catalog owners of the failure class, with user groups expanded to members."""
    service = services.catalog.service(service_name)
    if service is None:
        return []
    owners = service.owners_for(label)
    users = list(owners.users)
    for group in owners.groups:
        response = call(services.slack, "usergroups_users_list", usergroup=group)
        users.extend(response.get("users", []))
    return list(dict.fromkeys(users))


def invite(services: Any, channel_id: str, users: list[str]) -> list[str]:
    """Invite those not yet in the channel; returns who was invited."""
    if not users:
        return []
    members = set(call(services.slack, "conversations_members", channel=channel_id)
                  .get("members", []))
    new = [u for u in users if u not in members]
    if not new:
        return []
    try:
        call(services.slack, "conversations_invite", channel=channel_id, users=",".join(new))
    except SlackCallFailed as error:
        if error.code != "already_in_channel":  # someone joined meanwhile: the others got in
            raise
    return new


def post_to_alerts_channel(services: Any, channel: str, text: str,
                           blocks: list[dict[str, Any]] | None = None) -> None:
    message: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
    try:
        call(services.slack, "chat_postMessage", channel=channel, **message)
    except SlackCallFailed as error:
        if error.code != "not_in_channel":
            raise
        call(services.slack, "conversations_join", channel=channel)
        call(services.slack, "chat_postMessage", channel=channel, **message)


def _summary_kwargs(services: Any, incident: Incident) -> dict[str, Any]:
    service = services.catalog.service(incident.service)
    return {"text": incident_summary_text(incident),
            "blocks": incident_summary_blocks(
                incident, public_url=services.settings.public_url,
                alerts_channel=service.alerts_channel if service else None)}


# -- flows -------------------------------------------------------------------------------
def open_incident_channel(services: Any, incident_id: int) -> str | None:
    """Create, populate and announce the incident's channel; returns its id.

    Returns None when Slack is not configured or another worker already owns the
    channel. Each failing step is recorded on the timeline and the rest go on.
    """
    if services.slack is None or not _claim(services, incident_id):
        return None
    incident = incident_service.get_incident(services, incident_id)
    try:
        channel_id, name = _create_channel(services, incident)
    except Exception as error:
        _finish_claim(services, incident_id, state="failed", error=str(error)[:500])
        record_failure(services, incident_id, "creating the incident channel", error)
        return None
    _save_on_incident(services, incident_id, slack_channel_id=channel_id,
                      slack_channel_name=name)
    _finish_claim(services, incident_id, state="ready", channel_id=channel_id, channel_name=name)
    incident_service.add_note(services, incident_id=incident_id, actor="bot:slack",
                              kind="slack_channel", text=f"Slack channel #{name} created")
    steps = [
        ("setting the channel topic", lambda: call(
            services.slack, "conversations_setTopic", channel=channel_id,
            topic=channel_topic(incident))),
        # the label as it is now: a diagnosis that landed after the channel was claimed
        # is read here, and one landing later finds the channel and invites its owners
        ("inviting the owners", lambda: invite(
            services, channel_id, owners_to_invite(
                services, incident.service,
                incident_service.get_incident(services, incident_id).behavior))),
        ("posting and pinning the summary", lambda: _post_summary(services, incident_id,
                                                                   channel_id)),
        ("announcing in the alerts channel", lambda: _announce(services, incident_id,
                                                                channel_id)),
    ]
    for what, step in steps:
        try:
            step()
        except Exception as error:
            record_failure(services, incident_id, what, error)
    return channel_id


def _post_summary(services: Any, incident_id: int, channel_id: str) -> None:
    incident = incident_service.get_incident(services, incident_id)
    posted = _summary_kwargs(services, incident)
    response = call(services.slack, "chat_postMessage", channel=channel_id, **posted)
    _save_on_incident(services, incident_id, slack_summary_ts=response["ts"])
    call(services.slack, "pins_add", channel=channel_id, timestamp=response["ts"])
    # A change committed while the summary was on its way (the diagnosis, typically:
    # it runs beside this flow) found no summary to edit, since its ts was not saved
    # yet. Catch up, or the pinned summary would show the incident without it.
    latest = incident_service.get_incident(services, incident_id)
    if _summary_kwargs(services, latest) != posted:
        refresh_summary(services, incident_id)


def _announce(services: Any, incident_id: int, channel_id: str) -> None:
    incident = incident_service.get_incident(services, incident_id)
    service = services.catalog.service(incident.service)
    if service and service.alerts_channel:
        post_to_alerts_channel(services, service.alerts_channel,
                               alerts_notice_text(incident, channel_id),
                               alerts_notice_blocks(incident, channel_id))


_LOCKS_GUARD = threading.Lock()


def _summary_lock(services: Any, incident_id: int) -> threading.Lock:
    """One lock per incident, for this process's refreshes of its summary."""
    with _LOCKS_GUARD:
        locks = services.extras.setdefault("slack_channels.summary_locks", {})
        return locks.setdefault(incident_id, threading.Lock())


def refresh_summary(services: Any, incident_id: int) -> bool:
    """Edit the pinned summary to the incident's current state (chat.update in place).

    Refreshes of one incident take turns, reading the incident inside the turn, so
    two changes in quick succession cannot leave the older state on the summary.
    """
    if services.slack is None:
        return False
    with _summary_lock(services, incident_id):
        incident = incident_service.get_incident(services, incident_id)
        if not (incident.slack_channel_id and incident.slack_summary_ts):
            return False
        try:
            call(services.slack, "chat_update", channel=incident.slack_channel_id,
                 ts=incident.slack_summary_ts, **_summary_kwargs(services, incident))
            return True
        except SlackCallFailed as error:
            record_failure(services, incident_id, "updating the summary", error)
            return False


def invite_new_owners(services: Any, incident_id: int, *, by: str = "Relabelled") -> list[str]:
    incident = incident_service.get_incident(services, incident_id)
    if services.slack is None or not incident.slack_channel_id:
        return []
    try:
        invited = invite(services, incident.slack_channel_id,
                         owners_to_invite(services, incident.service, incident.behavior))
    except SlackCallFailed as error:
        record_failure(services, incident_id, "inviting the new owners", error)
        return []
    if invited:
        call(services.slack, "chat_postMessage", channel=incident.slack_channel_id,
             text=owners_invited_text(by, incident.behavior, invited))
    return invited


# -- event handlers ----------------------------------------------------------------------
def on_opened(*, services: Any, incident_id: int, **_: Any) -> None:
    open_incident_channel(services, incident_id)


def on_changed(*, services: Any, incident_id: int, **_: Any) -> None:
    refresh_summary(services, incident_id)


def on_relabelled(*, services: Any, incident_id: int, **_: Any) -> None:
    invite_new_owners(services, incident_id)
    refresh_summary(services, incident_id)


def on_classified(*, services: Any, incident_id: int, **_: Any) -> None:
    """The owners of the class the classifier found join; the summary shows the diagnosis."""
    invite_new_owners(services, incident_id, by="Classified")
    refresh_summary(services, incident_id)


def subscribe(services: Any) -> None:
    """Register the channel handlers (once per Services, however often it is called)."""
    if services.extras.get("slack_channels.subscribed"):
        return
    services.extras["slack_channels.subscribed"] = True
    services.events.subscribe("incident.opened", on_opened)
    services.events.subscribe("incident.changed", on_changed)
    services.events.subscribe("incident.relabelled", on_relabelled)
    services.events.subscribe("incident.classified", on_classified)

