"""Pushed signals read back from the store as exchange records.

The store hands back rows (``store.signal_queries.load_samples``); this turns them
into the records the classifier, the SLO engine and runbook verification read, the
same records a file or an HTTP batch gives. Signal points were validated on the
way in, so they are built without a second validation (``model_construct``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlmodel import Session

from bot.core.exchange_records import DistributionRecord, SignalRecord, StateRecord
from bot.sources.convert import SourceRecord
from classifiers.vocabulary import Direction, Layer, SignalKind
from store.signal_queries import load_samples


def load_records(*, session: Session, service: str, start: datetime, end: datetime,
                 layers: Sequence[str] | None = None) -> list[SourceRecord]:
    """Signal, distribution and state records of ``service`` with start <= ts <= end,
    in time order."""
    samples = load_samples(session=session, service=service, start=start, end=end,
                           layers=layers)
    # The store keeps the vocabulary's words as text; only valid ones were written, so
    # the casts state what the rows hold (no second check on the hot path).
    record = SignalRecord.model_construct
    out: list[SourceRecord] = [
        record(type="signal", ts=ts, service=service, layer=cast(Layer, layer), name=name,
               value=value, count=count, kind=cast(SignalKind | None, kind),
               bad=cast(Direction | None, bad), slice=slice_)
        for ts, layer, name, value, count, kind, bad, slice_ in samples.signals]
    out.extend(DistributionRecord(type="distribution", ts=d.ts, service=d.service,
                                  layer=cast(Layer, d.layer), name=d.name, values=d.sketch,
                                  counts=d.counts, slice=d.slice)
               for d in samples.distributions)
    out.extend(StateRecord(type="state", ts=s.ts, service=s.service, layer=cast(Layer, s.layer),
                           name=s.name, value=s.value, expected=s.expected, slice=s.slice)
               for s in samples.states)
    out.sort(key=lambda r: r.ts)
    return out
