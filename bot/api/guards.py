"""What every inbound endpoint checks first: the token, the body size, the JSON."""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import HTTPException, Request

from bot.services import Services


def require_bearer(request: Request, expected: str | None, what: str) -> None:
    """401 unless the request carries ``Authorization: Bearer <expected>``.

    With no token configured the endpoint is closed, not open: an unauthenticated
    webhook would let anyone open incidents.
    """
    if not expected:
        raise HTTPException(401, f"{what} is closed: no token is configured on the server "
                                 "(set RESILIO_WEBHOOK_TOKEN)")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


async def read_body(request: Request, services: Services) -> bytes:
    limit = services.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise HTTPException(400, "empty body: expected a JSON document")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise HTTPException(400, "body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise HTTPException(
            400, f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def require_reader(request: Request, services: Services) -> None:
    """Reads of the JSON API need the API token when one is set (open on a private host)."""
    token = services.settings.api_token
    if token:
        require_bearer(request, token, "the API")
