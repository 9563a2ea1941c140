"""JSON Lines read into columns: signals per series as lists of numbers, not records.

``resilio classify`` of a 20,000-signal file spent more on one record object per
signal, and on reading those objects back into arrays, than on the statistics.
:func:`read_columns` keeps each signal the fast path is sure of as three numbers
appended to its series' columns; every other line (changes, distributions, states,
alerts, and any signal the fast path leaves to the models) is taken exactly as
:func:`bot.core.exchange.parse_lines` takes it, so what is accepted, and the line
and reason of a refusal, are the same (``tests/diagnosis/test_columns.py``); the
changes and alerts the explicit reader is sure of become plain objects
(:mod:`bot.core.exchange_plain`), so a file of well-formed records needs no pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from bot.core.exchange import ParsedBatch, RecordError, _Taker
from bot.core.exchange_fast import _NO_SLICE, SignalFastPath, plain_signal

SliceKey = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, str, str, SliceKey]  # (service, layer, name, slice)


def slice_key(slice_: dict[str, str]) -> SliceKey:
    """A slice map as sorted (name, value) pairs: one key whatever the order in the file."""
    return tuple(sorted((str(k), str(v)) for k, v in slice_.items()))


@dataclass
class SignalColumn:
    """One series' signals in line order: epoch seconds, values, counts (None: none given).

    ``kind`` and ``bad`` are those of the first line; ``variants`` holds, by position,
    the lines that resolved to another kind or direction (a count given on some lines
    only), so a cut by time can still take them from its first line as records would.
    """

    kind: str
    bad: str
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    counts: list[float | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    variants: dict[int, tuple[str, str]] = field(default_factory=dict)

    def kind_at(self, index: int) -> tuple[str, str]:
        return self.variants.get(index, (self.kind, self.bad))


@dataclass
class ColumnBatch:
    """Signals as columns per series (first-seen order), the other records, the refusals."""

    signals: dict[SeriesKey, SignalColumn]
    others: ParsedBatch

    @property
    def errors(self) -> list[RecordError]:
        return self.others.errors


class _Columns:
    """Appends signals to their series' columns, each distinct slice map sorted once."""

    def __init__(self) -> None:
        self.signals: dict[SeriesKey, SignalColumn] = {}
        self._by_raw: dict[tuple[Any, ...], tuple[SeriesKey, SignalColumn]] = {}
        # every column met, also one whose lines were all refused: ``signals`` takes a
        # column at its first line taken, so it keeps first-seen order of taken lines
        self._all: dict[SeriesKey, SignalColumn] = {}
        self._fast = SignalFastPath()
        # (service, layer, name, kind, bad, has a count, *slice items) as decoded ->
        # (column, kind, bad, is a ratio, its key), or None when the models must decide
        self._entries: dict[tuple[Any, ...], _Entry | None] = {}

    def take(self, number: int, obj: Any) -> bool:
        """Append a decoded signal the fast path is sure of; False leaves it to the models.

        :meth:`SignalFastPath.fields`'s rules, with what a series repeats on every line
        (names, kind, direction, the slice, and so its column) checked and looked up
        once per distinct combination: one dictionary lookup per line.
        """
        if not plain_signal(obj):
            return False
        get = obj.get
        count = get("count")
        slice_ = get("slice", _NO_SLICE)
        if type(slice_) is not dict:
            return False  # null or another type: the models decide
        try:
            entry = self._entries[(get("service"), get("layer"), get("name"), get("kind"),
                                   get("bad"), count is not None, *slice_.items())]
        except KeyError:
            entry = self._entry(obj, count is not None, slice_)
        except TypeError:  # an unhashable field: not what the model takes as it is
            return False
        if entry is None:
            return False
        column, kind, bad, ratio, key = entry
        reading = self._fast.reading(get("ts"), get("value"), count, ratio)
        if reading is None:
            return False
        (_, epoch), value, count = reading
        self._append(number, key, column, kind, bad, epoch, value, count)
        return True

    def _entry(self, obj: Any, counted: bool, slice_: dict[Any, Any]
               ) -> _Entry | None:
        """A new combination of a series' fields: checked once, its column found once."""
        get = obj.get
        service, layer, name = get("service"), get("layer"), get("name")
        resolved = self._fast._resolve(service, layer, name, get("kind"), get("bad"), counted)
        entry = None
        if resolved is not None and (not slice_ or self._fast._slice(slice_)):
            kind, bad = resolved
            key, column = self._column(service, layer, name, slice_, kind, bad)
            entry = (column, kind, bad, kind == "ratio", key)
        self._entries[(service, layer, name, get("kind"), get("bad"), counted,
                       *slice_.items())] = entry
        return entry

    def _column(self, service: str, layer: str, name: str, slice_: dict[str, str],
                kind: str, bad: str) -> tuple[SeriesKey, SignalColumn]:
        raw = (service, layer, name, *slice_.items()) if slice_ else (service, layer, name)
        found = self._by_raw.get(raw)
        if found is None:
            key = (service, layer, name, slice_key(slice_) if slice_ else ())
            column = self._all.get(key)
            if column is None:
                column = self._all[key] = SignalColumn(kind, bad)
            found = self._by_raw[raw] = (key, column)
        return found

    def _register(self, key: SeriesKey, column: SignalColumn, kind: str, bad: str) -> None:
        """A column's first line taken: its kind and direction, its place in the order."""
        column.kind, column.bad = kind, bad
        self.signals[key] = column

    def add(self, number: int, ts: datetime, service: str, layer: str, name: str,
            value: float, count: float | None, kind: str, bad: str,
            slice_: dict[str, str]) -> None:
        """A signal the models took (:func:`_signals_to_columns`): few, so no cache."""
        key, column = self._column(service, layer, name, slice_, kind, bad)
        self._append(number, key, column, kind, bad, ts.timestamp(), value, count)

    def _append(self, number: int, key: SeriesKey, column: SignalColumn, kind: str, bad: str,
                epoch: float, value: float, count: float | None) -> None:
        """One line onto its column; the column's first line gives it its kind."""
        if not column.lines:
            self._register(key, column, kind, bad)
        elif kind != column.kind or bad != column.bad:
            column.variants[len(column.times)] = (kind, bad)
        column.times.append(epoch)
        column.values.append(value)
        column.counts.append(count)
        column.lines.append(number)


