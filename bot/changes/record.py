"""Storing verified changes: previous from the pointers, pointers moved, duplicates skipped.

One transaction per delivery. A source's retry of a delivery already stored
(same service, time, kind, ref and subject) changes nothing, the pointer included,
so a retry cannot make a change its own ``previous``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.changes.model import IncomingChange
from bot.core.services import Services
from store import change_queries
from store.db import session_scope, write_lock
from store.models import ChangeEvent


@dataclass
class Recorded:
    stored: list[ChangeEvent] = field(default_factory=list)
    duplicates: int = 0


def current_pointer(services: Services, source: str, subject: str) -> str | None:
    with session_scope(services.engine) as session:
        return change_queries.pointer(session=session, source=source, subject=subject)


def record_changes(services: Services, changes: Sequence[IncomingChange]) -> Recorded:
    out = Recorded()
    now = services.clock()
    with write_lock(services.engine), session_scope(services.engine) as session:
        for change in changes:
            subject = change.subject[:change_queries.SUBJECT_MAX]
            if change_queries.change_known(session=session, service=change.service,
                                           ts=change.ts, kind=change.kind, ref=change.ref,
                                           subject=subject):
                out.duplicates += 1
                continue
            previous = change.previous
            if change.pointer is not None:
                before = change_queries.pointer(session=session, source=change.pointer.source,
                                                subject=change.pointer.subject)
                previous = previous or before
                change_queries.move_pointer(session=session, source=change.pointer.source,
                                            subject=change.pointer.subject,
                                            value=change.pointer.value, now=now)
            if previous == change.ref:
                previous = None  # re-pointed at what it already was: no version to go back to
            event = ChangeEvent(service=change.service, ts=change.ts, kind=change.kind,
                                ref=change.ref, subject=subject, previous=previous,
                                author=change.author, description=change.description,
                                slice={})
            session.add(event)
            session.flush()
            out.stored.append(event)
    return out
