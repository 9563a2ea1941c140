"""Acks first: the work after a Slack ack waits while a burst of requests is arriving.

Slack gives an ack three seconds; the follow-up work of one request (Web API calls,
database writes) would otherwise compete for the same threads and connections with
the acks of the requests still coming in. The HTTP route feeds the gate; the lazy
listeners wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from bot.core.services import Services
from bot.slack.replay import claim_work, current_request

# Set while a request acked by the route is dispatched to Bolt (bot.api.slack): that
# dispatch already waited for its burst and its sender's earlier work.
_in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("resilio_in_turn",
                                                                default=False)


class AcksFirst:
    """Holds the work after an ack back while a burst of Slack requests is arriving.

    On two cores under the GIL, follow-up work (database writes, replies to Slack)
    running next to a burst of requests slows every ack behind it: 50 concurrent
    acks went from ~30 ms to over 100 ms. Slack needs the acks within 3 seconds and
    the follow-ups only within the response_url's 30 minutes. So the listeners'
    work (``queue``) waits until no request has come in for ``quiet`` seconds,
    never longer than ``longest`` (sustained traffic must not starve it), with no
    pool thread woken meanwhile; work given to ``hold`` alone (Bolt's lazy
    listeners) waits likewise once its request was followed by others.

    A quiet on the clock is not enough on a loaded machine: the event loop's thread
    can wait 20 to 50 ms for a core while the rest of its burst sits unread in the
    sockets, and work released then ran beside those acks. So the quiet is confirmed
    by the event loop itself (``_loop_confirms``) before the work is released.

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
        self._queued: list[_Queued] = []
        self._releasing = False
        # tracked by the services of the work queued since the releaser last emptied the
        # queue, done once that work is on the pool (and tracked there itself)
        self._cycle: Future[Any] | None = None
        self._cycle_services: set[Services] = set()
        self._wake = threading.Event()
        self._releaser: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop reading the requests

    def request_seen(self) -> None:
        """A request arrived (called on the event loop, for each one)."""
        self._requests += 1
        self._last_request = time.monotonic()
        if self._loop is None:
            with contextlib.suppress(RuntimeError):  # no loop (a test): the clock alone
                self._loop = asyncio.get_running_loop()

    def request_answered(self) -> None:
        self._last_request = time.monotonic()

    def hold(self, fn: Callable[..., Any], after: str | None = None) -> Callable[..., Any]:
        """``fn``, to run after the burst's acks and ``after``'s earlier work.

        Call it when the work is queued (in the listener), not when it runs. Work
        queued while a signed request is dispatched is claimed by that request's
        signature first, so a replay's work runs nowhere (:mod:`bot.slack.replay`).
        """
        return self._held(fn, after, self._claim_key(), self._requests)

    def _claim_key(self) -> str | None:
        """The key the work queued now claims, for the signed request being dispatched."""
        signed = current_request.get()
        return signed.next_key() if signed is not None and self.claim is not None else None

    def _held(self, fn: Callable[..., Any], after: str | None, key: str | None,
              requests: int) -> Callable[..., Any]:
        """:meth:`hold`, for work queued when ``requests`` requests had been seen."""
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

    def queue(self, services: Services, fn: Callable[..., Any], /, *, after: str | None = None,
              **kwargs: Any) -> Future[Any]:
        """``services.submit(self.hold(fn, after), **kwargs)``, with the submit itself held.

        A pool thread woken during a burst is one more thread wanting the GIL: each
        time the event loop let go of it (hashing a large body, writing an answer),
        the loop waited for that thread to be scheduled and to hand it back, which on
        a busy machine is a scheduler's time slice. So the work is kept here, and one
        releaser thread (woken once per burst) submits it when the burst is over.

        Called on the event loop for every request of a burst, so only what must be
        read now is: the claim key (the request being dispatched) and the count of
        requests seen. The rest of :meth:`hold` (the sender's turn) is set up by the
        releaser, in the order the work was queued, and the work's future is tracked
        there too; until then one future per releasing round, tracked by the first
        work of the round, keeps ``services.drain`` waiting.
        """
        if _in_turn.get():
            return _run_now(self.hold(fn), kwargs)
        future: Future[Any] = Future()
        self._enqueue(_Queued(services, fn, after, self._claim_key(), self._requests, kwargs,
                              future))
        return future

    def defer(self, services: Services, fn: Callable[..., Any], /, *, after: str | None = None,
              **kwargs: Any) -> None:
        """:meth:`queue` for a caller that does not wait for the outcome (the route's acked
        requests): the work's future is made by the releaser too, not on the event loop."""
        if _in_turn.get():
            _run_now(self.hold(fn), kwargs)
            return
        self._enqueue(_Queued(services, fn, after, self._claim_key(), self._requests, kwargs))

    def _enqueue(self, queued: _Queued) -> None:
        services = queued.services
        with self._lock:
            self._queued.append(queued)
            wake, self._releasing = not self._releasing, True
            if self._cycle is None:
                self._cycle = Future()
            if services not in self._cycle_services:
                self._cycle_services.add(services)
                services.track(self._cycle)
        if wake:
            self.start_releaser()
            self._wake.set()

    @contextmanager
    def in_turn(self) -> Iterator[None]:
        """Work queued inside runs at once, in this thread (still claimed, as ``hold`` does).

        For the Bolt dispatch of a request the route acked itself: that dispatch was
        queued here in its sender's turn and released after its burst, so the work its
        listeners queue is already past both waits. Queued again, it would wait a second
        time, and behind work its sender sent later.
        """
        token = _in_turn.set(True)
        try:
            yield
        finally:
            _in_turn.reset(token)

    def start_releaser(self) -> None:
        """Start the releaser thread (at start-up, ``bot.core.warmup``; else on first use)."""
        with self._lock:
            if self._releaser is not None:
                return
            self._releaser = threading.Thread(target=self._release_forever, daemon=True,
                                              name="resilio-acks-first")
        self._releaser.start()

    def _release_forever(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self._release_all()

    def _release_all(self) -> None:
        while True:
            self._wait_until_quiet()
            with self._lock:
                batch, self._queued = self._queued, []
                if not batch:
                    self._releasing = False
                    cycle, self._cycle = self._cycle, None
                    self._cycle_services = set()
                    break
            for item in batch:
                future = item.future if item.future is not None else Future()
                item.services.track(future)
                held = self._held(item.fn, item.after, item.key, item.requests)
                _submit_into(future, item.services, held, item.kwargs)
        if cycle is not None:
            cycle.set_result(None)  # every future of the round is tracked by now

    def _wait_until_quiet(self) -> None:
        """Until no request has come in for ``quiet`` seconds (at most ``longest``).

        Even a request that looks alone waits that long: when its work is queued, the
        rest of its burst may not have been read yet (the event loop reads one request
        after another), and work started then would run beside those acks.
        """
        started = time.monotonic()
        while True:
            now = time.monotonic()
            left = min(self.quiet - (now - self._last_request), self.longest - (now - started))
            if left <= 0:
                if now - started >= self.longest or self._loop_confirms(started + self.longest):
                    return
                continue
            time.sleep(left)

    def _loop_confirms(self, deadline: float) -> bool:
        """Whether the event loop, asked now, has read no new request before answering.

        The question reaches the loop as an I/O event, so it is answered only once the
        loop has run again and polled its sockets; three more turns of the loop let the
        requests read in that same poll start (and count themselves) first.
        """
        loop, seen = self._loop, self._requests
        if loop is None:
            return True
        answered = threading.Event()

        def turn(left: int) -> None:
            if left:
                loop.call_soon(turn, left - 1)
            else:
                answered.set()
        try:
            loop.call_soon_threadsafe(turn, 3)
        except RuntimeError:  # the loop is closed: no more requests will come from it
            return True
        answered.wait(max(0.0, deadline - time.monotonic()))
        return self._requests == seen

    def _wait_for_quiet(self, requests: int) -> None:
        started = time.monotonic()
        while self._requests != requests:  # others came after ours: a burst
            now = time.monotonic()
            left = min(self.quiet - (now - self._last_request), self.longest - (now - started))
            if left <= 0:
                return
            time.sleep(left)


@dataclass(frozen=True)
class _Queued:
    """Work held by :meth:`AcksFirst.queue` until its burst is over."""

    services: Services
    fn: Callable[..., Any]
    after: str | None
    key: str | None  # what it claims (None: nothing to claim)
    requests: int  # requests seen when it was queued
    kwargs: dict[str, Any]
    future: Future[Any] | None = None  # None: made by the releaser (``defer``)


def _run_now(held: Callable[..., Any], kwargs: dict[str, Any]) -> Future[Any]:
    """``held(**kwargs)`` here and now; its outcome in a future, as the pool would give."""
    future: Future[Any] = Future()
    try:
        future.set_result(held(**kwargs))
    except Exception as error:  # noqa: BLE001 - kept in the future, as on the pool
        future.set_exception(error)
    return future


def _submit_into(future: Future[Any], services: Services, held: Callable[..., Any],
                 kwargs: dict[str, Any]) -> None:
    """Run ``held`` on the background pool; its outcome becomes ``future``'s."""

    def settle(done: Future[Any]) -> None:
        error = done.exception()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())

    try:
        services.background.submit(held, **kwargs).add_done_callback(settle)
    except RuntimeError as error:  # the pool is shut down: the bot is stopping
        future.set_exception(error)


# Per running bot: its gate.
_GATES: WeakKeyDictionary[Services, AcksFirst] = WeakKeyDictionary()


def acks_first(services: Services) -> AcksFirst:
    """The one gate of this bot: the HTTP route feeds it, the follow-up work waits on it."""
    gate = _GATES.get(services)
    if gate is None:
        gate = _GATES.setdefault(services, AcksFirst(claim=lambda key: claim_work(services, key)))
    return gate


