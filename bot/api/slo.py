"""JSON API over SLO status: attainment, budget, burn rate and alerts per objective."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import require_reader
from bot.api.params import QueryTime
from bot.core.clock import format_ts
from bot.core.errors import NotFound
from bot.core.services import Services
from bot.slo.compute import all_statuses, service_status

router = APIRouter(prefix="/v1", tags=["slo"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


# Plain ``def`` handlers: FastAPI runs them in its thread pool, so the budget
# computation never blocks the event loop that acks Slack.
@router.get("/slo", summary="Every SLO of every service", responses=docs.READ,
            openapi_extra=docs.secured())
def list_slos(request: Request, services: ServicesDep,
              at: QueryTime | None = None) -> dict[str, Any]:
    require_reader(request, services)
    now = at or services.clock()
    data = [status.to_dict() for status in all_statuses(services, now=now)]
    return {"data": data, "count": len(data), "computed_at": format_ts(now)}


@router.get("/slo/{service}", summary="The SLOs of one service", responses=docs.READ_ONE,
            openapi_extra=docs.secured())
def service_slos(request: Request, services: ServicesDep, service: str,
                 at: QueryTime | None = None) -> dict[str, Any]:
    require_reader(request, services)
    now = at or services.clock()
    try:
        statuses = service_status(services, service, now=now)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    data = [status.to_dict() for status in statuses]
    return {"service": service, "data": data, "count": len(data),
            "computed_at": format_ts(now)}
