"""Durable follow-up work: what must happen after a commit is written in that commit.

An incident that opens must be diagnosed, get its channel and its escalation timer;
one that changes must have its pinned summary refreshed and, at mitigation, its
budget impact priced. Running that in memory after the commit loses it when the
process dies between the commit and the work. Instead, the transaction that opens
or changes an incident calls :func:`record`, which writes one outbox row per
handler of the event (:data:`FOLLOW_UPS`); after the commit :func:`kick` runs those
rows at once on the background pool (the fast path), and a poller on every replica
(:class:`Worker`) takes whatever is due: rows nobody ran, rows whose worker died
(its lease ran out, or its pid is gone from this host), rows to retry after a
failure (exponential backoff), until ``max_attempts`` make a row ``dead``, counted
in ``/healthz`` and ``/metrics``.

Delivery is at least once, so every handler is idempotent on a key that already
exists: the diagnosis is skipped once stored, the channel has its database claim,
the escalation timer its job id, a summary refresh re-reads the incident.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.core.runner_identity import HOST, RUNNER, gone
from store import outbox_queries as tasks_q
from store.db import session_scope
from store.outbox_queries import ClaimedTask

if TYPE_CHECKING:
    from bot.core.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    """One handler of an event, by a stable name that rows keep across code moves.

    The name is resolved to a function through ``services.follow_up_handlers``,
    which the composition root fills (``bot.scheduling.follow_ups.HANDLERS``), so this
    module knows what must happen without importing the parts that do it.
    ``needs`` names a payload field without which the handler has nothing to do
    (pricing needs the new status), so no row is written for it.
    """

    handler: str
    needs: str | None = None


# Which durable work follows which event, top to bottom. Handlers are called as
# handler(services=services, **payload) and must be idempotent.
FOLLOW_UPS: dict[str, tuple[FollowUp, ...]] = {
    "incident.opened": (FollowUp("diagnose"), FollowUp("open-channel"),
                        FollowUp("arm-escalation")),
    # opened inside a change's maintenance window: diagnosed now, paged only at release
    "incident.held": (FollowUp("diagnose"),),
    "incident.changed": (FollowUp("price-budget-impact", needs="status"),
                         FollowUp("refresh-summary")),
    "incident.relabelled": (FollowUp("post-relabel"),),
    "incident.classified": (FollowUp("post-diagnosis"),),
    "incident.escalated": (FollowUp("page-escalation"),),
    # every alert of the incident resolved: say so in its channel, with a Resolve button
    "incident.alerts_resolved": (FollowUp("post-alerts-resolved"),),
}
HANDLER_NAMES = frozenset(f.handler for follows in FOLLOW_UPS.values() for f in follows)

BATCH = 50  # rows one poll claims at most
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


class RetryLater(Exception):
    """A handler cannot finish yet (another worker is mid-way): try the row again later."""


def is_durable(event: str) -> bool:
    return event in FOLLOW_UPS


def _pending_key(handler: str, event: str, payload: dict[str, Any]) -> str:
    text = json.dumps([handler, event, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:64]


def record(session: Session, event: str, *, now: datetime, **payload: Any) -> list[int]:
    """Write the rows of ``event`` in the caller's transaction; returns their ids.

    ``now`` is the caller's clock (the one its workers compare leases with). A row
    identical to one still waiting is not written again (its ``pending_key``).
    """
    return record_each(session, event, now=now, payloads=[payload])


def record_each(session: Session, event: str, *, now: datetime,
                payloads: list[dict[str, Any]], delay: timedelta | None = None) -> list[int]:
    """:func:`record` for many payloads in one statement (a storm touches many incidents).

    With ``delay`` the rows wait that long, for the poller rather than the fast path:
    repeats arriving meanwhile coalesce into the waiting row, so an alert storm that
    changes an incident in every batch costs one summary refresh a second, not one
    per batch.
    """
    due = now + delay if delay else now
    rows = [{"event": event, "handler": follow.handler, "payload": payload,
             "incident_id": payload.get("incident_id"),
             "pending_key": _pending_key(follow.handler, event, payload),
             "state": "pending", "attempts": 0, "available_at": due, "created_at": now}
            for payload in payloads for follow in FOLLOW_UPS.get(event, ())
            if follow.needs is None or payload.get(follow.needs) is not None]
    return tasks_q.add(session=session, rows=rows)


def publish(services: Services, event: str, **payload: Any) -> None:
    """For work that is itself a follow-up: record in a transaction of its own, then kick.

    Used by ``Services.emit``; at-least-once still holds because the calling task is
    only marked done after this returns.
    """
    with session_scope(services.engine) as session:
        ids = record(session, event, now=services.clock(), **payload)
    kick(services, ids)


# -- running ---------------------------------------------------------------------------


def runs_here(services: Services) -> bool:
    """Whether this process runs follow-up work (the fast path and, in a server, the
    poller): it does once wired with handlers. Processes that only write (CLI commands)
    leave their rows to the server."""
    return services.runs_follow_ups


def kick(services: Services, ids: list[int]) -> None:
    """The fast path: run rows just committed now, on the background pool."""
    if ids and runs_here(services) and not services.settings.outbox_hold_seconds:
        services.submit(_claim_and_run, services, ids)


def _lease(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.outbox_lease_seconds)


def _claim(services: Services, ids: list[int] | None = None) -> list[ClaimedTask]:
    """Take the given rows (or any due ones) under this process's lease."""
    now = services.clock()
    hold = services.settings.outbox_hold_seconds
    with session_scope(services.engine) as session:
        return tasks_q.claim(session=session, worker=RUNNER, now=now,
                             lease_until=now + _lease(services), limit=BATCH, ids=ids,
                             created_before=now - timedelta(seconds=hold) if hold else None)


