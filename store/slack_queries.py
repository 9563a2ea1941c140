"""The incident channel's claim: which worker creates an incident's Slack channel.

Creating a channel is not idempotent on Slack's side, so the database says who is
doing it and how far they got (``creating`` -> ``ready`` -> ``complete``, or
``failed``); a worker takes over a claim only by a compare-and-set on its state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.db import matched_rows
from store.slack_models import SlackChannelClaim


def add_claim(*, session: Session, incident_id: int, now: datetime, runner: str) -> None:
    """Claim a new channel (the caller's IntegrityError means someone claimed it first)."""
    session.add(SlackChannelClaim(incident_id=incident_id, state="creating",
                                  claimed_at=now, claimed_by=runner))


def get_claim(*, session: Session, incident_id: int) -> SlackChannelClaim:
    return session.exec(select(SlackChannelClaim).where(
        col(SlackChannelClaim.incident_id) == incident_id)).one()


def take_claim(*, session: Session, claim: SlackChannelClaim, now: datetime,
               runner: str) -> bool:
    """Take over ``claim`` as read; False when another worker changed it meanwhile."""
    result = session.execute(
        update(SlackChannelClaim)
        .where(col(SlackChannelClaim.incident_id) == claim.incident_id,
               col(SlackChannelClaim.state) == claim.state,
               col(SlackChannelClaim.claimed_at) == claim.claimed_at)
        .values(state="creating", claimed_at=now, claimed_by=runner, error=None))
    return matched_rows(result) > 0


def update_claim(*, session: Session, incident_id: int, **values: object) -> None:
    session.execute(update(SlackChannelClaim)
                    .where(col(SlackChannelClaim.incident_id) == incident_id).values(**values))
