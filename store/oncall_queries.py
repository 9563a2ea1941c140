"""Queries over silences and schedule overrides. Keyword-only, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from store.oncall_models import OverrideRow, SilenceRow


def add_silence(*, session: Session, matchers: str, starts_at: datetime, ends_at: datetime,
                created_by: str, comment: str, now: datetime) -> SilenceRow:
    row = SilenceRow(matchers=matchers, starts_at=starts_at, ends_at=ends_at,
                     created_by=created_by, comment=comment, created_at=now)
    session.add(row)
    session.flush()
    return row


def silences_in_force(*, session: Session, at: datetime) -> list[SilenceRow]:
    """Silences whose window holds ``at`` and that nobody ended early."""
    query = (select(SilenceRow).where(SilenceRow.starts_at <= at, SilenceRow.ends_at > at)
             .where(or_(col(SilenceRow.ended_at).is_(None), col(SilenceRow.ended_at) > at))
             .order_by(col(SilenceRow.id)))
    return list(session.exec(query))


def list_silences(*, session: Session, since: datetime | None = None,
                  limit: int = 200) -> list[SilenceRow]:
    """Newest first; ``since`` keeps those that had not ended by then."""
    query = select(SilenceRow)
    if since is not None:
        query = query.where(SilenceRow.ends_at > since)
    return list(session.exec(query.order_by(col(SilenceRow.id).desc()).limit(limit)))


def end_silence(*, session: Session, silence_id: int, now: datetime) -> SilenceRow | None:
    row = session.get(SilenceRow, silence_id)
    if row is not None and row.ended_at is None and row.ends_at > now:
        row.ended_at = max(now, row.starts_at)
        session.add(row)
    return row


def add_override(*, session: Session, schedule: str, user: str, starts_at: datetime,
                 ends_at: datetime, set_by: str, reason: str, now: datetime) -> OverrideRow:
    row = OverrideRow(schedule=schedule, user=user, starts_at=starts_at, ends_at=ends_at,
                      set_by=set_by, reason=reason, created_at=now)
    session.add(row)
    session.flush()
    return row


def overrides_for(*, session: Session, schedule: str, after: datetime) -> list[OverrideRow]:
    """The schedule's overrides that end after ``after``, oldest first (later ones win)."""
    query = (select(OverrideRow).where(OverrideRow.schedule == schedule)
             .where(OverrideRow.ends_at > after).order_by(col(OverrideRow.id)))
    return list(session.exec(query))
