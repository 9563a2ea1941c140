"""A signed Slack request runs once: replays inside the five-minute window change nothing.

Slack signs ``v0:<timestamp>:<body>``; Bolt refuses a timestamp more than five
minutes away, but within that window the same bytes verify again, so anyone who
saw one request could replay it. Two layers stop that:

- :class:`ReplayCache`, per process, on the ack path: a signature seen before is
  acked with an empty 200 and not dispatched. It costs a dict lookup, and keeps each
  signature only until its timestamp leaves the window (Bolt refuses it then).
- :func:`claim_work`, in the database, off the ack path: each piece of work queued
  after an ack is keyed by the request's signature and its place in that request
  (``slack_processed_requests``, unique), so a replay that reaches another replica
  is acked there but its work does not run a second time.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from store.db import session_scope
from store.slack_models import SlackProcessedRequest

log = logging.getLogger(__name__)

WINDOW_SECONDS = 5 * 60


class ReplayCache:
    """Signatures of verified requests seen in this process, kept for the window."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: int) -> bool:
        """True the first time ``signature`` is seen within its window; False for a replay."""
        now = self._clock()
        with self._lock:
            while self._expiry:
                oldest, expiry = next(iter(self._expiry.items()))
                if expiry >= now:
                    break
                del self._expiry[oldest]
            if signature in self._expiry:
                return False
            self._expiry[signature] = timestamp + WINDOW_SECONDS
            return True

    def __len__(self) -> int:
        return len(self._expiry)


@dataclass
class SignedRequest:
    """The request being dispatched: its signature, the body it was verified over (so
    Bolt need not verify it again, :mod:`bot.slack.verification`), and how much work it
    has queued."""

    signature: str
    body: str | None = None
    queued: int = field(default=0)

    def next_key(self) -> str:
        self.queued += 1
        return f"signed:{self.signature}:{self.queued}"


# Set by the HTTP route around ``App.dispatch``; the work queued during it reads it.
current_request: contextvars.ContextVar[SignedRequest | None] = contextvars.ContextVar(
    "resilio_signed_request", default=None)


CLAIM_KIND = "signed_request"
PRUNE_EVERY = 500  # claims between two clean-ups of the claims older than the window
_claims = itertools.count(1)


def _prune(services: Any, *, before: datetime) -> None:
    """Claims older than the window guard nothing (Bolt refuses those requests): drop them."""
    table = SlackProcessedRequest.__table__  # type: ignore[attr-defined]
    with session_scope(services.engine) as session:
        session.execute(delete(table).where(table.c.kind == CLAIM_KIND)
                        .where(table.c.processed_at < before))


def claim_work(services: Any, key: str) -> bool:
    """True if this process may run the work ``key``: no replica has claimed it before.

    A database that cannot answer (locked, down) lets the work run: the in-process
    cache already stopped replays to this process, and losing a person's command
    is worse than running a cross-replica replay.
    """
    now = services.clock()
    try:
        with session_scope(services.engine) as session:
            session.add(SlackProcessedRequest(key=key[:300], kind=CLAIM_KIND, processed_at=now))
        if next(_claims) % PRUNE_EVERY == 0:
            _prune(services, before=now - timedelta(seconds=2 * WINDOW_SECONDS))
        return True
    except IntegrityError:
        return False
    except SQLAlchemyError as error:
        log.warning("could not record Slack request %s (%s); running its work", key, error)
        return True
