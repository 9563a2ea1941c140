"""JSON API over runbooks and their runs.

Every route needs an API token (``RESILIO_API_TOKEN``, acting as ``api``) or a
person's token (``RESILIO_USER_TOKENS``, acting as that Slack user); a webhook token
gets 403. Who acts, and in which Slack user groups, comes from the token's owner and
Slack's own answer (``usergroups.list``), never from the body; the same rules as in
Slack apply.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from bot import runbook_runs
from bot.api import docs
from bot.api.guards import ActingBody, Caller, Scope, require
from bot.api.params import IncidentId, RunId
from bot.core.errors import Conflict, NotFound, UserError
from bot.core.services import Services
from bot.slack.identity import user_groups


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


def _runbook_dict(runbook: Any) -> dict[str, Any]:
    return {"name": runbook.name, "title": runbook.title, "description": runbook.description,
            "applies_to": runbook.applies_to.model_dump(),
            "approval": runbook.approval.model_dump(), "allowed": runbook.allowed.model_dump(),
            "parameters": [p.model_dump() for p in runbook.parameters],
            "steps": [{"id": s.id, "kind": s.kind, "title": s.title,
                       "idempotent": s.idempotent} for s in runbook.steps]}


def build_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["runbooks"])

    def guard(request: Request, scope: Scope = Scope.read) -> Caller:
        # Runbooks act on production systems: never without a token of the API's scope.
        return require(request, services, scope, "the runbook API")

    @router.get("/runbooks", summary="Every runbook the bot knows", responses=docs.READ,
                openapi_extra=docs.secured())
    def list_runbooks(request: Request) -> dict[str, Any]:
        guard(request)
        data = [_runbook_dict(r) for _, r in sorted(runbook_runs.library(services).items())]
        return {"data": data, "count": len(data)}

    @router.get("/incidents/{incident_id}/runbooks",
                summary="Suggested runbooks and the runs of one incident",
                responses=docs.READ_ONE, openapi_extra=docs.secured())
    def incident_runbooks(request: Request, incident_id: IncidentId) -> dict[str, Any]:
        guard(request)
        try:
            suggestions = runbook_runs.suggest(services, incident_id=incident_id)
        except UserError as error:
            raise _http_error(error) from None
        return {"suggested": [s.__dict__ for s in suggestions],
                "runs": runbook_runs.runs_of(services, incident_id=incident_id)}

    @router.post("/incidents/{incident_id}/runbooks", status_code=202,
                 summary="Run (or dry-run) a runbook on an incident",
                 responses={**docs.errors(400, 403), **docs.WRITE_ONE},
                 openapi_extra=docs.secured())
    async def run_runbook(request: Request, incident_id: IncidentId,
                          body: RunIn) -> dict[str, Any]:
        caller = guard(request, Scope.act)
        try:
            if body.dry_run:
                plan = await run_in_threadpool(
                    runbook_runs.dry_run, services, incident_id=incident_id, name=body.name,
                    params=body.params, actor=caller.actor)
                return {"dry_run": True, "runbook": plan.runbook, "params": plan.params,
                        "steps": [s.__dict__ for s in plan.steps], "problems": plan.problems}
            groups = await run_in_threadpool(_groups, services, caller)
            started = await run_in_threadpool(
                runbook_runs.start, services, incident_id=incident_id, name=body.name,
                params=body.params, actor=caller.actor, groups=groups,
                idempotency_key=body.idempotency_key)
            view = await run_in_threadpool(runbook_runs.run_view, services,
                                           run_id=started.run.id or 0)
        except UserError as error:
            raise _http_error(error) from None
        return {**view, "created": started.created}

    @router.get("/runbook-runs/{run_id}", summary="One run with its steps",
                responses=docs.READ_ONE, openapi_extra=docs.secured())
    def get_run(request: Request, run_id: RunId) -> dict[str, Any]:
        guard(request)
        try:
            return runbook_runs.run_view(services, run_id=run_id)
        except UserError as error:
            raise _http_error(error) from None

    def _decision(verb: str):  # type: ignore[no-untyped-def]
        async def decide(request: Request, run_id: RunId, body: DecisionIn) -> dict[str, Any]:
            caller = guard(request, Scope.act)
            groups = await run_in_threadpool(_groups, services, caller)
            try:
                if verb == "approve":
                    await run_in_threadpool(runbook_runs.approve, services, run_id=run_id,
                                            actor=caller.actor, groups=groups)
                elif verb == "reject":
                    await run_in_threadpool(runbook_runs.reject, services, run_id=run_id,
                                            actor=caller.actor, groups=groups,
                                            reason=body.reason)
                else:
                    await run_in_threadpool(runbook_runs.cancel, services, run_id=run_id,
                                            actor=caller.actor, groups=groups)
                return await run_in_threadpool(runbook_runs.run_view, services, run_id=run_id)
            except UserError as error:
                raise _http_error(error) from None

        return decide

    for verb in ("approve", "reject", "cancel"):
        router.add_api_route(f"/runbook-runs/{{run_id}}/{verb}", _decision(verb),
                             methods=["POST"], summary=f"{verb.capitalize()} a run",
                             responses={**docs.errors(400, 403), **docs.WRITE_ONE},
                             openapi_extra=docs.secured())
    return router