def _claim_and_run(services: Services, ids: list[int]) -> int:
    """Claim the rows just committed and run them: the first here, the others beside it."""
    claimed = _claim(services, ids)
    for task in claimed[1:]:
        services.submit(run_task, services, task)
    if claimed:
        run_task(services, claimed[0])
    return len(claimed)


def resolve(services: Services, handler: str) -> Callable[..., Any]:
    """The function a row names, from the handlers this process was given."""
    function = services.follow_up_handlers.get(handler)
    if function is None:
        raise LookupError(f"no follow-up handler {handler!r} in this process (services not "
                          "wired: bot.scheduling.follow_ups.install)")
    return function


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 2, 4, 8, ... up to five minutes."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


def run_task(services: Services, task: ClaimedTask) -> bool:
    """Run one claimed row; True when it is done. Failures are retried or left dead."""
    try:
        resolve(services, task.handler)(services=services, **task.payload)
    except Exception as error:
        _failed(services, task, error)
        return False
    with session_scope(services.engine) as session:
        tasks_q.finish(session=session, task_id=task.id, worker=RUNNER, now=services.clock())
    return True


def _failed(services: Services, task: ClaimedTask, error: Exception) -> None:
    now = services.clock()
    final = task.attempts >= services.settings.outbox_max_attempts
    retry_at = None if final else now + timedelta(seconds=backoff(task.attempts))
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, RetryLater):
        log.info("follow-up %s of %s (task %s) waits: %s", task.handler, task.event, task.id,
                 error)
    elif final:
        log.error("follow-up %s of %s (task %s) failed %d times and is dead: %s",
                  task.handler, task.event, task.id, task.attempts, text)
    else:
        log.warning("follow-up %s of %s (task %s) failed (attempt %d), retrying: %s",
                    task.handler, task.event, task.id, task.attempts, text, exc_info=error)
    services.metrics.outbox_failures.labels(task.handler.rpartition(":")[2]).inc()
    try:
        with session_scope(services.engine) as session:
            tasks_q.fail(session=session, task_id=task.id, worker=RUNNER, now=now, error=text,
                         retry_at=retry_at)
    except Exception:  # the lease runs out and the row is taken again
        log.exception("could not record the failure of follow-up task %s", task.id)


def release_dead_workers(services: Services) -> int:
    """Rows held by a process of this host that has exited become due now."""
    with session_scope(services.engine) as session:
        dead = [name for name in tasks_q.claimants(session=session, like=f"{HOST}:%")
                if gone(name)]
        return tasks_q.expire_leases(session=session, workers=dead, now=services.clock())


def counts(services: Services) -> dict[str, int]:
    with session_scope(services.engine) as session:
        return tasks_q.counts(session=session)


class Worker:
    """Polls for due rows every ``poll_seconds`` while the process runs."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="resilio-outbox", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def poll(self) -> int:
        """One round; returns how many rows were claimed."""
        services = self.services
        release_dead_workers(services)
        state = counts(services)
        for name, value in state.items():
            services.metrics.outbox_tasks.labels(name).set(value)
        # Claim only what the pool can start soon, so leases are not spent waiting in a queue.
        if len(services.pending) >= services.background._max_workers * 2:  # noqa: SLF001
            return 0
        claimed = _claim(services)
        for task in claimed:
            services.submit(run_task, services, task)
        return len(claimed)

    def _loop(self) -> None:
        interval = self.services.settings.outbox_poll_seconds
        while True:
            try:
                self.poll()
            except Exception:  # the database may be down; the next round tries again
                log.warning("outbox poll failed", exc_info=True)
            if self._stop.wait(interval):
                return


def start_worker(services: Services) -> Worker | None:
    """Start hook: poll for due follow-up work (in processes wired to run it)."""
    if not runs_here(services) or services.outbox_worker is not None:
        return None
    worker = services.outbox_worker = Worker(services).start()
    services.health_checks["outbox"] = lambda: counts(services)
    return worker


def stop_worker(services: Services) -> None:
    worker, services.outbox_worker = services.outbox_worker, None
    if worker is not None:
        worker.stop()
