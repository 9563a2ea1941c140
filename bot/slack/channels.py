"""The incident channel: created when an incident opens, kept in step as it changes.

Channel names follow ``<prefix>-<id>-<service>-<yyyymmdd>`` (prefix from the
catalog's ``slack.channel_prefix``, default ``inc``), lowercased, with every
character Slack refuses turned into ``-`` and cut to 80 characters; a taken name
gets ``-2``, ``-3``… An incident gets exactly one channel even when
``incident.opened`` fires twice or on two replicas: the ``slack_channel_claims``
row is inserted (unique per incident) before anything is created in Slack. The
claim also records how far the set-up got (``creating``, ``ready``, ``complete``),
so the outbox's retry after a crash finishes the set-up instead of starting over.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.exc import IntegrityError

from bot import runbook_runs
from bot.core.outbox import RetryLater
from bot.core.runner_identity import RUNNER, gone
from bot.core.services import Services
from bot.core.slack_api import SlackCallFailed, call, expand
from bot.incidents import service as incident_service
from bot.oncall import service as oncall
from bot.views.incident import (
    alerts_notice_blocks,
    alerts_notice_text,
    alerts_resolved_blocks,
    alerts_resolved_text,
    channel_topic,
    incident_summary_blocks,
    incident_summary_text,
    owners_invited_text,
)
from bot.views.oncall import on_call_text
from store import queries
from store import slack_queries as claims
from store.db import session_scope
from store.models import Incident

log = logging.getLogger(__name__)

MAX_NAME = 80
MAX_SUFFIX_TRIES = 20
# A "creating" claim this old lost its worker (another host, silent): take it over.
CREATING_STALE = timedelta(minutes=2)


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
@dataclass(frozen=True)
class Claim:
    """What this worker may do with the incident's channel.

    ``create``: make it; ``take_over``: make it, adopting the channel a dead worker
    made before it could save it; ``resume``: it exists (``channel_id``), finish
    setting it up; ``complete``: nothing left to do.
    """

    action: str
    channel_id: str | None = None
    channel_name: str | None = None


def _claim(services: Services, incident_id: int) -> Claim:
    """Claim the incident's channel in the database; raises RetryLater while another
    live worker is creating it."""
    now = services.clock()
    try:
        with session_scope(services.engine) as session:
            claims.add_claim(session=session, incident_id=incident_id, now=now, runner=RUNNER)
        return Claim("create")
    except IntegrityError:
        pass
    with session_scope(services.engine) as session:
        claim = claims.get_claim(session=session, incident_id=incident_id)
        if claim.state in ("ready", "complete"):
            action = "resume" if claim.state == "ready" else "complete"
            return Claim(action, claim.channel_id, claim.channel_name)
        # A failed earlier attempt may be retried; a creating one only once its worker
        # is gone (its pid has exited on this host, or it has been silent too long).
        abandoned = claim.state == "creating" and (
            gone(claim.claimed_by) or claim.claimed_at < now - CREATING_STALE)
        if claim.state != "failed" and not abandoned:
            raise RetryLater(f"the channel of incident {incident_id} is being created by "
                             f"{claim.claimed_by}")
        if not claims.take_claim(session=session, claim=claim, now=now, runner=RUNNER):
            raise RetryLater(f"another worker took the channel of incident {incident_id}")
    return Claim("take_over" if abandoned else "create")


def _finish_claim(services: Services, incident_id: int, **values: Any) -> None:
    with session_scope(services.engine) as session:
        claims.update_claim(session=session, incident_id=incident_id, **values)


def _save_on_incident(services: Services, incident_id: int, **values: Any) -> None:
    with session_scope(services.engine) as session:
        queries.update_incident(session=session, incident_id=incident_id, **values)


# -- steps -------------------------------------------------------------------------------
def _create_channel(services: Services, incident: Incident, *,
                    adopt: bool = False) -> tuple[str, str]:
    """Create the channel under the first free name; with ``adopt`` (taking over from a
    worker that died mid-way) a channel of ours already under a candidate name is it."""
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
            made = _channel_we_made(services, name) if adopt else None
            if made is not None:
                return made, name
    raise SlackCallFailed("conversations_create", "name_taken")


def _channel_we_made(services: Services, name: str) -> str | None:
    """The id of the channel called ``name`` if the bot made it (is its creator)."""
    me = call(services.slack, "auth_test").get("user_id")
    cursor = None
    for _ in range(50):  # pages of 1,000 channels
        response = call(services.slack, "conversations_list", limit=1000, cursor=cursor,
                        exclude_archived=True, types="public_channel,private_channel")
        for channel in response.get("channels", []):
            if channel.get("name") == name and channel.get("creator") == me:
                return str(channel["id"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def owners_to_invite(services: Services, service_name: str, label: str | None) -> list[str]:
    """Who the page plan pages first for the class (on call, else every owner), with user
    groups expanded to their members."""
    plan = oncall.plan_for(services, service_name, label)
    return expand(services, plan.first) if plan is not None else []


def _invite_owners(services: Services, incident_id: int, channel_id: str) -> None:
    """Invite who the plan pages first; with on-call schedules, mention them and list the
    other owners; each person paged is written on the timeline (the digest counts them)."""
    incident = incident_service.get_incident(services, incident_id)
    plan = oncall.plan_for(services, incident.service, incident.behavior)
    if plan is None:
        return
    invite(services, channel_id, expand(services, plan.first))
    scheduled = any(t.why.startswith(("on call", "secondary")) for t in plan.first)
    if scheduled or plan.listed:
        call(services.slack, "chat_postMessage", channel=channel_id, text=on_call_text(plan))
    already = {(e.details or {}).get("user") for e in
               incident_service.timeline(services, incident_id) if e.kind == "paged"}
    for target in plan.first:
        if target.kind == "user" and target.id not in already:  # the outbox may run twice
            incident_service.add_note(services, incident_id=incident_id, actor="bot:oncall",
                                      kind="paged", text=f"paged {target.id}: {target.why}",
                                      details={"user": target.id, "why": target.why})


def invite(services: Services, channel_id: str, users: list[str]) -> list[str]:
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


def post_to_alerts_channel(services: Services, channel: str, text: str,
                           blocks: list[dict[str, Any]] | None = None) -> None:
    message: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
    try:
        call(services.slack, "chat_postMessage", channel=channel, **message)
    except SlackCallFailed as error:
        if error.code != "not_in_channel":
            raise
        call(services.slack, "conversations_join", channel=channel)
        call(services.slack, "chat_postMessage", channel=channel, **message)


def _summary_kwargs(services: Services, incident: Incident) -> dict[str, Any]:
    """The pinned summary's message, its runbook buttons the library's suggestions."""
    service = services.catalog.service(incident.service)
    return {"text": incident_summary_text(incident),
            "blocks": incident_summary_blocks(
                incident, suggestions=runbook_runs.suggest_for(services, incident),
                public_url=services.settings.public_url,
                alerts_channel=service.alerts_channel if service else None)}


# -- flows -------------------------------------------------------------------------------
def open_incident_channel(services: Services, incident_id: int) -> str | None:
    """Create, populate and announce the incident's channel; returns its id.

    Returns None when Slack is not configured or the channel could not be made.
    Safe to call again (the outbox does, after a crash): the claim says how far an
    earlier worker got, and this call finishes from there. Each failing step is
    recorded on the timeline and the rest go on; an error that is not Slack's
    answer (Slack unreachable) is raised after recording, so the outbox retries.
    """
    if services.slack is None:
        return None
    claim = _claim(services, incident_id)
    if claim.action == "complete":
        return claim.channel_id
    incident = incident_service.get_incident(services, incident_id)
    if claim.action == "resume" and claim.channel_id:
        channel_id = claim.channel_id
    else:
        try:
            channel_id, name = _create_channel(services, incident,
                                               adopt=claim.action == "take_over")
        except Exception as error:
            _finish_claim(services, incident_id, state="failed", error=str(error)[:500])
            incident_service.record_failure(services, incident_id,
                                            "creating the incident channel", error)
            if isinstance(error, SlackCallFailed):
                return None
            raise
        _save_on_incident(services, incident_id, slack_channel_id=channel_id,
                          slack_channel_name=name)
        _finish_claim(services, incident_id, state="ready", channel_id=channel_id,
                      channel_name=name)
        incident_service.add_note(services, incident_id=incident_id, actor="bot:slack",
                                  kind="slack_channel", text=f"Slack channel #{name} created")
    steps = [
        ("setting the channel topic", lambda: call(
            services.slack, "conversations_setTopic", channel=channel_id,
            topic=channel_topic(incident))),
        # the label as it is now: a diagnosis that landed after the channel was claimed
        # is read here, and one landing later finds the channel and invites its owners
        ("inviting the owners", lambda: _invite_owners(services, incident_id, channel_id)),
        ("posting and pinning the summary", lambda: _post_summary(services, incident_id,
                                                                   channel_id)),
        ("announcing in the alerts channel", lambda: _announce(services, incident_id,
                                                                channel_id)),
    ]
    for what, step in steps:
        try:
            step()
        except Exception as error:
            incident_service.record_failure(services, incident_id, what, error)
    _finish_claim(services, incident_id, state="complete")
    return channel_id


def _post_summary(services: Services, incident_id: int, channel_id: str) -> None:
    incident = incident_service.get_incident(services, incident_id)
    if incident.slack_summary_ts:  # posted by a worker that died before finishing
        try:
            call(services.slack, "pins_add", channel=channel_id,
                 timestamp=incident.slack_summary_ts)
        except SlackCallFailed as error:
            if error.code != "already_pinned":
                raise
        refresh_summary(services, incident_id)
        return
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


def _announce(services: Services, incident_id: int, channel_id: str) -> None:
    incident = incident_service.get_incident(services, incident_id)
    service = services.catalog.service(incident.service)
    if service and service.alerts_channel:
        post_to_alerts_channel(services, service.alerts_channel,
                               alerts_notice_text(incident, channel_id),
                               alerts_notice_blocks(incident, channel_id))


_LOCKS_GUARD = threading.Lock()
_SUMMARY_LOCKS: WeakKeyDictionary[Services, dict[int, threading.Lock]] = WeakKeyDictionary()


def _summary_lock(services: Services, incident_id: int) -> threading.Lock:
    """One lock per incident, for this process's refreshes of its summary."""
    with _LOCKS_GUARD:
        locks = _SUMMARY_LOCKS.setdefault(services, {})
        return locks.setdefault(incident_id, threading.Lock())