_Entry = tuple[SignalColumn, str, str, bool, SeriesKey]


def read_columns(text: str) -> ColumnBatch:
    """JSON Lines text read as :func:`bot.core.exchange.parse_lines` reads it, signals
    kept as columns; blank lines are skipped but counted."""
    columns = _Columns()
    signal = columns.take
    others = ParsedBatch([], [], [])
    fast_loads = orjson.loads
    take_line = _Taker(others, fast=False, plain=True).take_line
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            if signal(number, fast_loads(raw)):
                continue
        except orjson.JSONDecodeError:
            if not raw.strip():
                continue
        take_line(number, raw)
    _signals_to_columns(others, columns)
    return ColumnBatch(columns.signals, others)


def _signals_to_columns(batch: ParsedBatch, columns: _Columns) -> None:
    """Signals the models took (the fast path was not sure of them) join the columns.

    They are few; each is appended at its line's place in its series, so the columns
    hold every signal in line order, as a record list would.
    """
    if not any(getattr(r, "type", None) == "signal" for r in batch.records):
        return
    kept_records, kept_lines = [], []
    late: list[tuple[int, Any]] = []
    for number, record in zip(batch.lines, batch.records, strict=True):
        if getattr(record, "type", None) == "signal":
            late.append((number, record))
        else:
            kept_records.append(record)
            kept_lines.append(number)
    batch.records[:], batch.lines[:] = kept_records, kept_lines
    for number, r in late:
        columns.add(number, r.ts, r.service, r.layer, r.name, r.value, r.count,
                    r.kind or "gauge", r.bad or "both", r.slice)
    for column in columns.signals.values():
        if column.lines != sorted(column.lines):
            _reorder(column)
    # first-seen order: a series first met in a late signal goes back to its place
    columns.signals = dict(sorted(columns.signals.items(), key=lambda kv: kv[1].lines[0]))


def _reorder(column: SignalColumn) -> None:
    """A column's entries back in line order (after late additions)."""
    kinds = [column.kind_at(i) for i in range(len(column.times))]
    order = sorted(range(len(column.lines)), key=column.lines.__getitem__)
    column.times = [column.times[i] for i in order]
    column.values = [column.values[i] for i in order]
    column.counts = [column.counts[i] for i in order]
    column.lines = [column.lines[i] for i in order]
    column.kind, column.bad = kinds[order[0]]
    column.variants = {j: kinds[i] for j, i in enumerate(order)
                       if kinds[i] != (column.kind, column.bad)}
