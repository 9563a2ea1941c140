"""``create_app(services)``: the one HTTP server (webhooks, JSON API, Slack, metrics).

Each API module exposes ``build_router(services)``; the list below is the whole
surface, read top to bottom, with the raw ASGI routes answered before FastAPI's
middleware and router (Slack's, whose acks are timed). The scheduler starts and stops
with the app.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api.docs import install
from bot.core.services import Services

log = logging.getLogger(__name__)

ROUTER_MODULES = [
    "bot.api.health",
    "bot.api.webhooks",
    "bot.api.incidents",
    "bot.api.slo",
    "bot.api.runbooks",
    "bot.api.signals",
    "bot.api.oncall",
    "bot.api.otlp",
    "bot.api.reads",
    "bot.api.change_webhooks",
]

# path -> build_route(services), an ASGI app for that path (every method), ahead of FastAPI
RAW_ROUTES: dict[str, str] = {
    "/slack/events": "bot.api.slack.build_route",
}

# Hooks run at start-up and shutdown (scheduler, crash recovery); each takes Services.
STARTUP_HOOKS: list[str] = [
    "bot.core.warmup.warm_up",  # first, while the pools are idle
    "bot.runbook_runs.recover_interrupted",
    "bot.scheduling.jobs.start_scheduling",
    "bot.reports.schedule.start_digest_schedules",
    "bot.sources.register_health",
    "bot.core.outbox.start_worker",
]
SHUTDOWN_HOOKS: list[str] = [
    "bot.core.outbox.stop_worker",
    "bot.core.scheduler.stop_scheduler",
]


def _call(path: str, services: Services) -> None:
    module_name, _, function = path.rpartition(".")
    getattr(importlib.import_module(module_name), function)(services)


class RawRoutesFirst(FastAPI):
    """FastAPI, with a few paths answered by raw ASGI apps before its middleware stack.

    FastAPI's stack (error and telemetry middleware, the body limit, exception
    handling, its exit stack, the router) is five layers of coroutines per request;
    a route that reads its own raw body and answers its own errors needs none of it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raw_routes: dict[str, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            route = self.raw_routes.get(path)
            if route is None and path.endswith("/"):
                # ``/slack/events/`` as typed into Slack's settings: Slack does not follow
                # a redirect, so the route answers it itself (one slash, not any number)
                route = self.raw_routes.get(path[:-1])
            if route is not None:
                await route(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in STARTUP_HOOKS:
            _call(hook, services)
        yield
        for hook in SHUTDOWN_HOOKS:
            _call(hook, services)

    app = RawRoutesFirst(title="Resilio", version="0.1.0", lifespan=lifespan,
                  description="Incident-response ChatOps for AI systems.")
    app.state.services = services

    @app.exception_handler(DBAPIError)
    async def database_unavailable(_: Request, error: DBAPIError) -> JSONResponse:
        # Fail fast and say so while the database is down; the pool reconnects afterwards.
        if error.connection_invalidated or isinstance(error, OperationalError):
            log.warning("database error answered with 503: %s", str(error).splitlines()[0])
            return JSONResponse({"detail": "database unavailable; retry later"},
                                status_code=503, headers={"Retry-After": "5"})
        # A value the database refused is the request's fault, never a 500; the
        # validators should have caught it first, so it is logged to be fixed there.
        if isinstance(error, DataError | IntegrityError):
            reason = str(error.orig).splitlines()[0][:300] if error.orig else type(error).__name__
            log.warning("database refused a request's data: %s", reason)
            status = 422 if isinstance(error, DataError) else 409
            return JSONResponse({"detail": f"the database refused a value: {reason}"},
                                status_code=status)
        raise error

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes each bad input, which fails to render (a 500) when
        # the input holds NaN, and can echo megabytes: where and why are enough.
        detail = [{"type": item.get("type"), "loc": list(item.get("loc", ())),
                   "msg": item.get("msg")} for item in error.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    for path, builder in RAW_ROUTES.items():
        module_name, _, function = builder.rpartition(".")
        app.raw_routes[path] = getattr(importlib.import_module(module_name), function)(services)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).build_router(services))

    install(app)  # request bodies the intake routes read themselves, the bearer scheme
    return app
