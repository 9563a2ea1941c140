"""What the store needs of a record to keep it, and the rows it reads back.

The store sits below the bot: it does not know the exchange format's classes
(``bot.core.exchange``), only the fields it keeps. Any object with these
read-only attributes can be stored, and the exchange records have them; each
shape is told apart by its ``type`` tag, as in the exchange format. Reading
back, the store hands out rows and its own table objects, and the bot builds
its records from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from store.signal_models import DistributionSample, StateSample


class _Sample(Protocol):
    @property
    def ts(self) -> datetime: ...
    @property
    def service(self) -> str: ...
    @property
    def layer(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def slice(self) -> Mapping[str, str]: ...


class SignalShape(_Sample, Protocol):
    @property
    def type(self) -> Literal["signal"]: ...
    @property
    def value(self) -> float: ...
    @property
    def count(self) -> float | None: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def bad(self) -> str | None: ...


class DistributionShape(_Sample, Protocol):
    @property
    def type(self) -> Literal["distribution"]: ...
    @property
    def values(self) -> Sequence[float] | None: ...
    @property
    def counts(self) -> Mapping[str, float] | None: ...


class StateShape(_Sample, Protocol):
    @property
    def type(self) -> Literal["state"]: ...
    @property
    def value(self) -> str: ...
    @property
    def expected(self) -> str | None: ...


class ChangeShape(Protocol):
    @property
    def type(self) -> Literal["change"]: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def service(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def previous(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def slice(self) -> Mapping[str, str]: ...
    @property
    def maintenance_minutes(self) -> float | None: ...
    @property
    def affects(self) -> Sequence[str]: ...


class OtherShape(Protocol):
    """Any other record (an alert): not stored here, handed back to the caller."""

    @property
    def type(self) -> str: ...


StorableRecord = SignalShape | DistributionShape | StateShape | ChangeShape | OtherShape

# ts, layer, name, value, count, kind, bad, slice: one stored signal point, its slice parsed
SignalRow = tuple[datetime, str, str, float, float | None, str, str, dict[str, str]]


@dataclass
class StoredSamples:
    """One service's samples of a window, as stored: signal points as plain rows (the
    bulk: no object per point), distributions and states as their table rows."""

    service: str
    signals: list[SignalRow] = field(default_factory=list)
    distributions: list[DistributionSample] = field(default_factory=list)
    states: list[StateSample] = field(default_factory=list)
