"""``build_slack_app(services)``: the Bolt app with every listener registered.

No module-level App: each call builds one, so tests and the demo get an app wired
to their own database and Slack emulator. ``process_before_response=True`` runs
each ack function inline and hands the lazy functions to our executor, so the
HTTP answer leaves as soon as the (I/O-free) ack returns, with no polling, and
``services.drain()`` also waits for the work done after the ack. The HTTP route
gives most acks itself, from the same ack functions, and dispatches those requests
here afterwards (:mod:`bot.slack.fast_ack`).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any
from weakref import WeakKeyDictionary

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.core.services import Services
from bot.slack.acks import acks_first
from bot.slack.verification import VerifiedOnce

LISTENER_MODULES = [
    "bot.slack.listeners.commands",
    "bot.slack.listeners.actions",
    "bot.slack.listeners.views",
    "bot.slack.listeners.events",
    "bot.slack.listeners.runbooks",
    "bot.slack.listeners.oncall",
    "bot.slack.listeners.slo",
]


# Per running bot: the identity its Bolt app answers as.
_IDENTITIES: WeakKeyDictionary[Services, BotIdentity] = WeakKeyDictionary()


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
        """Start the worker threads (and the gate's releaser) now, not on the first burst
        (``bot.core.warmup``)."""
        from bot.core.warmup import prestart_threads

        self._gate.start_releaser()
        return prestart_threads(self._pool) + 1


def slack_client(services: Services) -> WebClient:
    if services.slack is not None:
        return services.slack
    settings = services.settings
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


class BotIdentity:
    """The bot's own Slack ids (``auth.test``), learned off the request path.

    Bolt's single-workspace authorization calls ``auth.test`` on the first request
    and again on every request while it fails, so with the Slack API unreachable a
    slash command waited on the network and then answered 500. This authorize
    function answers at once from what is known (the token always; the bot's ids
    once learned), and a request that finds them unknown starts one background
    ``auth.test``: the ack never waits on the Slack Web API.
    """

    RETRY_SECONDS = 30.0

    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client
        self.result: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._asked_at = -self.RETRY_SECONDS

    def authorize(self, enterprise_id: str | None, team_id: str | None,
                  user_id: str | None) -> AuthorizeResult:
        known = self.result
        if known is None:
            self._learn_soon()
        known = known or {}
        return AuthorizeResult(enterprise_id=enterprise_id or known.get("enterprise_id"),
                               team_id=team_id or known.get("team_id"), user_id=user_id,
                               bot_token=self.client.token, bot_user_id=known.get("user_id"),
                               bot_id=known.get("bot_id"))

    def _learn_soon(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._asked_at < self.RETRY_SECONDS:
                return
            self._asked_at = now
        self.services.submit(self.learn)

    def learn(self) -> None:
        """Ask Slack who the bot is; a failure is only logged (a later request retries)."""
        try:
            answer = self.client.auth_test()
        except Exception as error:  # noqa: BLE001 - Slack down must not fail anything here
            logging.getLogger(__name__).warning("auth.test failed: %s", error)
            return
        self.result = dict(answer.data) if isinstance(answer.data, dict) else None


class _TokenSkippedNotice(logging.Filter):
    """Drops Bolt's notice that, with ``authorize`` given, it ignores the client's token.

    It is expected here: the same token comes back in every AuthorizeResult, and the
    app's client keeps it for the listeners that post outside a request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "`authorize` has been used" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_TokenSkippedNotice())


def build_slack_app(services: Services, *, socket_mode: bool = False) -> App:
    """The Bolt app; HTTP requests must carry a valid signature unless ``socket_mode``."""
    settings = services.settings
    if not socket_mode and not settings.slack_signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified")
    executor = TrackedExecutor(services)
    services.warm_pools.append(executor)
    client = slack_client(services)
    identity = BotIdentity(services, client)
    _IDENTITIES[services] = identity

    def authorize(enterprise_id: str | None, team_id: str | None,
                  user_id: str | None) -> AuthorizeResult:
        # A plain function: Bolt passes arguments by the names it finds in the code.
        return identity.authorize(enterprise_id, team_id, user_id)

    secret = settings.slack_signing_secret or "socket-mode-needs-no-signature"
    app = App(
        client=client,
        authorize=authorize,
        signing_secret=secret,
        # Bolt's own check, in its place, done once (bot.slack.verification)
        request_verification_enabled=False,
        before_authorize=None if socket_mode else VerifiedOnce(secret),
        token_verification_enabled=False,
        process_before_response=True,
        listener_executor=executor,
    )
    for name in LISTENER_MODULES:
        importlib.import_module(name).register(app, services)
    return app


def learn_identity(services: Services) -> None:
    """Ask for the bot's ids at start-up, so the first requests already know them."""
    identity = _IDENTITIES.get(services)
    if identity is not None:
        identity.learn()
