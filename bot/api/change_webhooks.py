"""Change intake: exchange-format ``change`` records and the signed change webhooks.

``POST /v1/changes`` takes exchange-format records with the intake bearer token.
The webhooks (MLflow, GitHub, Argo CD and the generic signed form) each have their
own secret or token setting and are closed without it. The signature is checked
on the raw bytes before anything is parsed; a wrong or missing one is 401 and
records nothing. A signed body that is not what the source documents is 400 (not
JSON) or 422 (a field missing or of the wrong kind), saying which. What was
stored is read back with ``GET /v1/changes`` (:mod:`bot.api.reads`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from bot.api import docs
from bot.api.deps import ServicesDep
from bot.api.guards import decode_json, parse_batch, read_body, require_bearer
from bot.changes import argocd, generic, github, mlflow
from bot.changes.fields import PayloadError
from bot.changes.model import Ignored, IncomingChange
from bot.changes.record import current_pointer, record_changes
from bot.changes.signatures import (
    SignatureError,
    verify_generic,
    verify_github,
    verify_mlflow,
)
from bot.core.exchange_records import ChangeRecord
from bot.core.services import Services
from bot.incidents.serialize import change_dict
from store.db import session_scope
from store.models import ChangeEvent

T = TypeVar("T")

router = APIRouter(tags=["change webhooks"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


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


@router.post("/v1/changes", summary="Change events (exchange-format 'change' records)",
             responses={**docs.partial("Some change records were stored"), **docs.INTAKE},
             openapi_extra=docs.CHANGES_BODY)
async def post_changes(request: Request, services: ServicesDep) -> JSONResponse:
    require_bearer(request, services.settings.token_for("generic"), "the changes endpoint")
    batch = parse_batch(await read_body(request, services))
    changes: list[ChangeRecord] = []
    errors: list[dict[str, Any]] = [{"line": e.line, "reason": e.reason} for e in batch.errors]
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


def _answer(services: Services, parsed: IncomingChange | Ignored | list[IncomingChange],
            errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if isinstance(parsed, Ignored):
        return {"recorded": [], "duplicates": 0, "ignored": parsed.reason}
    changes = parsed if isinstance(parsed, list) else [parsed]
    result = record_changes(services, changes)
    return {"recorded": [change_dict(event) for event in result.stored],
            "duplicates": result.duplicates, "errors": errors or []}


def _verified(check: Callable[[], None]) -> None:
    try:
        check()
    except SignatureError as error:
        raise HTTPException(401, str(error)) from None


def _parsed(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except PayloadError as error:
        raise HTTPException(422, f"not a payload this webhook documents: {error}") from None


@router.post("/webhooks/mlflow", summary="MLflow model and prompt registry webhooks")
async def mlflow_webhook(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await read_body(request, services)
    headers = request.headers
    _verified(lambda: verify_mlflow(
        services.settings.mlflow_webhook_secret, body=body,
        delivery_id=headers.get("x-mlflow-delivery-id"),
        timestamp=headers.get("x-mlflow-timestamp"),
        signature=headers.get("x-mlflow-signature"), now=time.time()))
    payload = decode_json(body)

    def work() -> dict[str, Any]:
        parsed = _parsed(lambda: mlflow.parse(
            payload, services.catalog, now=services.clock(),
            current=lambda source, subject: current_pointer(services, source, subject)))
        return _answer(services, parsed)

    return await run_in_threadpool(work)


@router.post("/webhooks/github", summary="GitHub deployment_status and release webhooks")
async def github_webhook(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await read_body(request, services)
    _verified(lambda: verify_github(services.settings.github_webhook_secret, body=body,
                                    signature=request.headers.get("x-hub-signature-256")))
    payload = decode_json(body)
    parsed = _parsed(lambda: github.parse(request.headers.get("x-github-event"), payload,
                                          services.catalog, now=services.clock()))
    return await run_in_threadpool(_answer, services, parsed)


@router.post("/webhooks/argocd", summary="Argo CD notifications (documented template)")
async def argocd_webhook(request: Request, services: ServicesDep) -> dict[str, Any]:
    require_bearer(request, services.settings.argocd_token,
                   "the Argo CD webhook (set RESILIO_ARGOCD_TOKEN)")
    payload = decode_json(await read_body(request, services))
    parsed = _parsed(lambda: argocd.parse(payload, services.catalog, now=services.clock()))
    return await run_in_threadpool(_answer, services, parsed)


@router.post("/webhooks/change", summary="Generic signed change records")
async def generic_change_webhook(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await read_body(request, services)
    _verified(lambda: verify_generic(
        services.settings.change_webhook_secret, body=body,
        timestamp=request.headers.get("x-resilio-timestamp"),
        signature=request.headers.get("x-resilio-signature"), now=time.time()))
    changes, errors = generic.parse(decode_json(body), now=services.clock())
    if not changes:
        raise HTTPException(422, {"message": "no valid change in the body", "errors": errors})
    return await run_in_threadpool(_answer, services, changes, errors)
