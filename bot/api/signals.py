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

from bot.api import docs
from bot.api.guards import ActingBody, Scope, parse_batch, read_body, require, require_bearer
from bot.api.params import IncidentId
from bot.config.catalog import FailureClass
from bot.core.errors import NotFound, UserError
from bot.core.exchange_records import AlertRecord
from bot.core.services import Services
from store.db import session_scope
from store.signal_queries import save_records


class LabelIn(ActingBody):
    label: FailureClass


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


def _relabel(services: Services, incident_id: int, body: LabelIn,
             actor: str) -> dict[str, Any]:
    from bot.core import outbox
    from bot.diagnosis.feedback import relabel

    now = services.clock()
    with session_scope(services.engine) as session:
        incident = relabel(session=session, incident_id=incident_id, label=body.label,
                           actor=actor, now=now)
        result = {"incident_id": incident_id, "behavior": incident.behavior,
                  "label_source": incident.label_source}
        # bot.core.outbox: the new owners' invitation and the summary commit with the label
        work = outbox.record(session, "incident.relabelled", now=now, incident_id=incident_id)
    outbox.kick(services, work)
    return result


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["signals"])

    @router.post("/v1/signals", summary="exchange-format records (JSON Lines or a JSON array)",
                 responses={**docs.partial("Some records were stored"), **docs.INTAKE},
                 openapi_extra=docs.SIGNALS_BODY)
    async def post_signals(request: Request) -> JSONResponse:
        require_bearer(request, services.settings.token_for("generic"), "signal intake")
        batch = parse_batch(await read_body(request, services))
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
        caller = require(request, services, Scope.act, "relabelling an incident")
        try:
            return await run_in_threadpool(_relabel, services, incident_id, body, caller.actor)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
        except UserError as error:
            raise HTTPException(422, str(error)) from None

    return router
