"""JSON API over silences and on-call schedules, and each schedule's ``.ics`` feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import Field

from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import ActingBody, RowId, Scope, require, require_reader
from bot.api.params import QueryTime
from bot.config.oncall_schedule import Shift, shifts
from bot.core.clock import format_ts, to_utc
from bot.core.errors import NotFound, UserError
from bot.core.services import Services
from bot.core.timestamp_field import UtcTimestamp
from bot.oncall import ical
from bot.oncall.service import add_override, effective_schedule, now_and_next, schedule_names
from bot.silences import service as silences
from bot.silences.silence import Silence


class SilenceIn(ActingBody):
    """Who set it is the token's owner (``api`` or a person), never the body."""

    matchers: str = Field(min_length=1, max_length=4000,
                          examples=['service="rag-assistant", alertname=~"Ground.*"'])
    comment: str = Field(min_length=1, max_length=2000)
    starts_at: UtcTimestamp | None = None
    ends_at: UtcTimestamp | None = None
    duration_minutes: float | None = Field(default=None, gt=0, le=60 * 24 * 30)


class OverrideIn(ActingBody):
    """``user`` takes the pager; who set the override is the token's owner."""

    on_call: str = Field(min_length=1, max_length=50, examples=["U012ABCDEF"])
    until: UtcTimestamp
    reason: str = Field(default="", max_length=500)


def silence_dict(silence: Silence, now: datetime) -> dict[str, Any]:
    return {"id": silence.id, "matchers": ", ".join(str(m) for m in silence.matchers),
            "starts_at": format_ts(silence.starts_at), "ends_at": format_ts(silence.ends_at),
            "ended_at": format_ts(silence.ended_at) if silence.ended_at else None,
            "state": silence.state(now), "created_by": silence.created_by,
            "comment": silence.comment}


def shift_dict(shift: Shift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {"user": shift.user, "start": format_ts(shift.start), "end": format_ts(shift.end),
            "source": shift.source}


router = APIRouter(prefix="/v1", tags=["on-call"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


def _as_http(error: UserError) -> HTTPException:
    return HTTPException(404 if isinstance(error, NotFound) else 422, str(error))


@router.post("/silences", summary="Silence alerts matching Alertmanager matchers",
             status_code=201, responses=docs.WRITE_ONE, openapi_extra=docs.secured())
def post_silence(request: Request, services: ServicesDep, body: SilenceIn) -> dict[str, Any]:
    caller = require(request, services, Scope.act, "setting a silence")
    try:
        silence = silences.create_silence(
            services, matchers=body.matchers, created_by=caller.actor,
            comment=body.comment, starts_at=to_utc(body.starts_at) if body.starts_at else None,
            ends_at=to_utc(body.ends_at) if body.ends_at else None,
            duration=timedelta(minutes=body.duration_minutes)
            if body.duration_minutes else None)
    except UserError as error:
        raise _as_http(error) from None
    return silence_dict(silence, services.clock())


@router.get("/silences", summary="Silences, newest first (state: pending, active, expired)")
def get_silences(request: Request, services: ServicesDep,
                 since: QueryTime | None = None) -> dict[str, Any]:
    require_reader(request, services)
    now = services.clock()
    data = [silence_dict(s, now) for s in
            silences.list_silences(services, to_utc(since) if since else None)]
    return {"data": data, "count": len(data)}


@router.delete("/silences/{silence_id}", summary="End a silence now",
               responses=docs.WRITE_ONE, openapi_extra=docs.secured())
def delete_silence(request: Request, services: ServicesDep,
                   silence_id: RowId) -> dict[str, Any]:
    require(request, services, Scope.act, "ending a silence")
    try:
        return silence_dict(silences.end_silence(services, silence_id), services.clock())
    except UserError as error:
        raise _as_http(error) from None


@router.get("/schedules", summary="Every schedule with who is on call now and next")
def get_schedules(request: Request, services: ServicesDep) -> dict[str, Any]:
    require_reader(request, services)
    data = []
    for name in schedule_names(services):
        now, upcoming = now_and_next(services, name)
        data.append({"name": name, "now": shift_dict(now), "next": shift_dict(upcoming)})
    return {"data": data, "count": len(data)}


@router.get("/schedules/{name}.ics", summary="A schedule as an iCalendar feed",
            response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
def get_schedule_ics(request: Request, services: ServicesDep, name: str,
                     days: int = Query(28, ge=1, le=366)) -> Response:
    require_reader(request, services)
    try:
        schedule = effective_schedule(services, name)
    except UserError as error:
        raise _as_http(error) from None
    now = services.clock()
    start = now - timedelta(days=7)
    body = ical.to_ics(schedule, shifts(schedule, start, now + timedelta(days=days)), now)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{name}.ics"'})


@router.post("/schedules/{name}/overrides", summary="Someone takes the pager until a time",
             status_code=201, responses=docs.WRITE_ONE, openapi_extra=docs.secured())
def post_override(request: Request, services: ServicesDep, name: str,
                  body: OverrideIn) -> dict[str, Any]:
    caller = require(request, services, Scope.act, "setting an override")
    try:
        shift = add_override(services, schedule=name, user=body.on_call,
                             until=to_utc(body.until), set_by=caller.user or caller.actor,
                             reason=body.reason)
    except (UserError, ValueError) as error:
        raise HTTPException(404 if isinstance(error, NotFound) else 422,
                            str(error).splitlines()[-1]) from None
    return shift_dict(shift) or {}
