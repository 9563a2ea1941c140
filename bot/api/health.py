"""Liveness, readiness and the bot's own metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.services import Services


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Database reachable, scheduler role, source errors")
    def healthz(response: Response) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            with services.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:  # report, don't crash: this is what operators look at
            checks["database"] = f"error: {type(error).__name__}: {str(error)[:200]}"
            response.status_code = 503
        for name, probe in services.extras.get("health_checks", {}).items():
            try:
                checks[name] = probe()
            except Exception as error:
                checks[name] = f"error: {error}"
        checks["leader"] = bool(services.extras.get("is_leader", lambda: True)())
        status = "ok" if response.status_code != 503 else "degraded"
        return {"status": status, "checks": checks}

    @router.get("/metrics", summary="Prometheus exposition of the bot's own metrics")
    def metrics() -> Response:
        return Response(generate_latest(services.metrics.registry),
                        media_type=CONTENT_TYPE_LATEST)

    return router
