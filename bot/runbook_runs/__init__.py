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

from bot.runbook_runs.context import (
    DEFAULT_GATEWAY_URL,
    actor_name,
    incident_context,
    load_incident,
    post_progress,
    safe_params,
    suspect_change,
    user_id_of,
)
from bot.runbook_runs.execute import (
    BEATS_PER_PERIOD,
    execute,
    stale_after,
    tools_for,
)
from bot.runbook_runs.library import get_runbook, library, load_library
from bot.runbook_runs.read import run_view, runs_of
from bot.runbook_runs.recovery import recover_interrupted
from bot.runbook_runs.requests import (
    Forbidden,
    StartResult,
    approve,
    cancel,
    dry_run,
    ensure_may_run,
    reject,
    start,
)
from bot.runbook_runs.suggest import (
    Suggestion,
    moved_signals,
    parameter_defaults,
    parameter_errors,
    suggest,
    suggest_for,
)

__all__ = [
    "BEATS_PER_PERIOD",
    "DEFAULT_GATEWAY_URL",
    "Forbidden",
    "StartResult",
    "Suggestion",
    "actor_name",
    "approve",
    "cancel",
    "dry_run",
    "ensure_may_run",
    "execute",
    "get_runbook",
    "incident_context",
    "library",
    "load_incident",
    "load_library",
    "moved_signals",
    "parameter_defaults",
    "parameter_errors",
    "post_progress",
    "recover_interrupted",
    "reject",
    "run_view",
    "runs_of",
    "safe_params",
    "stale_after",
    "start",
    "suggest",
    "suggest_for",
    "suspect_change",
    "tools_for",
    "user_id_of",
]
