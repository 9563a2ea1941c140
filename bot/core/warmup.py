"""Start-up warming: work the first burst of requests would otherwise do on the ack path.

A ``ThreadPoolExecutor`` starts its threads one by one, on ``submit``: the first
burst of Slack requests after start-up queues its follow-up work from the event
loop, so that burst also paid for starting every worker thread of the pools (up to
8 for Bolt's listeners, plus the background pool), each start taking the GIL from
the acks. They are started here instead, when the server starts. Likewise the
database pool opens its connections on demand (on PostgreSQL a connection costs
a round of authentication): the follow-up work of that burst found none open. And
the exchange-record validators are built on first use (``bot.core.exchange_records``), and the
``idna`` codec on the first connection to a host name, which a server does here,
not on its first request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.core.exchange_records import build_validators

log = logging.getLogger(__name__)
_START_TIMEOUT = 1.0


def prestart_threads(pool: ThreadPoolExecutor) -> int:
    """Start every worker thread of ``pool`` now; returns how many were asked for.

    ``submit`` starts a thread when no worker is idle, and each of these tasks waits
    until all have started, so every submit here starts one. Nothing waits for them:
    the threads exist when ``submit`` returns.
    """
    workers = int(getattr(pool, "_max_workers", 0))  # the stdlib has no public accessor
    if workers <= 0:
        return 0
    barrier = threading.Barrier(workers)

    def wait_for_the_others() -> None:
        # A busy pool (some workers already running) breaks the barrier: no harm done.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(_START_TIMEOUT)

    for _ in range(workers):
        pool.submit(wait_for_the_others)
    return workers


def open_connections(engine: Engine, count: int) -> int:
    """Open ``count`` pooled connections at once (each checked with ``SELECT 1``) and
    return them to the pool, which keeps them; returns how many were opened."""
    size = getattr(engine.pool, "size", None)
    count = min(count, size()) if callable(size) else count
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(engine.connect()).execute(text("SELECT 1"))
    return count


def load_codecs() -> None:
    """Import the codec the first connection to a host name loads.

    ``socket.getaddrinfo`` encodes a host name with the ``idna`` codec, imported on
    first use (``encodings.idna`` and ``stringprep``, ~5 ms holding the GIL): the
    first burst's replies to Slack paid it beside the acks.
    """
    "localhost".encode("idna")


def warm_up(services: Any) -> None:
    """Start-up hook: the record validators, the codecs, the worker threads of the
    background and Slack pools, and as many database connections as the Slack pool
    has workers."""
    build_validators()
    load_codecs()
    started = prestart_threads(services.background)
    executors = services.warm_pools
    for executor in executors:
        started += executor.prestart()
    try:
        connections = open_connections(services.engine, 8 if executors else 2)
    except Exception as error:  # noqa: BLE001 - a database down at start-up is reported later
        log.warning("start-up warming: no database connection: %s", error)
        connections = 0
    log.debug("start-up warming: %d worker threads, %d database connections",
              started, connections)
