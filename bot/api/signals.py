"""Signal intake (``POST /v1/signals``) and responder relabels (``POST /v1/incidents/{id}/label``).

A batch is JSON Lines or a JSON array of exchange records. Bad records are refused
with their line number and reason; the good ones are stored and listed by line, so
a collector can resend exactly what was lost.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.api import docs
from bot.api.guards import read_body, require_bearer
from bot.api.params import IncidentId
from bot.catalog import FailureClass
from bot.errors import NotFound, UserError
from bot.exchange import AlertRecord, parse_body
from bot.services import Services
from store.db import session_scope
from store.signal_queries import save_records


class LabelIn(BaseModel):
    label: FailureClass
    actor: str = Field(default="api", min_length=1, max_length=200)


def _store(services: Services, records: list[Any]) -> tuple[int, list[AlertRecord]]:
    with session_scope(services.engine) as session:
        return save_records(session=session, records=records)


def _alerts(services: Services, alerts: list[AlertRecord]) -> dict[str, Any]:
    try:
        from bot.intake.ingest import ingest_alert_records
    except ImportError:
        return {"alerts": len(alerts), "alerts_note": "alert records skipped: no alert intake"}
    result = ingest_alert_records(services, alerts)
    return {"alerts": len(alerts), "incidents_opened": getattr(result, "opened", None)}


def _relabel(services: Services, incident_id: int, body: LabelIn) -> dict[str, Any]:
    from bot.diagnosis.feedback import relabel

    with session_scope(services.engine) as session:
        incident = relabel(session=session, incident_id=incident_id, label=body.label,
                           actor=body.actor, now=services.clock())
        result = {"incident_id": incident_id, "behavior": incident.behavior,
                  "label_source": incident.label_source}
    services.emit("incident.relabelled", incident_id=incident_id)
    services.emit("incident.changed", incident_id=incident_id)
    return result


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["signals"])

    @router.post("/v1/signals", summary="exchange-format records (JSON Lines or a JSON array)",
                 responses={**docs.partial("Some records were stored"), **docs.INTAKE},
                 openapi_extra=docs.SIGNALS_BODY)
    async def post_signals(request: Request) -> JSONResponse:
        require_bearer(request, services.settings.token_for("generic"), "signal intake")
        body = await read_body(request, services)
        try:
            batch = parse_body(body)
        except UnicodeDecodeError:
            raise HTTPException(400, "body is not UTF-8 text") from None
        errors = [{"line": e.line, "reason": e.reason} for e in batch.errors]
        if not batch.records:
            raise HTTPException(400, {"message": "no valid record in the batch",
                                      "accepted": 0, "taken_lines": [], "errors": errors})
        stored, alerts = await run_in_threadpool(_store, services, batch.records)
        payload: dict[str, Any] = {"accepted": len(batch.records), "stored": stored,
                                   "taken_lines": batch.lines, "errors": errors}
        if alerts:
            payload.update(await run_in_threadpool(_alerts, services, alerts))
        return JSONResponse(payload, status_code=207 if errors else 200)

    @router.post("/v1/incidents/{incident_id}/label", summary="a responder's label",
                 responses=docs.WRITE_ONE, openapi_extra=docs.secured())
    async def post_label(incident_id: IncidentId, body: LabelIn,
                         request: Request) -> dict[str, Any]:
        require_bearer(request, services.settings.api_token or services.settings.token_for(
            "generic"), "the incident API")
        try:
            return await run_in_threadpool(_relabel, services, incident_id, body)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
        except UserError as error:
            raise HTTPException(422, str(error)) from None

    return router
