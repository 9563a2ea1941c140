"""Stored signals: points, bounded distribution samples, and control-plane states.

Each row keeps its slice as JSON plus ``slice_key``, a canonical string of it
(``""`` for all traffic), so queries can group and deduplicate by slice without
parsing JSON. A point is unique per (service, layer, name, slice, time): re-sending
a batch, or two replicas receiving it, stores it once.

Distributions keep at most ``SAMPLE_CAP`` values per record, a uniform random
sample without replacement. For KS tests the sampling error this adds is about
1.36/sqrt(2000) = 0.030 on the KS statistic at 95% (Dvoretzky-Kiefer-Wolfowitz),
well below the 0.1 effect the detectors require; category counts are kept exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime

SAMPLE_CAP = 2000


def _ts() -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=False))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class SignalPoint(SQLModel, table=True):
    __tablename__ = "signal_points"
    __table_args__ = (
        UniqueConstraint("service", "layer", "name", "slice_key", "ts",
                         name="uq_signal_points_identity"),
        Index("ix_signal_points_service_ts", "service", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    value: float
    count: float | None = None
    kind: str = Field(max_length=10)
    bad: str = Field(max_length=10)
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)


class DistributionSample(SQLModel, table=True):
    __tablename__ = "distribution_samples"
    __table_args__ = (
        UniqueConstraint("service", "layer", "name", "slice_key", "ts",
                         name="uq_distribution_samples_identity"),
        Index("ix_distribution_samples_service_ts", "service", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    values: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    counts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    total: int = 0  # how many values the record carried before sampling
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)


class StatePoint(SQLModel, table=True):
    __tablename__ = "state_points"
    __table_args__ = (
        UniqueConstraint("service", "layer", "name", "slice_key", "ts",
                         name="uq_state_points_identity"),
        Index("ix_state_points_service_ts", "service", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    value: str = Field(max_length=500)
    expected: str | None = Field(default=None, max_length=500)
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)
