"""The state of each OTLP stream: what the next cumulative point is measured against.

One row per stream (resource, scope, metric, attribute set), written in the same
transaction as the records its points produced, so after a restart of the bot
the next point continues the stream: no interval is lost or counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class OtelStream(SQLModel, table=True):
    __tablename__ = "otel_streams"
    __table_args__ = (Index("ix_otel_streams_updated_at", "updated_at"),)

    key: str = Field(primary_key=True, max_length=40)
    service: str = Field(max_length=200)
    metric: str = Field(max_length=300)
    start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
