"""Setting, ending and finding silences: one transaction each, like the incident service.

Matchers are parsed (and so checked) before anything is stored; what is stored is the
canonical text they print back as, so a stored silence always parses again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.errors import NotFound, UserError
from bot.core.services import Services
from bot.silences.matchers import MatcherError, parse_matchers
from bot.silences.silence import Silence, silencing
from store import oncall_queries
from store.db import session_scope
from store.oncall_models import SilenceRow

MAX_SILENCE = timedelta(days=30)


def to_silence(row: SilenceRow) -> Silence:
    return Silence(id=row.id or 0, matchers=tuple(parse_matchers(row.matchers)),
                   starts_at=row.starts_at, ends_at=row.ends_at, created_by=row.created_by,
                   comment=row.comment, ended_at=row.ended_at)


def create_silence(services: Services, *, matchers: str, created_by: str, comment: str,
                   ends_at: datetime | None = None, duration: timedelta | None = None,
                   starts_at: datetime | None = None) -> Silence:
    """Store a silence from ``starts_at`` (default now) for ``duration`` or until ``ends_at``."""
    try:
        parsed = parse_matchers(matchers)
    except MatcherError as error:
        raise UserError(f"matchers: {error}") from None
    now = services.clock()
    start = starts_at or now
    if (ends_at is None) == (duration is None):
        raise UserError("give either an end time or a duration")
    end = ends_at if ends_at is not None else start + (duration or timedelta())
    if end <= start:
        raise UserError("the silence ends before it starts")
    if end - start > MAX_SILENCE:
        raise UserError(f"a silence lasts at most {MAX_SILENCE.days} days")
    if end <= now:
        raise UserError("the silence would already be over")
    if not comment.strip():
        raise UserError("comment: say why (it is shown to whoever wonders about the quiet)")
    with session_scope(services.engine) as session:
        row = oncall_queries.add_silence(
            session=session, matchers=", ".join(str(m) for m in parsed), starts_at=start,
            ends_at=end, created_by=created_by, comment=comment.strip(), now=now)
        return to_silence(row)


def end_silence(services: Services, silence_id: int) -> Silence:
    with session_scope(services.engine) as session:
        row = oncall_queries.end_silence(session=session, silence_id=silence_id,
                                         now=services.clock())
        if row is None:
            raise NotFound(f"no silence with id {silence_id}")
        return to_silence(row)


def list_silences(services: Services, since: datetime | None = None) -> list[Silence]:
    with session_scope(services.engine) as session:
        return [to_silence(row) for row in oncall_queries.list_silences(session=session,
                                                                        since=since)]


def silences_in_force(session: Session, at: datetime) -> list[Silence]:
    """The silences in force at ``at``, read within the caller's session (intake's)."""
    return [to_silence(row) for row in oncall_queries.silences_in_force(session=session, at=at)]


def silence_covering(session: Session, labels: Mapping[str, str], at: datetime
                     ) -> Silence | None:
    """The silence in force that covers ``labels``: for the watch and burn-rate alerts."""
    return silencing(silences_in_force(session, at), labels, at)
