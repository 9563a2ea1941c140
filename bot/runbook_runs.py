"""Runbook runs from the bot's side: suggest, start, approve, reject, cancel, execute, recover.

Slack buttons, the JSON API and the CLI all come through here, so the rules hold
whichever way a run is asked for:

- one click runs once: the request's idempotency key is unique in the database,
  and a second request with the same key gets the first run back;
- one active run per incident and runbook, enforced by a unique ``active_key``;
- destructive runbooks wait in ``pending_approval`` until an allowed approver
  approves; a person not allowed gets :class:`Forbidden` saying who may;
- every step's start and end (summary, duration, verdict) is a timeline event
  with actor ``runbook:<name>``; secrets never reach the timeline;
- a run left ``running`` by a crash is resumed (every remaining step idempotent)
  or marked ``interrupted`` and announced, by :func:`recover_interrupted` at start.

Progress goes out as ``services.emit("runbook.progress", run_id=, incident_id=, text=)``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.config.catalog import Catalog
from bot.core.errors import Conflict, NotFound, UserError
from bot.core.runner_identity import RUNNER, gone
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.views.markup import escape
from bot.views.text import cut
from runbooks.engine import (
    Engine,
    ParameterError,
    Plan,
    RunResult,
    StepResult,
    base_context,
    resolve_params,
)
from runbooks.loader import load_directories
from runbooks.models import Runbook, coerce
from runbooks.steps import Tools
from runbooks.templating import RenderError, is_template, render_text
from store import queries
from store import runbook_queries as runs_q
from store.db import session_scope
from store.models import Incident
from store.runbook_models import (
    ACTIVE_STATUSES,
    RunbookRun,
    RunbookStepRecord,
    RunStatus,
    active_key,
)

log = logging.getLogger(__name__)

# A running run whose heartbeat is older than ``RESILIO_RUNBOOK_STALE_SECONDS`` (20 s)
# lost its process, on every store: ``resilio serve`` and a ``resilio runbook run`` in a
# terminal share a SQLite file too. Its runner beats BEATS_PER_PERIOD times per period.
BEATS_PER_PERIOD = 4
DEFAULT_GATEWAY_URL = "http://127.0.0.1:8700"


def stale_after(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.runbook_stale_seconds)


class Forbidden(UserError):
    """The person may not do this (run, approve); the message says who may."""


@dataclass(frozen=True)
class Suggestion:
    name: str
    title: str
    reason: str
    needs_approval: bool
    has_parameters: bool


@dataclass(frozen=True)
class StartResult:
    run: RunbookRun
    created: bool  # False: the idempotency key was already used, this is the earlier run


# -- the runbook library -----------------------------------------------------------


def load_library(catalog: Catalog) -> dict[str, Runbook]:
    """Shipped runbooks plus the catalog's directories (relative to the catalog file)."""
    options = catalog.runbooks
    source = Path(catalog.source)
    base = source.parent if source.is_file() else Path.cwd()
    directories = [d if Path(d).is_absolute() else base / d for d in options.directories]
    return load_directories(directories, shell_allowlist=options.shell_allowlist)


def library(services: Services) -> dict[str, Runbook]:
    """:func:`load_library`, once per ``Services``."""
    loaded = services.extras.get("runbooks")
    if loaded is None:
        loaded = services.extras["runbooks"] = load_library(services.catalog)
    return loaded


def get_runbook(services: Services, name: str) -> Runbook:
    found = library(services).get(name)
    if found is None:
        known = ", ".join(sorted(library(services))) or "none"
        raise NotFound(f"no runbook named {name!r} (known: {known})")
    return found


# -- context -----------------------------------------------------------------------


def _actor(who: str) -> str:
    """Slack user ids become ``slack:<id>``; anything else (``cli:ana``, ``api``) stays."""
    if who and who[0] in "UW" and who.isalnum():
        return f"slack:{who}"
    return who


def _user_id(who: str) -> str | None:
    return who.removeprefix("slack:") if who.startswith("slack:") else who


