"""Tables that make the Slack side effects idempotent.

Slack retries events, people double-click, and several replicas share one
database: a unique key claimed in the database, not a check in memory, is what
makes "one channel per incident" and "one effect per interaction" hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class SlackChannelClaim(SQLModel, table=True):
    """The one Slack channel of an incident; the row is claimed before the channel exists."""

    __tablename__ = "slack_channel_claims"
    __table_args__ = (UniqueConstraint("incident_id", name="uq_slack_channel_claims_incident"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    # creating -> ready (the channel exists) -> complete (topic, invites, summary and
    # announcement done), or failed. A worker that dies leaves creating or ready, and
    # the next one takes over from there.
    state: str = Field(default="creating", max_length=20)
    channel_id: str | None = Field(default=None, max_length=50)
    channel_name: str | None = Field(default=None, max_length=100)
    error: str | None = None
    claimed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    claimed_by: str | None = Field(default=None, max_length=200)  # host:pid of the creator


class SlackProcessedRequest(SQLModel, table=True):
    """An event id or interaction key already acted on; a repeat is acked and ignored."""

    __tablename__ = "slack_processed_requests"
    __table_args__ = (UniqueConstraint("key", name="uq_slack_processed_requests_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    kind: str = Field(max_length=40)
    processed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
