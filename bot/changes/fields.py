"""Reading a webhook payload's fields with errors that say which field and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import to_utc


class PayloadError(ValueError):
    """The payload is signed but not what the source documents: 422 with the field."""


def field(payload: Any, path: str, *, required: bool = True) -> Any:
    """``payload["a"]["b"]`` for ``path`` ``"a.b"``; ``PayloadError`` naming it when absent."""
    current = payload
    for part in path.split("."):
        if not isinstance(current, dict) or current.get(part) is None:
            if required:
                raise PayloadError(f"{path}: missing")
            return None
        current = current[part]
    return current


def text(payload: Any, path: str, *, required: bool = True, limit: int = 200) -> str | None:
    value = field(payload, path, required=required)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise PayloadError(f"{path}: expected text, got {type(value).__name__}")
    value = str(value).strip()
    if not value and required:
        raise PayloadError(f"{path}: empty")
    return value[:limit] if value else None


def timestamp(payload: Any, path: str, *, default: datetime) -> datetime:
    value = field(payload, path, required=False)
    if value is None or value == "":
        return default
    try:
        return to_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise PayloadError(f"{path}: {str(value)[:40]!r} is not an ISO 8601 time") from None