def _suspect_change(session: Session, incident: Incident) -> dict[str, Any] | None:
    ranked = (incident.diagnosis or {}).get("suspect_changes") or []
    if ranked and isinstance(ranked[0], dict) and ranked[0].get("kind"):
        return dict(ranked[0])
    anchor = incident.onset or incident.created_at
    changes = queries.changes_between(session=session, service=incident.service,
                                      start=anchor - timedelta(hours=24),
                                      end=anchor + timedelta(minutes=5))
    if not changes:
        return None
    latest = changes[-1]
    return {"kind": latest.kind, "ref": latest.ref, "previous": latest.previous,
            "author": latest.author, "description": latest.description,
            "ts": latest.ts.isoformat()}


def _registry(catalog_service: Any, name: str) -> dict[str, Any]:
    """The service's model registry entry for templates (runbooks choose their target by
    ``kind``), with the registered model defaulting to the service's name."""
    from bot.config.change_sources import ModelRegistry

    registry = catalog_service.registry if catalog_service is not None else ModelRegistry()
    data = registry.model_dump()
    data["model"] = registry.model or name
    data["prompt"] = registry.prompts[0] if registry.prompts else None
    return data


def incident_context(services: Services, session: Session, incident: Incident,
                     run_id: int | None = None) -> dict[str, Any]:
    """What runbook templates may read about an incident. All of it is data."""
    labels: dict[str, Any] = {}
    for alert in queries.alerts_of(session=session, incident_id=incident.id or 0):
        labels.update({str(k): str(v) for k, v in (alert.labels or {}).items()})
    catalog_service = services.catalog.service(incident.service)
    service = {"name": incident.service,
               "description": catalog_service.description if catalog_service else "",
               "registry": _registry(catalog_service, incident.service)}
    facts = {"id": incident.id, "service": incident.service, "title": incident.title,
             "severity": incident.severity, "status": incident.status,
             "behavior": incident.behavior, "confidence": incident.confidence,
             "channel": incident.slack_channel_id,
             "created_at": incident.created_at.isoformat() if incident.created_at else None}
    defaults = {"gateway_url": os.environ.get("RESILIO_GATEWAY_URL", DEFAULT_GATEWAY_URL)}
    return base_context(incident=facts, service=service,
                        suspect_change=_suspect_change(session, incident), labels=labels,
                        defaults=defaults, run={"id": run_id})


def _load_incident(session: Session, incident_id: int) -> Incident:
    incident = queries.get_incident(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}")
    return incident


def _progress(services: Services, run: RunbookRun, text: str) -> None:
    services.emit("runbook.progress", run_id=run.id, incident_id=run.incident_id, text=text)


def _safe_params(runbook: Runbook, params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if (p := runbook.parameter(k)) and p.secret else v)
            for k, v in params.items()}


# -- suggesting ----------------------------------------------------------------------


def suggest(services: Services, *, incident_id: int) -> list[Suggestion]:
    """Runbooks for this incident: its failure class, its service, its suspect change."""
    with session_scope(services.engine) as session:
        incident = _load_incident(session, incident_id)
        change = _suspect_change(session, incident)
    catalog_service = services.catalog.service(incident.service)
    listed = set(catalog_service.runbooks) if catalog_service else set()
    scored: list[tuple[int, Suggestion]] = []
    for runbook in library(services).values():
        applies = runbook.applies_to
        if applies.services and incident.service not in applies.services:
            continue
        if listed and runbook.name not in listed:
            continue
        score, reasons = 0, []
        if incident.behavior and incident.behavior in applies.classes:
            score += 2
            reasons.append(f"{incident.behavior} failure")
        if change and change.get("kind") in applies.change_kinds:
            score += 3
            reasons.append(f"suspect {change['kind']} change {change.get('ref')}")
        if score == 0:
            continue
        scored.append((score, Suggestion(runbook.name, runbook.title, "; ".join(reasons),
                                         runbook.approval.required, bool(runbook.parameters))))
    scored.sort(key=lambda item: (-item[0], item[1].name))
    return [suggestion for _, suggestion in scored]


# -- parameters for a form ---------------------------------------------------------------


def parameter_defaults(services: Services, *, incident_id: int, name: str) -> dict[str, Any]:
    """Each parameter's default resolved against the incident, to prefill a form.

    Unlike :func:`resolve_params` this never fails: a default that cannot be
    resolved (no suspect change, say) is ``None``, so the form opens with that
    field empty for the person to fill in instead of refusing the whole runbook.
    """
    runbook = get_runbook(services, name)
    with session_scope(services.engine) as session:
        context = incident_context(services, session, _load_incident(session, incident_id))
    defaults: dict[str, Any] = {}
    for parameter in runbook.parameters:
        value = parameter.default
        if isinstance(value, str) and is_template(value):
            try:
                value = render_text(value, context, f"parameters.{parameter.name}.default")
            except RenderError:
                value = None
        if value is not None and value != "":
            with contextlib.suppress(ValueError):  # shown as it is; checked on submission
                value = coerce(parameter, value)
        defaults[parameter.name] = None if value == "" else value
    return defaults


