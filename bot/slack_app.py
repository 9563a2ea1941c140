"""``build_slack_app(services)``: the Bolt app with every listener registered.

No module-level App: each call builds one, so tests and the demo get an app wired
to their own database and Slack emulator. ``process_before_response=True`` runs
each ack function inline and hands the lazy functions to our executor, so the
HTTP answer leaves as soon as the (I/O-free) ack returns, with no polling, and
``services.drain()`` also waits for the work done after the ack.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import Services

LISTENER_MODULES = [
    "bot.listeners.commands",
    "bot.listeners.actions",
    "bot.listeners.views",
    "bot.listeners.events",
    "bot.listeners.runbooks",
]


class TrackedExecutor(Executor):
    """Runs Bolt's lazy listeners on a pool whose futures ``services.drain`` waits for."""

    def __init__(self, services: Services, workers: int = 8) -> None:
        self._services = services
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="resilio-slack")

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._services.track(self._pool.submit(fn, *args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


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
