"""Queries for change events from webhooks and the pointers they move. Never commit."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from store.change_models import ChangePointer
from store.models import ChangeEvent

SUBJECT_MAX = 400  # the length of ``change_events.subject``


def pointer(*, session: Session, source: str, subject: str) -> str | None:
    row = session.get(ChangePointer, (source, subject))
    return row.value if row is not None else None


def move_pointer(*, session: Session, source: str, subject: str, value: str | None,
                 now: datetime) -> None:
    """Point ``subject`` at ``value`` (``None``: the pointer is gone, an alias deleted)."""
    row = session.get(ChangePointer, (source, subject))
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ChangePointer(source=source, subject=subject, value=value, updated_at=now)
    row.value, row.updated_at = value, now
    session.add(row)


def change_known(*, session: Session, service: str, ts: datetime, kind: str, ref: str,
                 subject: str = "") -> bool:
    """Whether this change is stored already: the identity of ``uq_change_events_identity``."""
    return session.exec(select(ChangeEvent.id).where(
        ChangeEvent.service == service, ChangeEvent.ts == ts, ChangeEvent.kind == kind,
        ChangeEvent.ref == ref, ChangeEvent.subject == subject)).first() is not None
