"""Signal intake: ``POST /v1/signals``.

A batch is JSON Lines or a JSON array of exchange records. Bad records are refused
with their line number and reason; the good ones are stored and listed by line, so
a collector can resend exactly what was lost. ``alert`` records in the batch go on
to alert intake and may open incidents.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import parse_batch, read_body, require_bearer
from bot.core.exchange_records import AlertRecord, Record
from bot.core.services import Services
from bot.intake.ingest import ingest_alert_records
from store.db import session_scope
from store.signal_queries import save_records

router = APIRouter(tags=["signals"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


def _store(services: Services, records: list[Record]) -> tuple[int, list[AlertRecord]]:
    with session_scope(services.engine) as session:
        stored, left = save_records(session=session, records=records)
    return stored, [record for record in left if isinstance(record, AlertRecord)]


def _alerts(services: Services, alerts: list[AlertRecord]) -> dict[str, Any]:
    result = ingest_alert_records(services, alerts)
    return {"alerts": len(alerts), "incidents_opened": result.opened}


@router.post("/v1/signals", summary="exchange-format records (JSON Lines or a JSON array)",
             responses={**docs.partial("Some records were stored"), **docs.INTAKE},
             openapi_extra=docs.SIGNALS_BODY)
async def post_signals(request: Request, services: ServicesDep) -> JSONResponse:
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