def parameter_errors(runbook: Runbook, given: Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> what is wrong with the value typed for it (no I/O: a modal's ack).

    Empty values are left out (the default applies); whether a required value is
    still missing is decided by :func:`start`, which can resolve the defaults.
    """
    errors: dict[str, str] = {}
    for key, value in given.items():
        parameter = runbook.parameter(key)
        if parameter is None:
            errors[key] = f"{key}: {runbook.name} has no such parameter"
            continue
        if value is None or value == "":
            continue
        try:
            coerce(parameter, value)
        except ValueError as error:
            errors[key] = f"{key}: {error}"
    return errors


# -- dry run and start ---------------------------------------------------------------------


def dry_run(services: Services, *, incident_id: int, name: str,
            params: Mapping[str, Any] | None = None, actor: str) -> Plan:
    """Render every step with the real parameters and execute nothing; noted on the timeline."""
    runbook = get_runbook(services, name)
    with session_scope(services.engine) as session:
        incident = _load_incident(session, incident_id)
        context = incident_context(services, session, incident)
        try:
            values = resolve_params(runbook, dict(params or {}), context)
        except ParameterError as error:
            raise UserError(f"{name}: {error}") from None
        plan = Engine(tools=Tools(), runbooks=library(services)).plan(runbook, context, values)
        lifecycle.record(session=session, incident_id=incident_id, actor=_actor(actor),
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
            incident = _load_incident(session, incident_id)
            try:
                values = resolve_params(runbook, dict(params or {}),
                                        incident_context(services, session, incident))
            except ParameterError as error:
                raise UserError(f"{name}: {error}") from None
            run = RunbookRun(incident_id=incident_id, runbook=name, params=values,
                             status=(RunStatus.pending_approval if needs_approval
                                     else RunStatus.approved).value,
                             requested_by=_actor(actor), idempotency_key=key,
                             active_key=active_key(incident_id, name), created_at=now,
                             updated_at=now)
            session.add(run)
            session.flush()
            wording = "requested (awaiting approval)" if needs_approval else "started"
            lifecycle.record(session=session, incident_id=incident_id, actor=_actor(actor),
                             kind="runbook.requested", now=now,
                             message=f"runbook {name} {wording} by {actor} (run {run.id})",
                             details={"run_id": run.id, "runbook": name,
                                      "params": _safe_params(runbook, values),
                                      "idempotency_key": key})
    except IntegrityError:
        return _resolve_conflict(services, key, incident_id, name)
    if needs_approval:
        approvers = _who(runbook.approval.users, runbook.approval.groups)
        _progress(services, run, f"{name} is waiting for approval ({approvers}).")
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
    if not runbook.allowed.admits(_user_id(actor), set(groups)):
        raise Forbidden(f"{actor} may not run {runbook.name}: "
                        + _who(runbook.allowed.users, runbook.allowed.groups) + " run it")


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


# -- decisions ------------------------------------------------------------------------------


def _load_run(session: Session, run_id: int) -> RunbookRun:
    run = runs_q.get_run(session=session, run_id=run_id)
    if run is None:
        raise NotFound(f"no runbook run with id {run_id}")
    return run


def approve(services: Services, *, run_id: int, actor: str, groups: Collection[str] = (),
            wait: bool = False) -> RunbookRun:
    """Approve a pending run and start it; a repeated approval by the same person is a no-op."""
    with session_scope(services.engine) as session:
        run = _load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    if run.requested_by == _actor(actor):
        # Two-person rule: approval exists so that someone other than the requester
        # looks at a destructive change before it runs.
        raise Forbidden(f"{actor} asked for this run of {run.runbook}, so a second person "
                        "must approve it: " + _who(runbook.approval.users,
                                                   runbook.approval.groups)
                        + " approve it, except the requester")
    if not runbook.approval.approvers.admits(_user_id(actor), set(groups)):
        raise Forbidden(f"{actor} may not approve {run.runbook}: "
                        + _who(runbook.approval.users, runbook.approval.groups)
                        + " approve it")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(session=session, run_id=run_id,
                                  from_statuses=[RunStatus.pending_approval.value],
                                  to_status=RunStatus.approved.value,
                                  decided_by=_actor(actor), updated_at=now)
        run = _load_run(session, run_id)
        if not moved:
            if run.decided_by == _actor(actor) and run.status != RunStatus.cancelled.value:
                return run  # the same approval again (double click, Slack retry)
            raise Conflict(f"run {run_id} of {run.runbook} is {run.status}, not pending approval")
        lifecycle.record(session=session, incident_id=run.incident_id, actor=_actor(actor),
                         kind="runbook.approved", now=now,
                         message=f"{run.runbook} (run {run_id}) approved by {actor}",
                         details={"run_id": run_id, "runbook": run.runbook})
    _progress(services, run, f"{run.runbook} approved by {actor}; starting.")
    _launch(services, run_id, wait)
    return run


def reject(services: Services, *, run_id: int, actor: str, groups: Collection[str] = (),
           reason: str | None = None) -> RunbookRun:
    with session_scope(services.engine) as session:
        run = _load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    if not runbook.approval.approvers.admits(_user_id(actor), set(groups)):
        raise Forbidden(f"{actor} may not reject {run.runbook}: "
                        + _who(runbook.approval.users, runbook.approval.groups)
                        + " decide on it")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(session=session, run_id=run_id,
                                  from_statuses=[RunStatus.pending_approval.value],
                                  to_status=RunStatus.cancelled.value, active_key=None,
                                  decided_by=_actor(actor), reason=reason or "rejected",
                                  updated_at=now, ended_at=now)
        run = _load_run(session, run_id)
        if not moved:
            if run.decided_by == _actor(actor) and run.status == RunStatus.cancelled.value:
                return run
            raise Conflict(f"run {run_id} of {run.runbook} is {run.status}, not pending approval")
        lifecycle.record(session=session, incident_id=run.incident_id, actor=_actor(actor),
                         kind="runbook.rejected", now=now,
                         message=f"{run.runbook} (run {run_id}) rejected by {actor}"
                                 + (f": {reason}" if reason else ""),
                         details={"run_id": run_id, "runbook": run.runbook, "reason": reason})
    _progress(services, run, f"{run.runbook} rejected by {actor}.")
    return run


def cancel(services: Services, *, run_id: int, actor: str,
           groups: Collection[str] = ()) -> RunbookRun:
    """Cancel before it starts, or ask a running run to stop before its next step."""
    with session_scope(services.engine) as session:
        run = _load_run(session, run_id)
    runbook = get_runbook(services, run.runbook)
    if not (runbook.allowed.admits(_user_id(actor), set(groups))
            or runbook.approval.approvers.admits(_user_id(actor), set(groups))):
        raise Forbidden(f"{actor} may not cancel {run.runbook}")
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(
            session=session, run_id=run_id,
            from_statuses=[RunStatus.pending_approval.value, RunStatus.approved.value],
            to_status=RunStatus.cancelled.value, active_key=None, decided_by=_actor(actor),
            reason="cancelled", updated_at=now, ended_at=now)
        run = _load_run(session, run_id)
        if not moved:
            if run.status != RunStatus.running.value:
                raise Conflict(f"run {run_id} of {run.runbook} is already {run.status}")
            run.cancel_requested = True
            run.updated_at = now
            session.add(run)
        lifecycle.record(session=session, incident_id=run.incident_id, actor=_actor(actor),
                         kind="runbook.cancel", now=now,
                         message=f"{run.runbook} (run {run_id}) cancelled by {actor}"
                                 + ("" if moved else "; it stops before its next step"),
                         details={"run_id": run_id, "runbook": run.runbook})
    return run


# -- execution --------------------------------------------------------------------------------


def _top_level(path: str) -> bool:
    return "/" not in path and ".compensate" not in path


class _Recorder:
    """The engine's listener: step records, timeline events and progress, one commit each."""

    def __init__(self, services: Services, run: RunbookRun) -> None:
        self.services = services
        self.run = run
        self.actor = f"runbook:{run.runbook}"

    def step_started(self, path: str, index: int, step_id: str, kind: str,
                     rendered: dict[str, Any]) -> None:
        now = self.services.clock()
        title = rendered.get("title") or step_id
        with session_scope(self.services.engine) as session:
            session.add(RunbookStepRecord(run_id=self.run.id or 0, path=path, index=index,
                                          step_id=step_id, kind=kind, started_at=now))
            lifecycle.record(session=session, incident_id=self.run.incident_id,
                             actor=self.actor, kind="runbook.step_started", now=now,
                             message=f"step {step_id} ({kind}) started: {title}",
                             details={"run_id": self.run.id, "path": path, "step": step_id,
                                      "kind": kind, "rendered": rendered})
        _progress(self.services, self.run, f"▶ {step_id}: {title}")

    def step_finished(self, result: StepResult) -> None:
        now = self.services.clock()
        details = {"run_id": self.run.id, "path": result.path, "step": result.step_id,
                   "kind": result.kind, "status": result.status, "summary": result.summary,
                   "duration_seconds": result.duration_seconds, "attempts": result.attempts,
                   "error": result.error, "output": result.output}
        with session_scope(self.services.engine) as session:
            record = runs_q.open_step(session=session, run_id=self.run.id or 0, path=result.path)
            if record is not None:
                record.status = result.status
                record.attempts = result.attempts
                record.summary = result.summary
                record.output = result.output
                record.error = result.error
                record.ended_at = now
                record.duration_seconds = result.duration_seconds
                session.add(record)
            if _top_level(result.path):
                run = _load_run(session, self.run.id or 0)
                run.next_step = result.index + 1
                run.updated_at = now
                session.add(run)
            verdict = result.output.get("verdict")
            lifecycle.record(session=session, incident_id=self.run.incident_id,
                             actor=self.actor, kind="runbook.step_finished", now=now,
                             message=f"step {result.step_id} {result.status} in "
                                     f"{result.duration_seconds:.1f}s: {result.summary}"
                                     + (f" (verdict: {verdict})" if verdict else ""),
                             details=details)
        mark = "✓" if result.ok else "✗"
        _progress(self.services, self.run, f"{mark} {result.step_id} {result.status} "
                                           f"({result.duration_seconds:.1f}s): {result.summary}")


def _signal_reader(services: Services) -> Any:
    reader = services.extras.get("runbook_signal_reader")
    if reader is not None:
        return reader
    # bot.sources: pushed records plus those pulled from Prometheus (one seam for all).
    from bot.sources import load_signals

    def read(service: str, start: datetime, end: datetime) -> list[Any]:
        with session_scope(services.engine) as session:
            return load_signals(services, session=session, service=service, start=start,
                                end=end).records

    return read


def _notifier(services: Services, run: RunbookRun, channel: str | None) -> Any:
    def notify(text: str) -> None:
        if services.slack is not None and channel:
            # a runbook's message is rendered from incident data: escaped, it is inert
            services.slack.chat_postMessage(channel=channel, text=cut(escape(text), 3000))
        else:
            _progress(services, run, text)

    return notify


def _cancel_check(services: Services, run_id: int) -> Any:
    """Reads the cancel flag at most once a second, so waits stay cheap.

    A run this process no longer holds (another took it over after a missed
    heartbeat) counts as cancelled here too: this runner stops before its next step
    instead of running it beside the new owner.
    """
    state = {"at": 0.0, "value": False}
    lock = threading.Lock()

    def cancelled() -> bool:
        with lock:
            if time.monotonic() - state["at"] >= 1.0:
                with session_scope(services.engine) as session:
                    run = runs_q.get_run(session=session, run_id=run_id)
                    state["value"] = bool(run is None or run.cancel_requested
                                          or run.runner != RUNNER)
                state["at"] = time.monotonic()
            return bool(state["value"])

    return cancelled


def tools_for(services: Services, run: RunbookRun, channel: str | None) -> Tools:
    return Tools(http=services.extras.get("runbook_http"),
                 read_signals=_signal_reader(services),
                 notify=_notifier(services, run, channel),
                 shell_allowlist=tuple(services.catalog.runbooks.shell_allowlist),
                 clock=services.clock, cancelled=_cancel_check(services, run.id or 0))


def execute(services: Services, run_id: int) -> RunResult | None:
    """Run an approved run to its end in this thread; None if another worker has it."""
    now = services.clock()
    with session_scope(services.engine) as session:
        moved = runs_q.transition(session=session, run_id=run_id,
                                  from_statuses=[RunStatus.approved.value],
                                  to_status=RunStatus.running.value, runner=RUNNER,
                                  started_at=now, updated_at=now)
        if not moved:
            return None
        run = _load_run(session, run_id)
        incident = _load_incident(session, run.incident_id)
        context = incident_context(services, session, incident, run_id)
        resumed = run.next_step > 0
        lifecycle.record(session=session, incident_id=run.incident_id,
                         actor=f"runbook:{run.runbook}", kind="runbook.started", now=now,
                         message=f"{run.runbook} (run {run_id}) "
                                 + (f"resumed at step {run.next_step + 1}" if resumed
                                    else "started"),
                         details={"run_id": run_id, "start_at": run.next_step})
    _progress(services, run, f"{run.runbook} {'resumed' if resumed else 'started'}.")
    done = threading.Event()
    threading.Thread(target=_heartbeat, args=(services, run_id, done), daemon=True,
                     name=f"runbook-heartbeat-{run_id}").start()
    try:
        runbook = get_runbook(services, run.runbook)
        engine = Engine(tools=tools_for(services, run, incident.slack_channel_id),
                        runbooks=library(services), listener=_Recorder(services, run))
        result = engine.run(runbook, context, run.params, start_at=run.next_step)
        status, error, verdict = result.status, result.error, result.verdict
    except Exception as failure:  # never leave a run 'running' because of a bug
        log.exception("runbook run %s crashed", run_id)
        result, status, verdict = None, "failed", None
        error = f"{type(failure).__name__}: {failure}"
    finally:
        done.set()
    _finish(services, run, status, error, verdict)
    return result


def _finish(services: Services, run: RunbookRun, status: str, error: str | None,
            verdict: str | None) -> None:
    now = services.clock()
    with session_scope(services.engine) as session:
        held = runs_q.transition(session=session, run_id=run.id or 0,
                                 from_statuses=[RunStatus.running.value], to_status=status,
                                 held_by=RUNNER, active_key=None, error=error,
                                 verdict=verdict, ended_at=now, updated_at=now)
        if not held:  # taken over by another process: its owner records the end
            log.warning("runbook run %s is no longer held by %s; not finishing it here",
                        run.id, RUNNER)
            return
        message = f"{run.runbook} (run {run.id}) {status}"
        if verdict:
            message += f"; verification: {verdict}"
        if error:
            message += f": {error}"
        lifecycle.record(session=session, incident_id=run.incident_id,
                         actor=f"runbook:{run.runbook}", kind="runbook.finished", now=now,
                         message=message, details={"run_id": run.id, "status": status,
                                                   "verdict": verdict, "error": error})
    _progress(services, run, message)


# -- crash recovery -----------------------------------------------------------------------------


def recover_interrupted(services: Services, *,
                        stale: timedelta | None = None) -> list[tuple[int, str]]:
    """Resume or mark every run a dead process left behind; never forget one.

    ``running`` runs resume when every step from the one that was running onwards
    is idempotent, else they become ``interrupted`` with a timeline event and a
    progress message. ``approved`` runs nobody started within the stale period are
    started. A running run is left behind only when its runner is another process
    and either its heartbeat is older than the stale period (on SQLite as on
    PostgreSQL: a ``resilio runbook run`` in a terminal heartbeats like a replica)
    or its runner is a process of this host that has exited (a restart takes its
    own dead runs over at once). Runs at start and, on the leader, twice per period.
    """
    cutoff = services.clock() - (stale_after(services) if stale is None else stale)
    outcomes: list[tuple[int, str]] = []
    with session_scope(services.engine) as session:
        orphans = [run for run in runs_q.runs_in_status(
            session=session, statuses=[RunStatus.running.value, RunStatus.approved.value])
            if run.runner != RUNNER and (run.updated_at <= cutoff or gone(run.runner))]
    for run in orphans:
        try:
            outcomes.append((run.id or 0, _recover_one(services, run)))
        except Exception:  # one bad run must not stop the others from being recovered
            log.exception("could not recover runbook run %s", run.id)
    return outcomes


def _heartbeat(services: Services, run_id: int, done: threading.Event) -> None:
    """Keep ``updated_at`` fresh while this process runs the run, so no replica takes it.

    The CLI's ``resilio runbook run`` beats the same way as a server does.
    """
    interval = services.settings.runbook_stale_seconds / BEATS_PER_PERIOD
    while not done.wait(interval):
        try:
            with session_scope(services.engine) as session:
                session.execute(update(RunbookRun)
                                .where(col(RunbookRun.id) == run_id,
                                       col(RunbookRun.status) == RunStatus.running.value,
                                       col(RunbookRun.runner) == RUNNER)
                                .values(updated_at=services.clock()))
        except Exception:  # the database may be down; the next beat tries again
            log.warning("heartbeat of runbook run %s failed", run_id, exc_info=True)


def _recover_one(services: Services, run: RunbookRun) -> str:
    if run.status == RunStatus.approved.value:
        services.submit(execute, services, run.id)
        return "started"
    runbook = library(services).get(run.runbook)
    remaining = runbook.steps[run.next_step:] if runbook else []
    blocking = next((s for s in remaining if not s.idempotent), None)
    resumable = runbook is not None and blocking is None
    now = services.clock()
    with session_scope(services.engine) as session:
        if resumable:
            moved = runs_q.transition(session=session, run_id=run.id or 0,
                                      from_statuses=[RunStatus.running.value],
                                      to_status=RunStatus.approved.value, runner=None,
                                      updated_at=now)
            text = (f"{run.runbook} (run {run.id}) was interrupted by a restart at step "
                    f"{run.next_step + 1}; every remaining step is idempotent, so it resumes.")
            kind = "runbook.resumed"
        else:
            moved = runs_q.transition(session=session, run_id=run.id or 0,
                                      from_statuses=[RunStatus.running.value],
                                      to_status=RunStatus.interrupted.value, active_key=None,
                                      ended_at=now, updated_at=now,
                                      error="interrupted by a restart")
            why = (f"step {blocking.id} is not idempotent" if blocking is not None
                   else f"runbook {run.runbook} no longer exists")
            text = (f"{run.runbook} (run {run.id}) was interrupted by a restart at step "
                    f"{run.next_step + 1} and was not resumed ({why}). Check the system "
                    f"before running it again.")
            kind = "runbook.interrupted"
        if not moved:
            return "skipped"  # another replica recovered it first
        for record in runs_q.steps_for_run(session=session, run_id=run.id or 0):
            if record.status == "running":
                record.status, record.ended_at = "interrupted", now
                record.error = "the process running it stopped"
                session.add(record)
        lifecycle.record(session=session, incident_id=run.incident_id,
                         actor=f"runbook:{run.runbook}", kind=kind, now=now, message=text,
                         details={"run_id": run.id, "next_step": run.next_step})
    _progress(services, run, text)
    if resumable:
        services.submit(execute, services, run.id)
        return "resumed"
    return "interrupted"


# -- reading ------------------------------------------------------------------------------------


def run_view(services: Services, *, run_id: int) -> dict[str, Any]:
    """A run and its step records as plain data (API, Slack summary, demo summary.json)."""
    with session_scope(services.engine) as session:
        run = _load_run(session, run_id)
        steps = runs_q.steps_for_run(session=session, run_id=run_id)
    return {"id": run.id, "incident_id": run.incident_id, "runbook": run.runbook,
            "status": run.status, "verdict": run.verdict, "error": run.error,
            "params": _safe_params(get_runbook(services, run.runbook), run.params),
            "requested_by": run.requested_by, "decided_by": run.decided_by,
            "created_at": run.created_at.isoformat() if run.created_at else None,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "ended_at": run.ended_at.isoformat() if run.ended_at else None,
            "steps": [{"path": s.path, "step": s.step_id, "kind": s.kind, "status": s.status,
                       "attempts": s.attempts, "summary": s.summary, "error": s.error,
                       "duration_seconds": s.duration_seconds} for s in steps]}


def runs_of(services: Services, *, incident_id: int) -> list[dict[str, Any]]:
    with session_scope(services.engine) as session:
        ids = [run.id for run in runs_q.runs_for_incident(session=session,
                                                          incident_id=incident_id)]
    return [run_view(services, run_id=run_id) for run_id in ids if run_id is not None]


def is_active(status: str) -> bool:
    return status in {s.value for s in ACTIVE_STATUSES}
