"""Alert webhooks: Alertmanager (v4), Grafana unified alerting, and the generic record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from bot.api import docs
from bot.api.guards import decode_json, read_body, require_bearer
from bot.core.exchange_records import parse_object
from bot.core.services import Services
from bot.intake import IncomingAlert, alertmanager, grafana
from bot.intake.group_commit import GroupCommit
from bot.intake.ingest import from_record


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(alert)'}: {item['msg']}"
            for item in error.errors())
    return str(error)


def _envelope(model: type[BaseModel], payload: Any) -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise HTTPException(422, f"not a {model.__name__} payload: {_reason(error)}") from None


def _parse_each(raw_alerts: list[Any],
                parse: Callable[[Any], IncomingAlert]) -> tuple[list[IncomingAlert], list[dict]]:
    good, bad = [], []
    for index, raw in enumerate(raw_alerts):
        try:
            good.append(parse(raw))
        except (ValidationError, ValueError) as error:
            bad.append({"index": index,
                        "reason": f"alerts[{index}]{_named(raw)}: {_reason(error)}"})
    return good, bad


def _named(raw: Any) -> str:
    """`` (alertname X)`` for a refused alert that says its name, so a person can find it."""
    labels = raw.get("labels") if isinstance(raw, dict) else None
    name = labels.get("alertname") if isinstance(labels, dict) else None
    name = name or (raw.get("name") if isinstance(raw, dict) else None)
    return f" ({str(name)[:80]!r})" if isinstance(name, str) and name else ""


async def _store(intake: GroupCommit, good: list[IncomingAlert],
                 bad: list[dict]) -> JSONResponse:
    if not good and bad:
        raise HTTPException(422, {"message": "no valid alert in the batch", "errors": bad})
    result = await asyncio.wrap_future(intake.submit(good))
    # Some alerts refused, the others stored: 207, as every intake endpoint answers it.
    return JSONResponse({"accepted": len(good), "stored": result.stored,
                         "deduplicated": result.updated, "incidents_opened": result.opened,
                         "incidents_touched": result.touched, "errors": bad},
                        status_code=207 if bad else 200)


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    settings = services.settings
    intake = GroupCommit(services)

    def alertmanager_shaped(source: str, model: type[BaseModel],
                            parse: Callable[[Any], IncomingAlert], what: str) -> Any:
        """Alertmanager and Grafana send the same envelope; only the parser differs."""

        async def webhook(request: Request) -> JSONResponse:
            require_bearer(request, settings.token_for(source), what)
            payload = decode_json(await read_body(request, services))
            envelope = _envelope(model, payload)
            good, bad = _parse_each(envelope.alerts, parse)  # type: ignore[attr-defined]
            return await _store(intake, good, bad)

        return webhook

    responses = {**docs.partial("Some alerts were stored"), **docs.INTAKE}
    router.add_api_route(
        "/webhooks/alertmanager", methods=["POST"], summary="Prometheus Alertmanager webhook (v4)",
        responses=responses, openapi_extra=docs.ALERTMANAGER_BODY,
        endpoint=alertmanager_shaped("alertmanager", alertmanager.AlertmanagerWebhook,
                                     alertmanager.parse_alert, "the Alertmanager webhook"))
    router.add_api_route(
        "/webhooks/grafana", methods=["POST"], summary="Grafana unified alerting webhook",
        responses=responses, openapi_extra=docs.GRAFANA_BODY,
        endpoint=alertmanager_shaped("grafana", grafana.GrafanaWebhook, grafana.parse_alert,
                                     "the Grafana webhook"))

    @router.post("/webhooks/generic", summary="Exchange-format alert record(s)",
                 responses=responses, openapi_extra=docs.GENERIC_BODY)
    async def generic_webhook(request: Request) -> JSONResponse:
        require_bearer(request, settings.token_for("generic"), "the generic webhook")
        payload = decode_json(await read_body(request, services))
        items = payload if isinstance(payload, list) else [payload]

        def parse(raw: Any) -> IncomingAlert:
            record = parse_object(raw)
            if record.type != "alert":
                raise ValueError(f"type is {record.type!r}; this endpoint takes 'alert' records "
                                 "(send signals to /v1/signals)")
            return from_record(record)

        good, bad = _parse_each(items, parse)
        return await _store(intake, good, bad)

    return router
