"""JSON API over incidents and change events."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from bot import incident_service
from bot.api.guards import (
    ActingBody,
    RowId,
    Scope,
    parse_batch,
    read_body,
    require,
    require_bearer,
    require_reader,
)
from bot.api.serialize import alert_dict, event_dict, incident_dict
from bot.errors import Conflict, NotFound
from bot.exchange import ChangeRecord, UtcTimestamp
from bot.services import Services
from store import queries
from store.db import session_scope
from store.models import ChangeEvent


class TransitionIn(ActingBody):
    to: Literal["acknowledged", "mitigated", "resolved", "triggered"]
    note: str | None = None


def store_changes(services: Services, changes: list[ChangeRecord]) -> int:
    """Insert change events; a change already known (same service, time, kind, ref) is skipped."""
    stored = 0
    for change in changes:
        try:
            with session_scope(services.engine) as session:
                session.add(ChangeEvent(service=change.service, ts=change.ts, kind=change.kind,
                                        ref=change.ref, previous=change.previous,
                                        author=change.author, description=change.description,
                                        slice=dict(change.slice),
                                        maintenance_minutes=change.maintenance_minutes,
                                        affects=list(change.affects)))
            stored += 1
        except IntegrityError:
            continue
    return stored


def build_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["incidents"])
    settings = services.settings

    @router.get("/incidents", summary="Incidents, newest first")
    def list_incidents(request: Request, status: str | None = None,
                       service: str | None = None, since: UtcTimestamp | None = None,
                       limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
        require_reader(request, services)
        with session_scope(services.engine) as session:
            rows = queries.list_incidents(session=session, status=status, service=service,
                                          since=since, limit=limit)
            data = [incident_dict(row) for row in rows]
        return {"data": data, "count": len(data)}

    @router.get("/incidents/{incident_id}", summary="One incident with its alerts and timeline")
    def get_incident(request: Request, incident_id: RowId) -> dict[str, Any]:
        require_reader(request, services)
        with session_scope(services.engine) as session:
            incident = queries.get_incident(session=session, incident_id=incident_id)
            if incident is None:
                raise HTTPException(404, f"no incident with id {incident_id}")
            body = incident_dict(incident)
            body["alerts"] = [alert_dict(a) for a in
                              queries.alerts_of(session=session, incident_id=incident_id)]
            body["timeline"] = [event_dict(e) for e in
                                queries.timeline(session=session, incident_id=incident_id)]
        return body

    @router.post("/incidents/{incident_id}/transition", summary="Acknowledge, mitigate, ...")
    def transition(request: Request, incident_id: RowId, body: TransitionIn) -> dict[str, Any]:
        caller = require(request, services, Scope.act, "changing an incident")
        try:
            incident = incident_service.change_status(
                services, incident_id=incident_id, to=body.to, actor=caller.actor,
                note=body.note)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
        except Conflict as error:
            raise HTTPException(409, str(error)) from None
        return incident_dict(incident)

    @router.post("/changes", summary="Change events (exchange-format 'change' records)")
    async def post_changes(request: Request) -> dict[str, Any]:
        require_bearer(request, settings.token_for("generic"), "the changes endpoint")
        batch = parse_batch(await read_body(request, services))
        changes, errors = [], [{"line": e.line, "reason": e.reason} for e in batch.errors]
        for line, record in zip(batch.lines, batch.records, strict=True):
            if isinstance(record, ChangeRecord):
                changes.append(record)
            else:
                errors.append({"line": line, "reason": f"type is {record.type!r}; this endpoint "
                                                       "takes 'change' records"})
        if not changes:
            raise HTTPException(422, {"message": "no valid change record", "errors": errors})
        stored = await run_in_threadpool(store_changes, services, changes)
        return {"accepted": len(changes), "stored": stored,
                "duplicates": len(changes) - stored, "errors": errors}

    return router
