"""JSON API over runbooks and their runs.

Every route needs an API token (``RESILIO_API_TOKEN``, acting as ``api``) or a
person's token (``RESILIO_USER_TOKENS``, acting as that Slack user); a webhook token
gets 403. Who acts, and in which Slack user groups, comes from the token's owner and
Slack's own answer (``usergroups.list``), never from the body; the same rules as in
Slack apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from bot import runbook_runs
from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import ActingBody, Caller, Scope, require
from bot.api.params import IncidentId, RunId
from bot.core.errors import Conflict, NotFound, UserError
from bot.core.services import Services
from bot.slack.identity import user_groups
from runbooks.models import Runbook


class RunIn(ActingBody):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, max_length=200)
    dry_run: bool = False


class DecisionIn(ActingBody):
    reason: str | None = None


def _groups(services: Services, caller: Caller) -> list[str]:
    """The caller's Slack user groups, as Slack reports them (none for the API token)."""
    if caller.user is None or services.slack is None:
        return []
    try:
        return user_groups(services.slack, caller.user)
    except Exception as error:  # noqa: BLE001 - any Slack failure: we cannot tell, so no
        raise HTTPException(503, f"cannot ask Slack for the user groups of {caller.user} "
                                 f"({type(error).__name__}); retry later") from None


def _http_error(error: Exception) -> HTTPException:
    if isinstance(error, runbook_runs.Forbidden):
        return HTTPException(403, str(error))
    if isinstance(error, NotFound):
        return HTTPException(404, str(error))
    if isinstance(error, Conflict):
        return HTTPException(409, str(error))
    return HTTPException(400, str(error))


def _runbook_dict(runbook: Runbook) -> dict[str, Any]:
    return {"name": runbook.name, "title": runbook.title, "description": runbook.description,
            "applies_to": runbook.applies_to.model_dump(),
            "approval": runbook.approval.model_dump(), "allowed": runbook.allowed.model_dump(),
            "parameters": [p.model_dump() for p in runbook.parameters],
            "steps": [{"id": s.id, "kind": s.kind, "title": s.title,
                       "idempotent": s.idempotent} for s in runbook.steps]}


router = APIRouter(prefix="/v1", tags=["runbooks"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


def _guard(request: Request, services: Services, scope: Scope = Scope.read) -> Caller:
    # Runbooks act on production systems: never without a token of the API's scope.
    return require(request, services, scope, "the runbook API")


@router.get("/runbooks", summary="Every runbook the bot knows", responses=docs.READ,
            openapi_extra=docs.secured())
def list_runbooks(request: Request, services: ServicesDep) -> dict[str, Any]:
    _guard(request, services)
    data = [_runbook_dict(r) for _, r in sorted(runbook_runs.library(services).items())]
    return {"data": data, "count": len(data)}


@router.get("/incidents/{incident_id}/runbooks",
            summary="Suggested runbooks and the runs of one incident",
            responses=docs.READ_ONE, openapi_extra=docs.secured())
def incident_runbooks(request: Request, services: ServicesDep,
                      incident_id: IncidentId) -> dict[str, Any]:
    _guard(request, services)
    try:
        suggestions = runbook_runs.suggest(services, incident_id=incident_id)
    except UserError as error:
        raise _http_error(error) from None
    return {"suggested": [s.__dict__ for s in suggestions],
            "runs": runbook_runs.runs_of(services, incident_id=incident_id)}


def _dry_run(services: Services, incident_id: int, body: RunIn, actor: str) -> dict[str, Any]:
    plan = runbook_runs.dry_run(services, incident_id=incident_id, name=body.name,
                                params=body.params, actor=actor)
    return {"dry_run": True, "runbook": plan.runbook, "params": plan.params,
            "steps": [s.__dict__ for s in plan.steps], "problems": plan.problems}


def _start(services: Services, incident_id: int, body: RunIn, caller: Caller) -> dict[str, Any]:
    groups = _groups(services, caller)
    started = runbook_runs.start(services, incident_id=incident_id, name=body.name,
                                 params=body.params, actor=caller.actor, groups=groups,
                                 idempotency_key=body.idempotency_key)
    view = runbook_runs.run_view(services, run_id=started.run.id or 0)
    return {**view, "created": started.created}


@router.post("/incidents/{incident_id}/runbooks", status_code=202,
             summary="Run (or dry-run) a runbook on an incident",
             responses={**docs.errors(400, 403), **docs.WRITE_ONE},
             openapi_extra=docs.secured())
async def run_runbook(request: Request, services: ServicesDep, incident_id: IncidentId,
                      body: RunIn) -> dict[str, Any]:
    caller = _guard(request, services, Scope.act)
    try:
        if body.dry_run:
            return await run_in_threadpool(_dry_run, services, incident_id, body, caller.actor)
        return await run_in_threadpool(_start, services, incident_id, body, caller)
    except UserError as error:
        raise _http_error(error) from None


@router.get("/runbook-runs/{run_id}", summary="One run with its steps",
            responses=docs.READ_ONE, openapi_extra=docs.secured())
def get_run(request: Request, services: ServicesDep, run_id: RunId) -> dict[str, Any]:
    _guard(request, services)
    try:
        return runbook_runs.run_view(services, run_id=run_id)
    except UserError as error:
        raise _http_error(error) from None


# A decision, given who decides and their Slack user groups.
Decide = Callable[[Caller, list[str]], object]


async def _decided(request: Request, services: Services, run_id: int,
                   decide: Decide) -> dict[str, Any]:
    """Check the token, ask Slack for the groups (503 when it cannot say), decide, and
    answer with the run as it now is."""
    caller = _guard(request, services, Scope.act)
    groups = await run_in_threadpool(_groups, services, caller)
    try:
        await run_in_threadpool(decide, caller, groups)
        return await run_in_threadpool(runbook_runs.run_view, services, run_id=run_id)
    except UserError as error:
        raise _http_error(error) from None


# The three decisions keep the route name ``decide`` they have always had: it is part of
# each operation's id in the OpenAPI document, which generated clients are built from.
_DECISION_ANSWERS = {**docs.errors(400, 403), **docs.WRITE_ONE}


@router.post("/runbook-runs/{run_id}/approve", name="decide", summary="Approve a run",
             responses=_DECISION_ANSWERS, openapi_extra=docs.secured())
async def approve_run(request: Request, services: ServicesDep, run_id: RunId,
                      body: DecisionIn) -> dict[str, Any]:
    return await _decided(request, services, run_id, lambda caller, groups: runbook_runs.approve(
        services, run_id=run_id, actor=caller.actor, groups=groups))


@router.post("/runbook-runs/{run_id}/reject", name="decide", summary="Reject a run",
             responses=_DECISION_ANSWERS, openapi_extra=docs.secured())
async def reject_run(request: Request, services: ServicesDep, run_id: RunId,
                     body: DecisionIn) -> dict[str, Any]:
    return await _decided(request, services, run_id, lambda caller, groups: runbook_runs.reject(
        services, run_id=run_id, actor=caller.actor, groups=groups, reason=body.reason))


@router.post("/runbook-runs/{run_id}/cancel", name="decide", summary="Cancel a run",
             responses=_DECISION_ANSWERS, openapi_extra=docs.secured())
async def cancel_run(request: Request, services: ServicesDep, run_id: RunId,
                     body: DecisionIn) -> dict[str, Any]:
    return await _decided(request, services, run_id, lambda caller, groups: runbook_runs.cancel(
        services, run_id=run_id, actor=caller.actor, groups=groups))