def refresh_summary(services: Services, incident_id: int) -> bool:
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
            incident_service.record_failure(services, incident_id, "updating the summary", error)
            return False


def invite_new_owners(services: Services, incident_id: int, *, by: str = "Relabelled") -> list[str]:
    incident = incident_service.get_incident(services, incident_id)
    if services.slack is None or not incident.slack_channel_id:
        return []
    try:
        invited = invite(services, incident.slack_channel_id,
                         owners_to_invite(services, incident.service, incident.behavior))
    except SlackCallFailed as error:
        incident_service.record_failure(services, incident_id, "inviting the new owners", error)
        return []
    if invited:
        call(services.slack, "chat_postMessage", channel=incident.slack_channel_id,
             text=owners_invited_text(by, incident.behavior, invited))
    return invited


# -- outbox handlers (bot.core.outbox.FOLLOW_UPS) -------------------------------------------------
def on_opened(*, services: Services, incident_id: int, **_: Any) -> None:
    open_incident_channel(services, incident_id)


def on_changed(*, services: Services, incident_id: int, **_: Any) -> None:
    refresh_summary(services, incident_id)


def on_relabelled(*, services: Services, incident_id: int, **_: Any) -> None:
    invite_new_owners(services, incident_id)
    refresh_summary(services, incident_id)


def on_alerts_resolved(*, services: Services, incident_id: int, **_: Any) -> None:
    """Every alert resolved: tell the channel and offer Resolve, unless that is moot now.

    The row runs a moment after the intake's commit and reads the incident again, so
    an alert that fired again, an incident already resolved, or one with no channel
    posts nothing. The summary (its "Alerts firing") is refreshed by the change rows.
    """
    if services.slack is None:
        return
    incident = incident_service.get_incident(services, incident_id)
    if (incident.alerts_firing or incident.status == "resolved"
            or not incident.slack_channel_id):
        return
    call(services.slack, "chat_postMessage", channel=incident.slack_channel_id,
         text=alerts_resolved_text(incident), blocks=alerts_resolved_blocks(incident))


def on_classified(*, services: Services, incident_id: int, **_: Any) -> None:
    """The owners of the class the classifier found join; the summary shows the diagnosis."""
    invite_new_owners(services, incident_id, by="Classified")
    refresh_summary(services, incident_id)
