"""Cumulative and delta streams as per-interval amounts, as the OTLP data model says.

A stream is one metric of one resource with one set of attributes. Its points
carry ``start_time_unix_nano`` (when the counting began) and ``time_unix_nano``.

- **Cumulative**: the amount of an interval is this point less the previous one
  of the same start. A new, later start is a reset (the exporter restarted): the
  point's value is what was counted since then, so it is the interval's amount,
  never a negative jump. A value that went down under the same start is a reset
  the exporter did not mark (Prometheus-style sources): counted from zero. A
  point at or before the last one seen (a retry, a late copy), or of an older
  start, adds nothing: the later cumulative value already holds it.
- **Delta**: each point is its interval's amount. A point whose end time was
  already seen (a retry) is not counted twice; a late point of an interval not
  yet seen counts.
- The **first** point of a cumulative stream the bot never saw counts only when
  its start is recent (``first_point_max_age_seconds``); an old counter's first
  point is the reference for the next one, not one huge interval.

The state (previous point, start, the recent delta end times) is stored with the
records it produced, in one transaction, so a restart of the bot neither loses
nor double-counts an interval (see ``bot.otel.intake``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.otel import amounts
from bot.otel.amounts import Amount, Incomparable

_SEEN = 64  # delta end times remembered per stream, to refuse retries


@dataclass
class StreamState:
    start_ns: int
    last_ns: int
    previous: Amount | None = None  # cumulative streams: the last point
    seen: list[int] = field(default_factory=list)  # delta streams: recent end times

    def to_json(self) -> dict[str, Any]:
        return {"previous": amounts.to_json(self.previous) if self.previous is not None
                else None, "seen": self.seen}

    @classmethod
    def from_row(cls, start_ns: int, last_ns: int, data: dict[str, Any]) -> StreamState:
        previous = data.get("previous")
        return cls(start_ns, last_ns, amounts.from_json(previous) if previous else None,
                   list(data.get("seen") or []))


@dataclass(frozen=True)
class Step:
    """What one point contributes: ``amount`` for its interval (``None``: nothing) and why."""

    amount: Amount | None
    state: StreamState
    note: str | None = None


def cumulative(state: StreamState | None, *, start_ns: int, time_ns: int, value: Amount,
               first_max_age_ns: int) -> Step:
    if state is None:
        recent = start_ns > 0 and 0 <= time_ns - start_ns <= first_max_age_ns
        fresh = StreamState(start_ns, time_ns, value)
        if recent:
            return Step(value, fresh)
        return Step(None, fresh, "first point of a stream that began earlier: kept as the "
                                 "reference for the next")
    if start_ns < state.start_ns and start_ns != 0:
        return Step(None, state, "a point of an earlier run of the stream (older start time)")
    if start_ns == state.start_ns or start_ns == 0:
        if time_ns <= state.last_ns:
            return Step(None, state, "at or before the last point seen (a retry or a late "
                                     "copy): already counted")
        try:
            diff = amounts.minus(value, state.previous) if state.previous is not None else None
        except Incomparable as error:
            return Step(None, StreamState(state.start_ns, time_ns, value),
                        f"{error}: this point is the new reference")
        if diff is None:
            return Step(value, StreamState(state.start_ns, time_ns, value),
                        "the count went down under the same start time: a reset, counted "
                        "from zero")
        return Step(diff, StreamState(state.start_ns, time_ns, value))
    # A later start: the stream was reset (an exporter restart); the value is what was
    # counted since that start, the whole of this interval.
    return Step(value, StreamState(start_ns, time_ns, value))


def delta(state: StreamState | None, *, start_ns: int, time_ns: int, value: Amount) -> Step:
    if state is None:
        return Step(value, StreamState(start_ns, time_ns, None, [time_ns]))
    if time_ns in state.seen:
        return Step(None, state, "an interval already counted (a retry)")
    if state.seen and len(state.seen) >= _SEEN and time_ns < min(state.seen):
        return Step(None, state, "older than every interval remembered for the stream")
    seen = sorted([*state.seen, time_ns])[-_SEEN:]
    return Step(value, StreamState(min(state.start_ns, start_ns), max(state.last_ns, time_ns),
                                   None, seen))
