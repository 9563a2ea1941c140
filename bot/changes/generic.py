"""The generic signed change: exchange-format ``change`` records from anything that can sign.

For Argo Rollouts, Flux, LaunchDarkly or Unleash relays, CI jobs and scripts:
a JSON object (or an array of them) with the fields of the exchange format's
``change`` record; ``ts`` defaults to the time of receipt, and an optional
``subject`` (say ``flag:checkout-v2``) lets the bot fill ``previous`` from the
last change of the same subject.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.changes.fields import PayloadError
from bot.changes.model import IncomingChange, Pointer
from bot.core.clock import format_ts
from bot.core.exchange_records import ChangeRecord, parse_object

POINTERS = "generic"
SUBJECT_LIMIT = 200  # the pointer's subject is "<service>:<subject>", at most 400


def parse(payload: Any, *, now: datetime) -> tuple[list[IncomingChange], list[dict[str, Any]]]:
    """(changes, errors by index): a bad item is refused with its reason, the rest kept."""
    items = payload if isinstance(payload, list) else [payload]
    changes: list[IncomingChange] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise PayloadError(f"a change is a JSON object, got {type(item).__name__}")
            subject = item.get("subject")
            if subject is not None and (not isinstance(subject, str) or not subject.strip()):
                raise PayloadError("subject: expected non-empty text")
            if subject is not None and len(subject) > SUBJECT_LIMIT:
                raise PayloadError(f"subject: at most {SUBJECT_LIMIT} characters, "
                                   f"got {len(subject)}")
            record = parse_object({"type": "change", "ts": format_ts(now), **{
                k: v for k, v in item.items() if k != "subject"}})
            if not isinstance(record, ChangeRecord):
                raise PayloadError("not a change record")
        except ValueError as error:
            errors.append({"index": index, "reason": str(error)})
            continue
        changes.append(IncomingChange(
            service=record.service, ts=record.ts, kind=record.kind, ref=record.ref,
            description=record.description or f"{record.kind} change {record.ref}",
            author=record.author, previous=record.previous, subject=subject or "",
            pointer=Pointer(POINTERS, f"{record.service}:{subject}", record.ref)
            if subject else None))
    return changes, errors
