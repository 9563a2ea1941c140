"""The long-lived things a running bot shares: settings, catalog, database, Slack, workers.

Built once by ``build_services`` (never at import time) and handed to the HTTP app,
the Slack app, the scheduler and the CLI, so each of them can be built in tests
with a temporary database and the Slack emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from bot.config.catalog import Catalog, load_catalog
from bot.config.settings import Settings
from bot.core import outbox
from bot.core.clock import utcnow
from bot.core.events import EventBus
from bot.core.metrics import Metrics
from runbooks.models import Runbook
from store.db import make_engine

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.core.leader import LeaderElection
    from bot.core.outbox import Worker


class Prestartable(Protocol):
    def prestart(self) -> int:
        """Start the pool's threads now; returns how many started."""
        ...


# Reads a service's records over a time range, for a runbook's ``verify`` step.
SignalReader = Callable[[str, datetime, datetime], list[Any]]


@dataclass(eq=False)  # one bot, compared and hashed by identity (parts key caches on it)
class Services:
    settings: Settings
    catalog: Catalog
    engine: Engine
    background: ThreadPoolExecutor
    slack: WebClient | None = None  # set when a bot token is (tests: pointed at the emulator)
    clock: Callable[[], datetime] = utcnow
    events: EventBus = field(default_factory=EventBus)
    metrics: Metrics = field(default_factory=Metrics)
    # follow-up name -> handler(services=, **payload); filled by the wiring, empty in
    # processes that only record work for a server to run (bot.core.outbox)
    follow_up_handlers: dict[str, Callable[..., None]] = field(default_factory=dict)
    runs_follow_ups: bool = False  # this process runs them (fast path, poller): set by wiring
    # name -> check() for /healthz; each part that runs in the background adds its own
    health_checks: dict[str, Callable[[], object]] = field(default_factory=dict)
    scheduler: BackgroundScheduler | None = None  # started by bot.core.scheduler
    leader: LeaderElection | None = None  # this replica's election, with the scheduler
    outbox_worker: Worker | None = None  # the follow-up poller (bot.core.outbox)
    runbooks: dict[str, Runbook] | None = None  # the library, loaded on first use
    # where runbooks' verify steps read signals (tests point it at a gateway); None: the store
    runbook_signal_reader: SignalReader | None = None
    # worker pools to start at start-up rather than on the first burst (the Slack app's)
    warm_pools: list[Prestartable] = field(default_factory=list)

    pending: set[Future[Any]] = field(default_factory=set)

    def is_leader(self) -> bool:
        """Whether this replica runs the timed work (one with no election leads itself)."""
        return self.leader is None or self.leader.is_leader

    def emit(self, name: str, **payload: Any) -> None:
        """Announce an event after the caller committed.

        Events with durable follow-up work (``bot.core.outbox.FOLLOW_UPS``) get their outbox
        rows written now, in a transaction of their own; code that changes an incident
        records them in its own transaction instead (``bot.core.outbox.record``). In-memory
        subscribers (runbook progress) run on the background pool.
        """

        if outbox.is_durable(name):
            outbox.publish(self, name, **payload)
        for future in self.events.emit(name, self.background, services=self, **payload):
            self.track(future)

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run slow work on the background pool, tracked so ``drain`` can wait for it."""
        return self.track(self.background.submit(function, *args, **kwargs))

    def track(self, future: Future[Any]) -> Future[Any]:
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        return future

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until no background work is left, including work that work queued."""
        deadline = time.monotonic() + timeout
        while self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(list(self.pending), timeout=remaining)
        return True

    def close(self) -> None:
        self.background.shutdown(wait=True)
        self.engine.dispose()


def build_services(settings: Settings, catalog: Catalog | None = None) -> Services:
    if catalog is None:
        catalog = load_catalog(settings.config_path)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         max_overflow=settings.db_max_overflow,
                         pool_timeout=settings.db_pool_timeout)
    slack = None
    if settings.slack_bot_token:
        from slack_sdk import WebClient

        slack = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    return Services(settings=settings, catalog=catalog, engine=engine,
                    background=ThreadPoolExecutor(max_workers=4, thread_name_prefix="resilio-bg"),
                    slack=slack)
