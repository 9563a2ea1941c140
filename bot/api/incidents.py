"""JSON API over incidents and change events."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from bot.api import docs
from bot.api.guards import (
    ActingBody,
    Scope,
    parse_batch,
    read_body,
    require,
    require_bearer,
    require_reader,
)
from bot.api.params import ID_MAX, IncidentId, QueryTime
from bot.core.errors import Conflict, NotFound
from bot.core.exchange_records import ChangeRecord
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.incidents.serialize import alert_dict, event_dict, incident_dict
from store import queries
from store.db import session_scope
from store.models import ChangeEvent


class TransitionIn(ActingBody):
    to: Literal["acknowledged", "mitigated", "resolved", "triggered"]
    note: str | None = Field(default=None, max_length=10_000)


ALERTS_PAGE = 100  # alerts per page of GET /v1/incidents/{id}; a storm holds 100,000


def _cursor(value: str | None) -> int:
    """The id after which the next page starts (the cursor is the last id of a page).

    Digits only (the route's pattern); past every possible id it is an empty page.
    """
    return min(int(value), ID_MAX) if value else 0


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

    @router.get("/incidents", summary="Incidents, newest first", responses=docs.READ,
                openapi_extra=docs.secured())
    def list_incidents(request: Request, status: str | None = None,
                       service: str | None = None, since: QueryTime | None = None,
                       limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
        require_reader(request, services)
        with session_scope(services.engine) as session:
            rows = queries.list_incidents(session=session, status=status, service=service,
                                          since=since, limit=limit)
            data = [incident_dict(row) for row in rows]
        return {"data": data, "count": len(data)}

    @router.get("/incidents/{incident_id}", responses=docs.READ_ONE,
                openapi_extra=docs.secured(),
                summary="One incident with its timeline and a page of its alerts")
    def get_incident(request: Request, incident_id: IncidentId,
                     alerts_limit: int = Query(ALERTS_PAGE, ge=0, le=1000,
                                               description="alerts on this page"),
                     alerts_cursor: str | None = Query(
                         None, pattern=r"^[0-9]{1,10}$",
                         description="alerts_page.next_cursor of the previous page")
                     ) -> dict[str, Any]:
        """Alerts come a page at a time, oldest first: ``alerts_page.next_cursor`` asks
        for the next one and is null on the last page."""
        require_reader(request, services)
        after = _cursor(alerts_cursor)
        with session_scope(services.engine) as session:
            incident = queries.get_incident(session=session, incident_id=incident_id)
            if incident is None:
                raise HTTPException(404, f"no incident with id {incident_id}")
            body = incident_dict(incident)
            alerts = queries.alerts_of(session=session, incident_id=incident_id,
                                       after_id=after, limit=alerts_limit + 1)
            more = len(alerts) > alerts_limit
            alerts = alerts[:alerts_limit]
            body["alerts"] = [alert_dict(a) for a in alerts]
            body["alerts_page"] = {
                "count": queries.count_alerts(session=session, incident_id=incident_id),
                "limit": alerts_limit,
                "next_cursor": str(alerts[-1].id) if more and alerts else None}
            body["timeline"] = [event_dict(e) for e in
                                queries.timeline(session=session, incident_id=incident_id)]
        return body

    @router.post("/incidents/{incident_id}/transition", summary="Acknowledge, mitigate, ...",
                 responses=docs.WRITE_ONE, openapi_extra=docs.secured())
    def transition(request: Request, incident_id: IncidentId,
                   body: TransitionIn) -> dict[str, Any]:
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

    @router.post("/changes", summary="Change events (exchange-format 'change' records)",
                 responses={**docs.partial("Some change records were stored"), **docs.INTAKE},
                 openapi_extra=docs.CHANGES_BODY)
    async def post_changes(request: Request) -> JSONResponse:
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
        # Partial success is a 207, as on /v1/signals: the errors say which lines were lost.
        return JSONResponse({"accepted": len(changes), "stored": stored,
                             "duplicates": len(changes) - stored, "errors": errors},
                            status_code=207 if errors else 200)

    return router
