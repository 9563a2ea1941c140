"""What the OpenAPI document says about bodies and errors that FastAPI cannot see.

The intake routes read their raw body themselves (size limit first, then JSON or
JSON Lines, then each record on its own so one bad record does not sink the
batch), so FastAPI has no parameter to describe them. Each gets its request body
here, from the same pydantic models that parse it, and every route lists the
errors it can answer (401 without the right token, 404 for an unknown id, 413
over the body limit, 422 for a refused body, 503 while the database is down),
each with the ``{"detail": ...}`` shape every error of the API has. A client, or
a fuzzer, can then reach every endpoint and knows every answer it may get.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.core.exchange_records import AlertRecord, ChangeRecord, Record
from bot.intake.alertmanager import AlertmanagerWebhook

REF = "#/components/schemas/{model}"
BEARER = "bearer"


class ErrorOut(BaseModel):
    """Every error answer: ``detail`` is a sentence, or an object with the refused items."""

    detail: str | dict[str, Any] | list[Any]


class AlertIn(BaseModel):
    """One alert of an Alertmanager (or Grafana) webhook."""

    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = Field(default=None, description="RFC 3339")
    endsAt: str | None = Field(default=None, description="RFC 3339")
    generatorURL: str | None = None
    fingerprint: str | None = None


class AlertmanagerIn(AlertmanagerWebhook):
    """The webhook envelope; each alert is parsed (and refused) on its own."""

    alerts: list[AlertIn]


_DESCRIPTIONS = {
    400: "The body is not UTF-8 JSON (or JSON Lines), or holds no valid record",
    401: "Missing or wrong bearer token, or the endpoint has no token configured",
    403: "This token's scope does not allow it, or the actor may not act on this runbook",
    415: "The body's content type is not one this endpoint reads",
    404: "No such incident, run or service",
    409: "The request is valid but the current state does not allow it",
    413: "The body is over the server's limit (RESILIO_MAX_BODY_BYTES)",
    422: "The body or a parameter was refused; the detail says what and where",
    503: "The database is unavailable or cannot take writes; retry later",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with its description and the error shape."""
    return {code: {"model": ErrorOut, "description": _DESCRIPTIONS[code]} for code in codes}


# The errors of each kind of route, 503 everywhere the database is read or written.
READ = errors(401, 422, 503)
READ_ONE = errors(401, 404, 422, 503)
WRITE_ONE = errors(400, 401, 404, 409, 422, 503)  # 400: the JSON body did not parse
INTAKE = errors(400, 401, 413, 422, 503)


def partial(description: str) -> dict[int | str, dict[str, Any]]:
    """The 207 of a batch where some records were refused (the good ones are kept)."""
    return {207: {"description": description + "; `errors` lists the refused ones by line "
                                               "or index, with the reason"}}


_SCHEMAS: dict[str, Any] = {}


def _schema(annotation: Any) -> dict[str, Any]:
    schema = TypeAdapter(annotation).json_schema(ref_template=REF)
    _SCHEMAS.update(schema.pop("$defs", {}))
    return schema


def json_body(annotation: Any, description: str) -> dict[str, Any]:
    """``openapi_extra=`` documenting a JSON request body the route reads itself."""
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": _schema(annotation)}}},
            "security": [{BEARER: []}]}


def secured() -> dict[str, Any]:
    return {"security": [{BEARER: []}]}


ALERTMANAGER_BODY = json_body(AlertmanagerIn, "An Alertmanager webhook (version 4)")
GRAFANA_BODY = json_body(AlertmanagerIn, "A Grafana unified alerting webhook (Alertmanager's "
                                         "envelope; dashboardURL, panelURL, silenceURL and "
                                         "valueString of an alert become annotations)")
def _batch(item: Any) -> Any:
    return Annotated[list[item], Field(min_length=1)]


GENERIC_BODY = json_body(AlertRecord | _batch(AlertRecord),
                         "One exchange-format `alert` record, or an array of them")
SIGNALS_BODY = json_body(_batch(Record), "Exchange-format records as a JSON array (or JSON "
                                         "Lines, one record per line, as application/x-ndjson)")
CHANGES_BODY = json_body(_batch(ChangeRecord), "Exchange-format `change` records as a JSON "
                                               "array (or JSON Lines)")


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document lists for the path a request named (``{id}`` matches a part)."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def _every_route_says_its_errors(document: dict[str, Any]) -> None:
    """Routes that did not list their errors get the ones every route can give: 401 on
    the token-protected API, 404 where the path names something, 503 with the database
    down. A route's own list (``responses=``) is kept as it is."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            wanted = [503]
            if path.startswith(("/v1/", "/otlp/", "/webhooks/")):
                wanted.append(401)
            if path.startswith("/v1/"):
                wanted.append(403)  # a token of another scope (a webhook token reading)
            if method in ("post", "put", "patch"):
                wanted += [400, 413, 422]
            if "{" in path:
                wanted.append(404)
            for code in wanted:
                responses.setdefault(str(code), {
                    "description": _DESCRIPTIONS[code],
                    "content": {"application/json": {
                        "schema": {"$ref": REF.format(model="ErrorOut")}}}})


def install(app: FastAPI) -> None:
    """Add the body schemas and the bearer scheme to the app's generated document.

    A 405 also names every method of its path in ``Allow``: Starlette names only those
    of the first route that matched, and ``/v1/incidents/{id}/runbooks`` has two.
    """
    generate = app.openapi

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 405:
            allowed = ", ".join(_allowed_methods(app, request.url.path))
            error = StarletteHTTPException(405, error.detail, headers={"Allow": allowed})
        return await http_exception_handler(request, error)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(_SCHEMAS)
            components.setdefault("securitySchemes", {})[BEARER] = {
                "type": "http", "scheme": "bearer",
                "description": "RESILIO_API_TOKEN for the JSON API; the webhook token (or a "
                               "source's own) for intake"}
            _every_route_says_its_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
