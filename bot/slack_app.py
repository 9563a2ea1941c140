"""``build_slack_app(services)``: the Bolt app with every listener registered.

No module-level App: each call builds one, so tests and the demo get an app wired
to their own database and Slack emulator. ``process_before_response=True`` runs
each ack function inline and hands the lazy functions to our executor, so the
HTTP answer leaves as soon as the (I/O-free) ack returns, with no polling, and
``services.drain()`` also waits for the work done after the ack.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_sdk import WebClient

from bot.services import Services

LISTENER_MODULES = [
    "bot.listeners.commands",
    "bot.listeners.actions",
    "bot.listeners.views",
    "bot.listeners.events",
    "bot.listeners.runbooks",
    "bot.listeners.oncall",
]


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
                 in_turn_within: float = 30.0) -> None:
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

        Call it when the work is queued (in the listener), not when it runs.
        """
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


def acks_first(services: Services) -> AcksFirst:
    """The one gate of this bot: the HTTP route feeds it, the follow-up work waits on it."""
    gate = services.extras.get("slack_acks_first")
    if gate is None:
        gate = services.extras.setdefault("slack_acks_first", AcksFirst())
    return gate


class TrackedExecutor(Executor):
    """Runs Bolt's lazy listeners on a pool whose futures ``services.drain`` waits for."""

    def __init__(self, services: Services, workers: int = 8) -> None:
        self._services = services
        self._gate = acks_first(services)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="resilio-slack")

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._services.track(self._pool.submit(self._gate.hold(fn), *args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def prestart(self) -> int:
        """Start the worker threads now, not on the first burst (``bot.warmup``)."""
        from bot.warmup import prestart_threads

        return prestart_threads(self._pool)


def slack_client(services: Services) -> WebClient:
    if services.slack is not None:
        return services.slack
    settings = services.settings
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


def build_slack_app(services: Services, *, socket_mode: bool = False) -> App:
    """The Bolt app; HTTP requests must carry a valid signature unless ``socket_mode``."""
    settings = services.settings
    if not socket_mode and not settings.slack_signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified")
    executor = TrackedExecutor(services)
    services.extras.setdefault("slack_executors", []).append(executor)
    app = App(
        client=slack_client(services),
        signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signature",
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        process_before_response=True,
        listener_executor=executor,
    )
    for name in LISTENER_MODULES:
        importlib.import_module(name).register(app, services)
    return app


def _authorization(app: App) -> SingleTeamAuthorization | None:
    # Bolt keeps its built-in middleware in a private list; if that changes, the
    # answer is None and requests simply stay on the dispatch pool.
    for middleware in getattr(app, "_middleware_list", []):
        if isinstance(middleware, SingleTeamAuthorization):
            return middleware
    return None


def ack_path_is_io_free(app: App) -> bool:
    """True once a dispatch can no longer make a Web API call before the ack.

    Bolt's single-workspace authorization calls ``auth.test`` on the first request
    that needs it (``token_verification_enabled=False`` only defers that call) and
    again on every request while it fails. Until its result is known, a dispatch may
    block on Slack; after that, every ack function is I/O-free.
    """
    authorization = _authorization(app)
    return authorization is not None and authorization.auth_test_result is not None


def learn_identity(app: App) -> None:
    """Make the ``auth.test`` call Bolt would make on the first request, now.

    Run at start-up on the background pool, so the first slash command is not the
    one that waits for Slack; a failure is only logged (Bolt retries on a request).
    """
    authorization = _authorization(app)
    if authorization is None or authorization.auth_test_result is not None:
        return
    try:
        authorization.auth_test_result = app.client.auth_test()
    except Exception as error:  # noqa: BLE001 - start-up must not fail on Slack
        logging.getLogger(__name__).warning("auth.test at start-up failed: %s", error)
