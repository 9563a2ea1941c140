"""JSON API over incidents: the list, one incident with its alerts, transitions and labels.

A responder's label (``POST /v1/incidents/{id}/label``) is parsed here and handed to
the one relabelling function, :func:`bot.diagnosis.feedback.relabel_incident`, which
Slack's ``relabel`` command and modal call too.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import ActingBody, Scope, require, require_reader
from bot.api.params import ID_MAX, IncidentId, QueryTime
from bot.config.catalog import FailureClass
from bot.core.errors import Conflict, NotFound, UserError
from bot.core.services import Services
from bot.diagnosis.feedback import relabel_incident
from bot.incidents import service as incident_service
from bot.incidents.serialize import alert_dict, event_dict, incident_dict
from store import queries
from store.db import session_scope


class TransitionIn(ActingBody):
    to: Literal["acknowledged", "mitigated", "resolved", "triggered"]
    note: str | None = Field(default=None, max_length=10_000)


class LabelIn(ActingBody):
    label: FailureClass


ALERTS_PAGE = 100  # alerts per page of GET /v1/incidents/{id}; a storm holds 100,000

router = APIRouter(prefix="/v1", tags=["incidents"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


def _cursor(value: str | None) -> int:
    """The id after which the next page starts (the cursor is the last id of a page).

    Digits only (the route's pattern); past every possible id it is an empty page.
    """
    return min(int(value), ID_MAX) if value else 0


@router.get("/incidents", summary="Incidents, newest first", responses=docs.READ,
            openapi_extra=docs.secured())
def list_incidents(request: Request, services: ServicesDep, status: str | None = None,
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
def get_incident(request: Request, services: ServicesDep, incident_id: IncidentId,
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
def transition(request: Request, services: ServicesDep, incident_id: IncidentId,
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


def _relabel(services: Services, incident_id: int, label: str, actor: str) -> dict[str, Any]:
    incident = relabel_incident(services, incident_id=incident_id, label=label,
                                actor=actor).incident
    return {"incident_id": incident_id, "behavior": incident.behavior,
            "label_source": incident.label_source}


@router.post("/incidents/{incident_id}/label", summary="a responder's label",
             responses=docs.WRITE_ONE, openapi_extra=docs.secured())
async def post_label(incident_id: IncidentId, body: LabelIn, request: Request,
                     services: ServicesDep) -> dict[str, Any]:
    caller = require(request, services, Scope.act, "relabelling an incident")
    try:
        return await run_in_threadpool(_relabel, services, incident_id, body.label,
                                       caller.actor)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except UserError as error:
        raise HTTPException(422, str(error)) from None
