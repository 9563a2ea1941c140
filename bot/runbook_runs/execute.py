"""Running a run: the engine with the bot's tools, a heartbeat, a timeline of its steps."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core.runner_identity import RUNNER
from bot.core.services import Services, SignalReader
from bot.incidents import lifecycle
from bot.runbook_runs.context import incident_context, load_incident, load_run, post_progress
from bot.runbook_runs.library import get_runbook, library
from bot.sources import load_signals
from bot.views.markup import escape
from bot.views.text import cut
from runbooks.engine import (
    Engine,
    RunResult,
    StepResult,
)
from runbooks.steps import Tools
from store import runbook_queries as runs_q
from store.db import session_scope
from store.runbook_models import (
    RunbookRun,
    RunbookStepRecord,
    RunStatus,
)

log = logging.getLogger(__name__)


# A running run whose heartbeat is older than ``RESILIO_RUNBOOK_STALE_SECONDS`` (20 s)
# lost its process, on every store: ``resilio serve`` and a ``resilio runbook run`` in a
# terminal share a SQLite file too. Its runner beats BEATS_PER_PERIOD times per period.
BEATS_PER_PERIOD = 4





def stale_after(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.runbook_stale_seconds)


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
        post_progress(self.services, self.run, f"▶ {step_id}: {title}")

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
                run = load_run(session, self.run.id or 0)
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
        post_progress(self.services, self.run, f"{mark} {result.step_id} {result.status} "
                                           f"({result.duration_seconds:.1f}s): {result.summary}")


def _signal_reader(services: Services) -> SignalReader:
    reader = services.runbook_signal_reader
    if reader is not None:
        return reader
    # bot.sources: pushed records plus those pulled from Prometheus (one seam for all).

    def read(service: str, start: datetime, end: datetime) -> list[Any]:
        with session_scope(services.engine) as session:
            return load_signals(services, session=session, service=service, start=start,
                                end=end).records

    return read


def _notifier(services: Services, run: RunbookRun, channel: str | None
              ) -> Callable[[str], None]:
    def notify(text: str) -> None:
        if services.slack is not None and channel:
            # a runbook's message is rendered from incident data: escaped, it is inert
            services.slack.chat_postMessage(channel=channel, text=cut(escape(text), 3000))
        else:
            post_progress(services, run, text)

    return notify


def _cancel_check(services: Services, run_id: int) -> Callable[[], bool]:
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
    return Tools(
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
        run = load_run(session, run_id)
        incident = load_incident(session, run.incident_id)
        context = incident_context(services, session, incident, run_id)
        resumed = run.next_step > 0
        lifecycle.record(session=session, incident_id=run.incident_id,
                         actor=f"runbook:{run.runbook}", kind="runbook.started", now=now,
                         message=f"{run.runbook} (run {run_id}) "
                                 + (f"resumed at step {run.next_step + 1}" if resumed
                                    else "started"),
                         details={"run_id": run_id, "start_at": run.next_step})
    post_progress(services, run, f"{run.runbook} {'resumed' if resumed else 'started'}.")
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
    post_progress(services, run, message)


def _heartbeat(services: Services, run_id: int, done: threading.Event) -> None:
    """Keep ``updated_at`` fresh while this process runs the run, so no replica takes it.

    The CLI's ``resilio runbook run`` beats the same way as a server does.
    """
    interval = services.settings.runbook_stale_seconds / BEATS_PER_PERIOD
    while not done.wait(interval):
        try:
            with session_scope(services.engine) as session:
                runs_q.beat(session=session, run_id=run_id, runner=RUNNER, now=services.clock())
        except Exception:  # the database may be down; the next beat tries again
            log.warning("heartbeat of runbook run %s failed", run_id, exc_info=True)
