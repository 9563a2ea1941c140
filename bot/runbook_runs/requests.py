"""Asking for runs: dry run, start (one click runs once), approve, reject, cancel, and who may."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core.errors import Conflict, UserError
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.runbook_runs.context import (
    actor_name,
    incident_context,
    load_incident,
    load_run,
    post_progress,
    safe_params,
    user_id_of,
)
from bot.runbook_runs.execute import execute
from bot.runbook_runs.library import get_runbook, library
from runbooks.engine import (
    Engine,
    ParameterError,
    Plan,
    resolve_params,
)
from runbooks.models import Runbook
from runbooks.steps import Tools
from store import runbook_queries as runs_q
from store.db import session_scope
from store.runbook_models import (
    RunbookRun,
    RunStatus,
    active_key,
)


class Forbidden(UserError):
    """The person may not do this (run, approve); the message says who may."""


@dataclass(frozen=True)
class StartResult:
    run: RunbookRun
    created: bool  # False: the idempotency key was already used, this is the earlier run


def dry_run(services: Services, *, incident_id: int, name: str,
            params: Mapping[str, Any] | None = None, actor: str) -> Plan:
    """Render every step with the real parameters and execute nothing; noted on the timeline."""
    runbook = get_runbook(services, name)
    with session_scope(services.engine) as session:
        incident = load_incident(session, incident_id)
        context = incident_context(services, session, incident)
        try:
            values = resolve_params(runbook, dict(params or {}), context)
        except ParameterError as error:
            raise UserError(f"{name}: {error}") from None
        plan = Engine(tools=Tools(), runbooks=library(services)).plan(runbook, context, values)
        lifecycle.record(session=session, incident_id=incident_id, actor=actor_name(actor),
                         kind="runbook.dry_run", now=services.clock(),
                         message=f"dry run of {name}: {len(plan.steps)} steps rendered"
                                 + (f", {len(plan.problems)} problems" if plan.problems else ""),
                         details={"runbook": name, "params": plan.params,
                                  "steps": [s.__dict__ for s in plan.steps],
                                  "problems": plan.problems})
    return plan


def start(services: Services, *, incident_id: int, name: str,
          params: Mapping[str, Any] | None = None, actor: str, groups: Collection[str] = (),
          idempotency_key: str | None = None, wait: bool = False) -> StartResult:
    """Ask for a run. Returns the run (the earlier one if the key was used before).

    Runbooks that need approval stop at ``pending_approval``; the others start at
    once, on the background pool (or in this thread with ``wait=True``).
    """
    runbook = get_runbook(services, name)
    key = idempotency_key or f"auto:{uuid.uuid4()}"
    with session_scope(services.engine) as session:
        earlier = runs_q.run_by_key(session=session, idempotency_key=key)
    if earlier is not None:
        return StartResult(earlier, created=False)
    ensure_may_run(runbook, actor=actor, groups=groups)
    now = services.clock()
    needs_approval = runbook.approval.required
    try:
        with session_scope(services.engine) as session:
            incident = load_incident(session, incident_id)
            try:
                values = resolve_params(runbook, dict(params or {}),
                                        incident_context(services, session, incident))
            except ParameterError as error:
                raise UserError(f"{name}: {error}") from None
            run = RunbookRun(incident_id=incident_id, runbook=name, params=values,
                             status=(RunStatus.pending_approval if needs_approval
                                     else RunStatus.approved).value,
                             requested_by=actor_name(actor), idempotency_key=key,
                             active_key=active_key(incident_id, name), created_at=now,
                             updated_at=now)
            session.add(run)
            session.flush()
            wording = "requested (awaiting approval)" if needs_approval else "started"
            lifecycle.record(session=session, incident_id=incident_id, actor=actor_name(actor),
                             kind="runbook.requested", now=now,
                             message=f"runbook {name} {wording} by {actor} (run {run.id})",
                             details={"run_id": run.id, "runbook": name,
                                      "params": safe_params(runbook, values),
                                      "idempotency_key": key})
    except IntegrityError:
        return _resolve_conflict(services, key, incident_id, name)
    if needs_approval:
        approvers = _who(runbook.approval.users, runbook.approval.groups)
        post_progress(services, run, f"{name} is waiting for approval ({approvers}).")
    else:
        _launch(services, run.id or 0, wait)
    return StartResult(run, created=True)


def _resolve_conflict(services: Services, key: str, incident_id: int, name: str) -> StartResult:
    """The insert lost a race: same key (a double click) or another active run."""
    with session_scope(services.engine) as session:
        earlier = runs_q.run_by_key(session=session, idempotency_key=key)
        if earlier is not None:
            return StartResult(earlier, created=False)
        active = runs_q.active_run(session=session, active_key=active_key(incident_id, name))
    if active is not None:
        raise Conflict(f"{name} is already {active.status} on incident {incident_id} "
                       f"(run {active.id}); one run of a runbook per incident at a time")
    raise Conflict(f"could not start {name} on incident {incident_id}; try again")


def ensure_may_run(runbook: Runbook, *, actor: str, groups: Collection[str] = ()) -> None:
    """Raise :class:`Forbidden` naming who may, unless ``actor`` may start ``runbook``.

    Separate from :func:`start` so Slack can refuse as soon as it knows the
    person's groups, before they fill in a parameter form for nothing.
    """
    if not runbook.allowed.admits(user_id_of(actor), set(groups)):
        raise Forbidden(f"{actor} may not run {runbook.name}: "
                        + _who(runbook.allowed.users, runbook.allowed.groups) + " run it")


def ensure_may_decide(runbook: Runbook, *, actor: str, groups: Collection[str], verb: str,
                      what: str) -> None:
    """Raise :class:`Forbidden` naming the approvers, unless ``actor`` is one of them.

    The one check behind approve and reject, whoever asks (Slack, the API): ``verb``
    and ``what`` only word the refusal ("may not reject ...: only ... decide on it").
    """
    if not runbook.approval.approvers.admits(user_id_of(actor), set(groups)):
        raise Forbidden(f"{actor} may not {verb} {runbook.name}: "
                        + _who(runbook.approval.users, runbook.approval.groups) + f" {what}")


def _who(users: Collection[str], groups: Collection[str]) -> str:
    parts = []
    if groups:
        parts.append("members of " + ", ".join(f"<!subteam^{g}>" for g in groups))
    if users:
        parts.append(", ".join(f"<@{u}>" for u in users))
    return "only " + " or ".join(parts) + " may" if parts else "anyone may"


def _launch(services: Services, run_id: int, wait: bool) -> None:
    if wait:
        execute(services, run_id)
    else:
        services.submit(execute, services, run_id)


def approve(services: Services, *, run_id: int, actor: str, groups: Collection[str] = (),
            wait: bool = False) -> RunbookRun:
    """Approve a pending run and start it; a repeated approval by the same person is a no-op."""
    with session_scope(services.engine) as session:
        run = load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    if run.requested_by == actor_name(actor):
        # Two-person rule: approval exists so that someone other than the requester
        # looks at a destructive change before it runs.
        raise Forbidden(f"{actor} asked for this run of {run.runbook}, so a second person "
                        "must approve it: " + _who(runbook.approval.users,
                                                   runbook.approval.groups)
                        + " approve it, except the requester")
    ensure_may_decide(runbook, actor=actor, groups=groups, verb="approve", what="approve it")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(session=session, run_id=run_id,
                                  from_statuses=[RunStatus.pending_approval.value],
                                  to_status=RunStatus.approved.value,
                                  decided_by=actor_name(actor), updated_at=now)
        run = load_run(session, run_id)
        if not moved:
            if run.decided_by == actor_name(actor) and run.status != RunStatus.cancelled.value:
                return run  # the same approval again (double click, Slack retry)
            raise Conflict(f"run {run_id} of {run.runbook} is {run.status}, not pending approval")
        lifecycle.record(session=session, incident_id=run.incident_id, actor=actor_name(actor),
                         kind="runbook.approved", now=now,
                         message=f"{run.runbook} (run {run_id}) approved by {actor}",
                         details={"run_id": run_id, "runbook": run.runbook})
    post_progress(services, run, f"{run.runbook} approved by {actor}; starting.")
    _launch(services, run_id, wait)
    return run


def reject(services: Services, *, run_id: int, actor: str, groups: Collection[str] = (),
           reason: str | None = None) -> RunbookRun:
    with session_scope(services.engine) as session:
        run = load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    ensure_may_decide(runbook, actor=actor, groups=groups, verb="reject", what="decide on it")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(session=session, run_id=run_id,
                                  from_statuses=[RunStatus.pending_approval.value],
                                  to_status=RunStatus.cancelled.value, active_key=None,
                                  decided_by=actor_name(actor), reason=reason or "rejected",
                                  updated_at=now, ended_at=now)
        run = load_run(session, run_id)
        if not moved:
            if run.decided_by == actor_name(actor) and run.status == RunStatus.cancelled.value:
                return run
            raise Conflict(f"run {run_id} of {run.runbook} is {run.status}, not pending approval")
        lifecycle.record(session=session, incident_id=run.incident_id, actor=actor_name(actor),
                         kind="runbook.rejected", now=now,
                         message=f"{run.runbook} (run {run_id}) rejected by {actor}"
                                 + (f": {reason}" if reason else ""),
                         details={"run_id": run_id, "runbook": run.runbook, "reason": reason})
    post_progress(services, run, f"{run.runbook} rejected by {actor}.")
    return run


def cancel(services: Services, *, run_id: int, actor: str,
           groups: Collection[str] = ()) -> RunbookRun:
    """Cancel before it starts, or ask a running run to stop before its next step."""
    with session_scope(services.engine) as session:
        run = load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    if not (runbook.allowed.admits(user_id_of(actor), set(groups))
            or runbook.approval.approvers.admits(user_id_of(actor), set(groups))):
        raise Forbidden(f"{actor} may not cancel {run.runbook}")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(
            session=session, run_id=run_id,
            from_statuses=[RunStatus.pending_approval.value, RunStatus.approved.value],
            to_status=RunStatus.cancelled.value, active_key=None, decided_by=actor_name(actor),
            reason="cancelled", updated_at=now, ended_at=now)
        run = load_run(session, run_id)
        if not moved:
            if run.status != RunStatus.running.value:
                raise Conflict(f"run {run_id} of {run.runbook} is already {run.status}")
            run.cancel_requested = True
            run.updated_at = now
            session.add(run)
        lifecycle.record(session=session, incident_id=run.incident_id, actor=actor_name(actor),
                         kind="runbook.cancel", now=now,
                         message=f"{run.runbook} (run {run_id}) cancelled by {actor}"
                                 + ("" if moved else "; it stops before its next step"),
                         details={"run_id": run_id, "runbook": run.runbook})
    return run
