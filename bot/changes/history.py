"""A service's stored changes over a window, as exchange change records.

The diagnosis ranks these against an episode's onset; the store's one query of
change events (``store.queries.changes_between``) reads them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.exchange_records import ChangeRecord
from store.queries import changes_between


def load_changes(*, session: Session, service: str, start: datetime,
                 end: datetime) -> list[ChangeRecord]:
    """Change events of ``service`` in [start, end], oldest first."""
    return [ChangeRecord.model_validate({
                "type": "change", "ts": c.ts, "service": c.service, "kind": c.kind,
                "ref": c.ref, "previous": c.previous, "author": c.author,
                "description": c.description, "slice": c.slice or {}})
            for c in changes_between(session=session, service=service, start=start, end=end)]
