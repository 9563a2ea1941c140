"""``POST /otlp/v1/metrics``: the OTLP/HTTP metrics receiver (an exporter's endpoint is ``/otlp``).

Answers as the OTLP specification says: 200 with an ``ExportMetricsServiceResponse``
in the request's encoding, with ``partial_success`` (how many points were
rejected and which, by where they are in the request) when some were refused;
4xx with a ``google.rpc.Status`` saying what is wrong when the request cannot
be read at all. The points that were valid are stored either way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from bot.api.deps import ServicesDep
from bot.api.guards import read_body, require_bearer
from bot.core.services import Services
from bot.otel.decode import JSON, PROTOBUF, BadRequest, decode
from bot.otel.intake import ingest

_CODES = {400: code_pb2.INVALID_ARGUMENT, 401: code_pb2.UNAUTHENTICATED,
          413: code_pb2.RESOURCE_EXHAUSTED, 415: code_pb2.INVALID_ARGUMENT}


def _encoding_of(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return JSON if kind == JSON else PROTOBUF


def _answer(message: Message, encoding: str, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if encoding == JSON:
        body = json_format.MessageToJson(message, indent=None)
        return Response(body, status_code=status, media_type=JSON, headers=headers)
    return Response(message.SerializeToString(), status_code=status,
                    media_type=PROTOBUF, headers=headers)


def _failure(status: int, reason: str, encoding: str,
             headers: dict[str, str] | None = None) -> Response:
    return _answer(status_pb2.Status(code=_CODES.get(status, code_pb2.INVALID_ARGUMENT),
                                     message=reason), encoding, status, headers)


# OTLP answers in the request's encoding: an ExportMetricsServiceResponse on success, a
# google.rpc.Status on failure, protobuf or its JSON form.
_OTLP_BODY: dict[str, dict[str, dict[str, Any]]] = {
    "content": {"application/x-protobuf": {}, "application/json": {}}}
_OTLP_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": description, **_OTLP_BODY} for code, description in (
        (200, "Accepted (partial_success names the points refused)"),
        (400, "The body is not an OTLP metrics request"),
        (401, "Missing or wrong bearer token"),
        (413, "The body (or what it inflates to) is over the limit"),
        (415, "Neither application/x-protobuf nor application/json"),
        (503, "The database is unavailable; the exporter retries"))}


router = APIRouter(tags=["otlp"])


def build_router(services: Services) -> APIRouter:
    """This module's routes; the handlers get ``services`` from the app (``ServicesDep``)."""
    return router


@router.post("/otlp/v1/metrics", summary="OTLP/HTTP metrics (protobuf or JSON, gzip)",
             responses=_OTLP_RESPONSES, response_class=Response)
async def export_metrics(request: Request, services: ServicesDep) -> Response:
    settings = services.settings
    encoding = _encoding_of(request)
    try:
        require_bearer(request, settings.token_for("otlp"), "OTLP intake")
        body = await read_body(request, services)
    except HTTPException as error:
        return _failure(error.status_code, str(error.detail), encoding,
                        dict(error.headers or {}))
    try:
        decoded = decode(body, content_type=request.headers.get("content-type"),
                         content_encoding=request.headers.get("content-encoding"),
                         limit=settings.max_body_bytes)
    except BadRequest as error:
        return _failure(error.status, str(error), encoding)
    result = await run_in_threadpool(ingest, services, decoded.request)
    response = ExportMetricsServiceResponse()
    if result.rejected:
        response.partial_success.rejected_data_points = result.rejected
        response.partial_success.error_message = result.message
    return _answer(response, decoded.encoding)
