"""Tables of the reports domain: which weekly digests were posted.

A digest is posted once per team and ISO week: ``(team, week)`` is unique, so two
replicas (or a restart in the middle of a post) that try the same digest find the
first one's row instead of posting twice. The row is claimed before Slack is
called (``posting``) and settled afterwards (``posted`` or ``failed``); a failed
post may be claimed again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class DigestPostStatus(StrEnum):
    posting = "posting"
    posted = "posted"
    failed = "failed"


def _ts(nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class DigestPost(SQLModel, table=True):
    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("team", "week", name="uq_digest_posts_team_week"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=200)
    week: str = Field(max_length=10)  # ISO week, "2026-W47"
    status: str = Field(default=DigestPostStatus.posting.value, max_length=20)
    channel: str | None = Field(default=None, max_length=50)
    message_ts: str | None = Field(default=None, max_length=50)
    file_id: str | None = Field(default=None, max_length=50)
    path: str | None = None  # where the HTML report was written
    error: str | None = None
    attempts: int = 0
    claimed_at: datetime = _ts(nullable=False)
    posted_at: datetime | None = _ts(nullable=True)
