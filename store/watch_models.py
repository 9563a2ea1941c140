"""The watch's memory: each watched series' running model.

Since migration 0011 a service's models are kept in two rows of ``watch_bundles``;
``watch_models`` (one row per series) holds what was stored before it, read once
by the watch and removed by its first save into the bundles.

The silent-degradation watch tests each series against days of its own history
(:mod:`classifiers.watch_test`); that history is kept here as the model's bytes,
so a restart, a failover to another replica or a deploy does not make every
series new again (and the watch blind for the days a daily cycle takes to learn).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def _ts() -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=False))


class WatchModel(SQLModel, table=True):
    __tablename__ = "watch_models"
    __table_args__ = (UniqueConstraint("service", "layer", "name", "slice_key",
                                       name="uq_watch_models_series"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200, index=True)
    layer: str = Field(max_length=20)
    name: str = Field(max_length=200)
    slice_key: str = Field(default="", max_length=500)  # as in ``signal_points``
    # drawn at random by every save: a process that finds its own token knows the
    # row is still what it wrote, and reads the bytes only when it is not (0: no save's)
    write_token: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                         server_default="0"))
    last_point: datetime = _ts()   # the newest point the model has seen
    updated_at: datetime = _ts()
    # last in the row: reading the columns before it does not walk its overflow pages
    model: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class WatchBundle(SQLModel, table=True):
    """A service's watch models in two rows: what moves every run, and the histories.

    Each series' model splits into a recent part (a few kilobytes that change with
    every point) and its history (the half-hour buckets and cycle, eight kilobytes
    that change when a half-hour closes); a row holds that part of every series of
    the service (:func:`store.watch_queries.pack_series`). So a run writes one row
    of recent parts per service and the histories only when one moved: a third of
    the bytes, and two rows instead of one per series. The write token works as in
    ``watch_models``; a save also requires the row to carry the token it read.
    """

    __tablename__ = "watch_bundles"
    __table_args__ = (UniqueConstraint("service", "part", name="uq_watch_bundles_part"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    part: str = Field(max_length=20)  # "recent" or "history"
    write_token: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                         server_default="0"))
    last_point: datetime = _ts()   # the newest point any of its models has seen
    updated_at: datetime = _ts()
    model: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # last, as above
