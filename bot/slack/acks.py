"""Acks first: the work after a Slack ack waits while a burst of requests is arriving.

Slack gives an ack three seconds; the follow-up work of one request (Web API calls,
database writes) would otherwise compete for the same threads and connections with
the acks of the requests still coming in. The HTTP route feeds the gate; the lazy
listeners wait on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from bot.core.services import Services
from bot.slack.replay import claim_work, current_request


class AcksFirst:
    """Holds the work after an ack back while a burst of Slack requests is arriving.

    On two cores under the GIL, follow-up work (database writes, replies to Slack)
    running next to a burst of requests slows every ack behind it: 50 concurrent
    acks went from ~30 ms to over 100 ms. Slack needs the acks within 3 seconds and
    the follow-ups only within the response_url's 30 minutes. So work whose request
    was followed by others waits until no request has come in for ``quiet``
    seconds, never longer than ``longest`` (sustained traffic must not starve it);
    a lone request's work starts at once.

    Holding work reorders it, so one person's work runs in the order they sent it
    (``after``: their user id): "mitigate" then "reopen" must not land reversed.
    """

    def __init__(self, quiet: float = 0.02, longest: float = 0.5,
                 in_turn_within: float = 30.0,
                 claim: Callable[[str], bool] | None = None) -> None:
        self.claim = claim  # for signed requests: may this work run (not a replay)?
        self.quiet = quiet
        self.longest = longest
        self.in_turn_within = in_turn_within
        self._requests = 0
        self._last_request = 0.0
        self._lock = threading.Lock()
        self._tails: dict[str, threading.Event] = {}

    def request_seen(self) -> None:
        """A request arrived (called on the event loop, for each one)."""
        self._requests += 1
        self._last_request = time.monotonic()

    def request_answered(self) -> None:
        self._last_request = time.monotonic()

    def hold(self, fn: Callable[..., Any], after: str | None = None) -> Callable[..., Any]:
        """``fn``, to run after the burst's acks and ``after``'s earlier work.

        Call it when the work is queued (in the listener), not when it runs. Work
        queued while a signed request is dispatched is claimed by that request's
        signature first, so a replay's work runs nowhere (:mod:`bot.slack.replay`).
        """
        signed = current_request.get()
        key = signed.next_key() if signed is not None and self.claim is not None else None
        requests = self._requests
        previous = done = None
        if after:
            done = threading.Event()
            with self._lock:
                previous = self._tails.get(after)
                self._tails[after] = done

        def held(*args: Any, **kwargs: Any) -> Any:
            try:
                self._wait_for_quiet(requests)
                if previous is not None:
                    previous.wait(self.in_turn_within)
                if key is not None and self.claim is not None and not self.claim(key):
                    return None
                return fn(*args, **kwargs)
            finally:
                if after and done is not None:
                    done.set()
                    with self._lock:
                        if self._tails.get(after) is done:
                            del self._tails[after]
        return held

    def _wait_for_quiet(self, requests: int) -> None:
        started = time.monotonic()
        while self._requests != requests:  # others came after ours: a burst
            now = time.monotonic()
            left = min(self.quiet - (now - self._last_request), self.longest - (now - started))
            if left <= 0:
                return
            time.sleep(left)


# Per running bot: its gate.
_GATES: WeakKeyDictionary[Services, AcksFirst] = WeakKeyDictionary()


def acks_first(services: Services) -> AcksFirst:
    """The one gate of this bot: the HTTP route feeds it, the follow-up work waits on it."""
    gate = _GATES.get(services)
    if gate is None:
        gate = _GATES.setdefault(services, AcksFirst(claim=lambda key: claim_work(services, key)))
    return gate


