"""Tables of the signals domain: signal points, distribution samples, states, learning.

Distributions are stored bounded: numeric samples as at most ``SKETCH_SIZE`` evenly
spaced order statistics of the record's values (a deterministic quantile sketch:
any empirical quantile read from it is off by at most 1/SKETCH_SIZE in rank, about
0.2 %), plus the original count; categories as their counts. Responder
corrections and the priors learned from them live here too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime

SKETCH_SIZE = 512


def _ts() -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=False))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class SignalPoint(SQLModel, table=True):
    __tablename__ = "signal_points"
    __table_args__ = (
        Index("ix_signal_points_service_ts", "service", "ts"),
        Index("ix_signal_points_series", "service", "layer", "name", "slice_key", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)  # "dim=value,..." sorted; "" = all
    value: float
    count: float | None = None
    kind: str = Field(default="gauge", max_length=10)
    bad: str = Field(default="both", max_length=10)


class DistributionSample(SQLModel, table=True):
    __tablename__ = "distribution_samples"
    __table_args__ = (Index("ix_distribution_samples_service_ts", "service", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)
    sketch: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    sample_size: int = 0
    counts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class StateSample(SQLModel, table=True):
    __tablename__ = "state_samples"
    __table_args__ = (Index("ix_state_samples_service_ts", "service", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    layer: str = Field(default="control", max_length=20)
    name: str = Field(max_length=200)
    slice: dict[str, Any] = _json(dict)
    slice_key: str = Field(default="", max_length=500)
    value: str = Field(max_length=500)
    expected: str | None = Field(default=None, max_length=500)


class RelabelCorrection(SQLModel, table=True):
    """A responder's label for an incident, with the feature pattern it was given for."""

    __tablename__ = "relabel_corrections"
    __table_args__ = (Index("ix_relabel_corrections_service", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    service: str = Field(max_length=200)
    ts: datetime = _ts()
    actor: str = Field(max_length=200)
    predicted: str | None = Field(default=None, max_length=30)
    label: str = Field(max_length=30)
    pattern: str = Field(default="", max_length=800)
    features: dict[str, Any] = _json(dict)


class LearnedPrior(SQLModel, table=True):
    """Counts learned from corrections: per scope (``*`` global, or a service) and pattern
    (``""`` for the label prior itself)."""

    __tablename__ = "learned_priors"
    __table_args__ = (UniqueConstraint("scope", "pattern", "label", name="uq_learned_priors"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=200)
    pattern: str = Field(default="", max_length=800)
    label: str = Field(max_length=30)
    count: float = 0.0
