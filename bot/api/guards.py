"""What every inbound endpoint checks first: the token and its scope, the body, the JSON.

Tokens have scopes, and the defaults are closed (no token configured: 401):

- a webhook token (``RESILIO_WEBHOOK_TOKEN`` or a per-source one) may post alerts,
  signals and changes, nothing else: it is handed to Alertmanager and the like;
- ``RESILIO_API_TOKEN`` reads the JSON API and acts (transitions, labels, runbooks)
  as the actor ``api``, a machine in no Slack user group;
- a person's token (``RESILIO_USER_TOKENS``, ``U…:token`` pairs) reads and acts as
  that Slack user, whose user groups are asked of Slack when a rule needs them.

Who acts is the token's owner, never what a request body claims.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, model_validator
from starlette.types import Receive

from bot.api.params import ID_MAX
from bot.config.settings import Settings
from bot.core.exchange import ParsedBatch, loads, parse_body
from bot.core.services import Services

# Ids in paths are database keys (32-bit on PostgreSQL): anything wider is a 422.
RowId = Annotated[int, Path(ge=1, le=ID_MAX)]


class Scope(StrEnum):
    ingest = "ingest"  # post alerts, signals, changes
    read = "read"  # read incidents, SLOs, runbooks and runs
    act = "act"  # transition, relabel, start and decide runbook runs


@dataclass(frozen=True)
class Caller:
    """The owner of a verified token."""

    actor: str  # "api" or "slack:<user id>"
    user: str | None  # the Slack user id of a person's token
    scopes: frozenset[Scope]


_API_SCOPES = frozenset({Scope.read, Scope.act})
_WEBHOOK_SCOPES = frozenset({Scope.ingest})


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _same(given: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())


def require_bearer(request: Request, expected: str | None, what: str) -> None:
    """401 unless the request carries ``Authorization: Bearer <expected>``.

    With no token configured the endpoint is closed, not open: an unauthenticated
    webhook would let anyone open incidents.
    """
    if not expected:
        raise HTTPException(401, f"{what} is closed: no token is configured on the server "
                                 "(set RESILIO_WEBHOOK_TOKEN)")
    if not _same(_bearer(request), expected):
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def identify(settings: Settings, token: str) -> Caller | None:
    """The owner of ``token`` among the configured tokens; None for an unknown one."""
    if _same(token, settings.api_token):
        return Caller("api", None, _API_SCOPES)
    for user, known in settings.person_tokens().items():
        if _same(token, known):
            return Caller(f"slack:{user}", user, _API_SCOPES)
    if any(_same(token, known) for known in settings.webhook_tokens()):
        return Caller("webhook", None, _WEBHOOK_SCOPES)
    return None


def require(request: Request, services: Services, scope: Scope, what: str) -> Caller:
    """The caller if its token has ``scope``: 401 for no or a wrong token, 403 for a weaker one."""
    settings = services.settings
    if not settings.api_token and not settings.person_tokens():
        raise HTTPException(401, f"{what} is closed: no API token is configured on the server "
                                 "(set RESILIO_API_TOKEN or RESILIO_USER_TOKENS)",
                            headers={"WWW-Authenticate": "Bearer"})
    caller = identify(settings, _bearer(request))
    if caller is None:
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    if scope not in caller.scopes:
        raise HTTPException(403, f"this token may {' and '.join(sorted(caller.scopes))} only; "
                                 f"{what} needs RESILIO_API_TOKEN or a person's token "
                                 "(RESILIO_USER_TOKENS)")
    return caller


def require_reader(request: Request, services: Services) -> Caller:
    return require(request, services, Scope.read, "reading the API")


class ActingBody(BaseModel):
    """A request body that acts. Who acts is the token's owner, so the body may not say."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_claimed_identity(cls, data: Any) -> Any:
        if isinstance(data, dict):
            claimed = sorted({"actor", "groups", "user", "user_id"} & set(data))
            if claimed:
                raise ValueError(
                    f"{', '.join(claimed)} may not be given in the body: the actor and "
                    "their groups are those of the token's owner")
            where = _non_finite(data)
            if where is not None:  # JSON has no NaN; Python's parser takes it, databases not
                raise ValueError(f"{where or 'the body'} is NaN or Infinity, not a number")
        return data


def _non_finite(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a decoded body, else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


async def read_body(request: Request, services: Services) -> bytes:
    """The body, read as a stream and refused (413) as soon as it passes the limit.

    A declared ``Content-Length`` over the limit is refused before any byte is read,
    so a huge body never sits in memory.
    """
    limit = services.settings.max_body_bytes
    _check_declared(request.headers.get("content-length"), limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


async def receive_body(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """:func:`read_body` for a raw ASGI route; None when the client left before the end."""
    _check_declared(declared, limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
        if not message.get("more_body", False):
            return chunk if len(chunks) == 1 else b"".join(chunks)


def _check_declared(declared: str | None, limit: int) -> None:
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the limit of {limit} bytes")


def _not_utf8(body: bytes, error: UnicodeDecodeError) -> HTTPException:
    return HTTPException(400, f"body is not UTF-8 text: byte {error.start} "
                              f"(0x{body[error.start]:02x}) cannot be decoded")


def utf8(body: bytes) -> str:
    """The body as text; 400 naming the first byte that is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None


def parse_batch(body: bytes) -> ParsedBatch:
    """An exchange-format batch (JSON Lines or an array); 400 when it is not UTF-8."""
    try:
        return parse_body(body)
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None


def decode_json(body: bytes) -> Any:
    text = utf8(body)
    if not text.strip():
        raise HTTPException(400, "empty body: expected a JSON document")
    try:
        return loads(text)
    except ValueError as error:
        lineno, colno = getattr(error, "lineno", None), getattr(error, "colno", None)
        where = f" at line {lineno} column {colno}" if lineno else ""
        reason = getattr(error, "msg", None) or str(error)
        raise HTTPException(400, f"malformed JSON: {reason}{where}") from None
