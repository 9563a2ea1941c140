"""Liveness, readiness and the bot's own metrics.

``/healthz`` answers 503 ("degraded") when the bot cannot do its job: the database
does not answer, or it answers but cannot take a write. A disk that is full keeps
``SELECT 1`` working while every alert is refused, so the check also writes (one
row per replica, at most every few seconds) and reads the store's record of the
last failed unit of work: a write that failed in the last 30 s keeps the bot
degraded, because the probe's one row can land in space a batch of alerts cannot.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.core.services import Services
from store import queries
from store.db import last_failure, session_scope, write_lock

PROBE_EVERY_SECONDS = 5.0
RECENT_FAILURE_SECONDS = 30.0


class WriteProbe:
    """The outcome of the last write probe, reused for a few seconds."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.replica = f"{socket.gethostname()}:{os.getpid()}"[:200]
        self.lock = threading.Lock()
        self.at = float("-inf")
        self.outcome = "not probed yet"

    def check(self) -> str:
        with self.lock:
            if time.monotonic() - self.at >= PROBE_EVERY_SECONDS:
                self.outcome = self._probe()
                self.at = time.monotonic()
            return self.outcome

    def _probe(self) -> str:
        engine = self.services.engine
        try:
            with write_lock(engine), session_scope(engine) as session:
                queries.touch_write_probe(session=session, replica=self.replica,
                                          now=self.services.clock())
        except Exception as error:  # report, don't crash: this is what operators look at
            return f"error: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        return "ok"


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["health"])
    probe = WriteProbe(services)

    @router.get("/healthz", summary="Database reads and writes, scheduler role, source errors",
                responses={503: {"description": "degraded: the checks say which part failed"}})
    def healthz(response: Response) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            with services.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"error: {type(error).__name__}: {str(error)[:200]}"
            response.status_code = 503
        else:
            checks["writes"] = probe.check()
            failed = last_failure(services.engine)
            if failed and time.monotonic() - failed[0] < RECENT_FAILURE_SECONDS:
                ago = time.monotonic() - failed[0]
                checks["writes"] = f"error {ago:.0f} s ago: {failed[1][:200]}"
            if checks["writes"] != "ok":
                response.status_code = 503
        for name, check in services.health_checks.items():
            try:
                checks[name] = check()
            except Exception as error:
                checks[name] = f"error: {error}"
        checks["leader"] = services.is_leader()
        status = "ok" if response.status_code != 503 else "degraded"
        return {"status": status, "checks": checks}

    @router.get("/metrics", summary="Prometheus exposition of the bot's own metrics",
                responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {
                    "type": "string"}}}, "description": "Prometheus text format"}})
    def metrics() -> Response:
        return Response(generate_latest(services.metrics.registry),
                        media_type=CONTENT_TYPE_LATEST)

    return router
