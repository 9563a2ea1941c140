"""Queries for reports: a team's incidents and runbook runs, and digest post claims.

Keyword-only and never commit, like every query module: the digest job that owns
the ``session_scope`` decides when a claim becomes visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from store.db import matched_rows
from store.models import Alert, Incident, TimelineEvent
from store.report_models import DigestPost, DigestPostStatus
from store.runbook_models import RunbookRun


def incidents_of_services(*, session: Session, services: Sequence[str], since: datetime,
                          until: datetime) -> list[Incident]:
    """Incidents of these services created in ``[since, until)``, oldest first."""
    if not services:
        return []
    query = (select(Incident).where(col(Incident.service).in_(list(services)))
             .where(Incident.created_at >= since).where(Incident.created_at < until)
             .order_by(col(Incident.created_at), col(Incident.id)))
    return list(session.exec(query))


def runs_of_incidents(*, session: Session, incident_ids: Sequence[int]) -> list[RunbookRun]:
    if not incident_ids:
        return []
    query = (select(RunbookRun).where(col(RunbookRun.incident_id).in_(list(incident_ids)))
             .order_by(col(RunbookRun.id)))
    return list(session.exec(query))


PAGE_KINDS = ("paged", "escalated")  # timeline kinds whose details name who was paged


def pages_of_incidents(*, session: Session, incident_ids: Sequence[int]
                       ) -> list[tuple[int, str, datetime]]:
    """(incident id, user, when) of every page recorded on these incidents' timelines."""
    if not incident_ids:
        return []
    query = (select(TimelineEvent).where(col(TimelineEvent.incident_id).in_(list(incident_ids)))
             .where(col(TimelineEvent.kind).in_(PAGE_KINDS)).order_by(col(TimelineEvent.ts)))
    return [(event.incident_id, str(event.details["user"]), event.ts)
            for event in session.exec(query) if (event.details or {}).get("user")]


def silenced_alerts(*, session: Session, services: Sequence[str], since: datetime,
                    until: datetime) -> dict[str, int]:
    """Per service, the alerts first seen in ``[since, until)`` that a silence kept quiet."""
    if not services:
        return {}
    query = (select(Alert.service, func.count()).where(col(Alert.service).in_(list(services)))
             .where(col(Alert.silenced_by).is_not(None))
             .where(Alert.first_seen >= since).where(Alert.first_seen < until)
             .group_by(Alert.service))
    return {str(service): int(count) for service, count in session.exec(query)}


def digest_post(*, session: Session, team: str, week: str) -> DigestPost | None:
    query = select(DigestPost).where(DigestPost.team == team).where(DigestPost.week == week)
    return session.exec(query).first()


def claim_digest_post(*, session: Session, team: str, week: str, channel: str,
                      now: datetime, stale_before: datetime | None = None) -> DigestPost | None:
    """Claim the post of one team's digest for one week; None when it is not ours to post.

    A new claim is an insert that the unique ``(team, week)`` key lets only one
    writer win. A ``failed`` post, or a ``posting`` one claimed before ``stale_before``
    (its poster died), is claimed again by a conditional update, so two retries cannot
    both win either. Flushes (inside a savepoint) but never commits.
    """
    try:
        with session.begin_nested():
            post = DigestPost(team=team, week=week, channel=channel, attempts=1,
                              status=DigestPostStatus.posting.value, claimed_at=now)
            session.add(post)
            session.flush()
        return post
    except IntegrityError:
        pass
    reclaimable = col(DigestPost.status) == DigestPostStatus.failed.value
    if stale_before is not None:
        reclaimable = or_(reclaimable,
                          and_(col(DigestPost.status) == DigestPostStatus.posting.value,
                               col(DigestPost.claimed_at) < stale_before))
    result = session.execute(
        update(DigestPost)
        .where(col(DigestPost.team) == team, col(DigestPost.week) == week, reclaimable)
        .values(status=DigestPostStatus.posting.value, channel=channel, claimed_at=now,
                error=None, attempts=DigestPost.attempts + 1))
    if matched_rows(result) != 1:
        return None
    claimed = digest_post(session=session, team=team, week=week)
    if claimed is not None:
        session.refresh(claimed)
    return claimed
