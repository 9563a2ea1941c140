"""Escalation: an incident nobody acknowledges within the service's
``escalation.ack_timeout_minutes`` pages the next step of its page plan: the
secondary on call, then the failure class's groups, then ``escalation.chain``
(:mod:`bot.oncall.routing`; with no schedules, just the chain).

At the k-th timeout (k = 0, 1, ...) the bot pages step k: invites them (a group: its
members) to the incident channel, mentions them there, sends a person a direct
message, and writes it on the timeline. The timers are APScheduler jobs in the project
database, so a restart does not forget them; a compare-and-set on
``incidents.escalation_level`` makes each step happen once even if a timer fires twice,
and the step's page and next timer are outbox rows written with it
(``incident.escalated``), so a crash between the step and the page does not swallow it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.config.oncall_schedule import Target
from bot.core import outbox
from bot.core.scheduler import job_services, schedule_once
from bot.core.services import Services
from bot.core.slack_api import SlackCallFailed, call, expand
from bot.incidents import lifecycle
from bot.incidents import service as incident_service
from bot.oncall import service as oncall
from bot.views.incident import page_text
from store import queries
from store.db import session_scope
from store.models import Incident

log = logging.getLogger(__name__)

JOB = "bot.oncall.escalation:check_acknowledged"


def job_id(incident_id: int, level: int) -> str:
    return f"escalation-{incident_id}-{level}"


def steps(services: Services, incident: Incident) -> tuple[Target, ...]:
    """Who is paged, in order, while nobody acknowledges: the page plan's steps (the
    secondary on call, the class's groups, then the chain), read at the time of asking."""
    plan = oncall.plan_for(services, incident.service, incident.behavior)
    return plan.steps if plan is not None else ()


def schedule(services: Services, incident_id: int, level: int) -> bool:
    """Set the timer for escalation step ``level`` of the incident."""
    incident = incident_service.get_incident(services, incident_id)
    service = services.catalog.service(incident.service)
    if service is None or level >= len(steps(services, incident)):
        return False
    run_at = services.clock() + timedelta(minutes=service.escalation.ack_timeout_minutes)
    return schedule_once(services, job_id(incident_id, level), JOB, run_at,
                         [incident_id, level])


def check_acknowledged(incident_id: int, level: int) -> None:
    """The timer's job (plain arguments, so it can be stored)."""
    services = job_services()
    if services is None:
        log.warning("escalation of incident %s: no scheduler services in this process",
                    incident_id)
        return
    escalate(services, incident_id, level)


def escalate(services: Services, incident_id: int, level: int) -> str | None:
    """Page step ``level`` if the incident is still unacknowledged; returns who was paged."""
    incident = incident_service.get_incident(services, incident_id)
    service = services.catalog.service(incident.service)
    if incident.status != "triggered" or service is None:
        return None
    chain = steps(services, incident)
    if level >= len(chain):
        return None
    step = chain[level]
    target = step.id
    minutes = service.escalation.ack_timeout_minutes * (level + 1)
    with session_scope(services.engine) as session:
        if not queries.claim_escalation_step(session=session, incident_id=incident_id,
                                             level=level):
            return None
        now = services.clock()
        lifecycle.record(session=session, incident_id=incident_id, actor="bot:escalation",
                         kind="escalated", now=now,
                         message=f"not acknowledged after {minutes:g} min: paging {target}, "
                                 f"{step.why} (step {level + 1} of {len(chain)})",
                         details={"level": level + 1, "user": target, "kind": step.kind,
                                  "why": step.why})
        # the page and the next timer commit with the step (bot.core.outbox): a crash right
        # after this commit still pages
        work = outbox.record(session, "incident.escalated", now=now, incident_id=incident_id,
                             level=level, target=target, kind=step.kind, why=step.why,
                             minutes=minutes)
    outbox.kick(services, work)
    return target


def on_escalated(*, services: Services, incident_id: int, level: int, target: str, minutes: float,
                 kind: str = "user", why: str = "escalation chain", **_: Any) -> None:
    """Outbox handler of ``incident.escalated``: set the next timer, then page ``target``.

    The timer first: it is idempotent (its job id), so a retry for want of a scheduler
    here never pages twice.
    """
    if services.scheduler is None:
        raise outbox.RetryLater("no scheduler in this process to set the next timer")
    schedule(services, incident_id, level + 1)
    step = Target("group" if kind == "group" else "user", target, why)
    _page(services, incident_service.get_incident(services, incident_id), step, minutes)


def _page(services: Services, incident: Incident, step: Target, minutes: float) -> None:
    """Invite and mention the step (a group: all its members) in the channel; a person
    also gets a direct message."""
    if services.slack is None:
        return
    text = page_text(incident, step.id, minutes, group=step.kind == "group")
    try:
        if incident.slack_channel_id:
            members = expand(services, [step])
            if members:
                try:
                    call(services.slack, "conversations_invite",
                         channel=incident.slack_channel_id, users=",".join(members))
                except SlackCallFailed as error:
                    if error.code != "already_in_channel":
                        raise
            call(services.slack, "chat_postMessage", channel=incident.slack_channel_id,
                 text=text)
        if step.kind == "user":
            call(services.slack, "chat_postMessage", channel=step.id, text=text)
    except Exception as error:
        incident_service.record_failure(services, incident.id or 0, f"paging {step.id}", error)


def on_opened(*, services: Services, incident_id: int, **_: Any) -> None:
    """Outbox handler of ``incident.opened``: the first timer, once (its job id).

    A process without a running scheduler cannot set it; the row is retried, and a
    replica with one takes it.
    """
    if services.scheduler is None:
        raise outbox.RetryLater("no scheduler in this process to set the escalation timer")
    schedule(services, incident_id, 0)
