"""Signal records read from decoded JSON without a pydantic object per record.

The bulk of every batch is plain signal records; validating each with pydantic
costs more than decoding it. :class:`SignalFastPath` applies the same rules to
the common shape and answers only when sure, leaving the rest to the models of
:mod:`bot.core.exchange_records`.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from bot.core.exchange_rules import SLICE_KEY_WIDTH, plain_text, plain_time
from classifiers.vocabulary import LAYERS, Direction, default_direction

if TYPE_CHECKING:
    from bot.core.exchange_records import SignalRecord

# ``SignalRecord``'s fields, spelled out so that the columnar reader of ``resilio
# classify`` imports no pydantic (tests/core/test_exchange_fast_path.py compares them)
_SIGNAL_FIELDS = frozenset(("ts", "service", "type", "layer", "name", "value", "count",
                            "kind", "bad", "slice"))
_LAYER_SET = frozenset(LAYERS)
_KINDS = frozenset(("ratio", "gauge", "count"))
_DIRECTIONS = frozenset(("up", "down", "both"))
_new_object = object.__new__
_set = object.__setattr__


class SignalFastPath:
    """Signal records read from decoded JSON without a pydantic object per record.

    One ``SignalRecord`` validated by pydantic costs ~20 us, more than decoding its
    JSON line; a file of 20,000 signals spent most of ``resilio classify`` there.
    This reader checks the common shape itself: the ``SignalRecord`` rules on plain
    JSON values (a known layer, strings of 1..200 characters, finite numbers, a
    count >= 0, a ratio in 0..1, a string-to-string slice, an RFC 3339 time with
    an offset), each distinct timestamp and string checked once per batch. It
    answers only when it is sure: :meth:`read` returns the same record pydantic
    would build, or ``None`` for anything else (another type, an unknown field, a
    number given as a string, an odd time format, a rule broken), which then goes
    through the models, so what is accepted and the reason for a refusal never
    depend on this path (``tests/core/test_exchange_fast_path.py`` holds it to that).
    """

    def __init__(self) -> None:
        self._times: dict[str, Instant | None] = {}  # the text -> (datetime, epoch)
        self._strings: dict[str, bool] = {}
        self._slices: dict[tuple[tuple[Any, Any], ...], bool] = {}
        self._directions: dict[str, Direction] = {}
        # (service, layer, name, kind, bad, has a count) -> (kind, bad) as the model
        # resolves them, or None when the model must decide: one lookup per record
        # for what a series repeats on every line
        self._series: dict[tuple[Any, ...], tuple[str, Direction] | None] = {}

    def read(self, obj: Any) -> SignalRecord | None:
        fields = self.fields(obj)
        if fields is None:
            return None
        ts, service, layer, name, value, count, kind, bad, slice_ = fields
        record = _new_object(_signal_record())
        _set(record, "__dict__", {"ts": ts, "service": service, "type": "signal",
                                  "layer": layer, "name": name, "value": value,
                                  "count": count, "kind": kind, "bad": bad,
                                  "slice": dict(slice_)})
        _set(record, "__pydantic_fields_set__", set(obj))
        _set(record, "__pydantic_extra__", {})
        _set(record, "__pydantic_private__", None)
        return record

    def fields(self, obj: Any) -> SignalFields | None:
        """The validated fields of a signal the model would take as it is, or None.

        ``(ts, service, layer, name, value, count, kind, bad, slice)`` with kind and
        direction resolved as the model resolves them; the slice is the decoded map
        itself (not copied). The columnar reader (:mod:`bot.core.exchange_columns`)
        applies the same rules with its own per-series cache.
        """
        if not plain_signal(obj):
            return None  # another type, or unknown fields (kept as extras by the model)
        get = obj.get
        count = get("count")
        key = (get("service"), get("layer"), get("name"), get("kind"), get("bad"),
               count is not None)
        try:
            resolved = self._series[key]
        except KeyError:
            resolved = self._series[key] = self._resolve(*key)
        except TypeError:  # an unhashable field: not what the model takes as it is
            return None
        if resolved is None:
            return None
        kind, bad = resolved
        reading = self.reading(get("ts"), get("value"), count, kind == "ratio")
        if reading is None:
            return None
        slice_ = get("slice", _NO_SLICE)
        if slice_ is not _NO_SLICE and not (type(slice_) is dict and self._slice(slice_)):
            return None
        (ts, _), value, count = reading
        # _resolve took service, layer and name as strings
        return (ts, key[0], key[1], key[2], value, count, kind, bad, slice_)

    def reading(self, text: Any, value: Any, count: Any, ratio: bool) -> Reading | None:
        """What changes on every line of a series, checked: its time (each distinct
        string parsed once per batch), a finite value and count, a ratio within 0..1.

        Both fast readers, :meth:`fields` and the columnar one of
        :mod:`bot.core.exchange_columns`, call it after their own lookup of the
        series, so the rules for a line's time and numbers are written once.
        """
        if type(text) is not str:
            return None
        instant = self._times.get(text, _ABSENT)
        if instant is _ABSENT:
            instant = self._time(text)
        if instant is None:
            return None
        numbers = value_and_count(value, count)
        if numbers is None:
            return None
        if ratio and not 0.0 <= numbers[0] <= 1.0:
            return None
        return instant, numbers[0], numbers[1]  # type: ignore[return-value]  # not _ABSENT

    def _resolve(self, service: Any, layer: Any, name: Any, kind: Any, bad: Any,
                 counted: bool) -> tuple[str, Direction] | None:
        """The kind and direction the model gives a series, or None when it must decide."""
        if not self._text(service) or not self._text(name) \
                or type(layer) is not str or layer not in _LAYER_SET:
            return None
        if not (kind is None or type(kind) is str and kind in _KINDS) \
                or not (bad is None or type(bad) is str and bad in _DIRECTIONS):
            return None
        if kind is None:
            ratio_name = name.endswith(("_rate", "_share", "_ratio"))
            kind = "ratio" if ratio_name and counted else "gauge"
        if bad is None:
            bad = self._directions.get(name)
            if bad is None:
                bad = self._directions[name] = default_direction(name)
        return kind, bad

    def _time(self, text: str) -> Instant | None:
        """The instant of a new time string, remembered for the batch (None: not sure)."""
        parsed = plain_time(text)  # a year out of range: the model says
        instant = self._times[text] = None if parsed is None else (parsed, parsed.timestamp())
        return instant

    def _text(self, text: object) -> TypeGuard[str]:
        """A string the model's ``str`` field of 1..200 characters takes as it is."""
        if type(text) is not str:
            return False
        known = self._strings.get(text)
        if known is None:
            known = self._strings[text] = 0 < len(text) <= 200 and plain_text(text)
        return known

    def _slice(self, slice_: dict[Any, Any]) -> bool:
        """String names to string values, each valid Unicode; checked once per slice."""
        try:
            items = tuple(slice_.items())
            known = self._slices.get(items)
        except TypeError:  # an unhashable value: not a string, the model decides
            return False
        if known is None:
            known = self._slices[items] = all(
                type(k) is str and type(v) is str and plain_text(k) and plain_text(v)
                for k, v in items) and \
                sum(len(k) + len(v) + 2 for k, v in items) - 1 <= SLICE_KEY_WIDTH
        return known


@functools.cache
def _signal_record() -> type[SignalRecord]:
    """The model class, imported when a record is first built (the columnar reader never)."""
    from bot.core.exchange_records import SignalRecord

    return SignalRecord


_ABSENT = object()
_NO_SLICE: dict[str, str] = {}  # shared, never changed: read() copies it

# a line's time as a datetime and as epoch seconds (records take one, columns the other)
Instant = tuple[datetime, float]
# (instant, value, count): see SignalFastPath.reading
Reading = tuple[Instant, float, float | None]
# (ts, service, layer, name, value, count, kind, bad, slice): see SignalFastPath.fields
SignalFields = tuple[datetime, str, str, str, float, float | None, str, Direction,
                     dict[str, str]]


def plain_signal(obj: Any) -> bool:
    """A decoded line that is a signal with none but ``SignalRecord``'s fields, the
    only shape the fast readers take (an unknown field is an extra the model keeps)."""
    return type(obj) is dict and obj.get("type") == "signal" \
        and _SIGNAL_FIELDS.issuperset(obj)


def value_and_count(value: Any, count: Any) -> tuple[float, float | None] | None:
    """A signal's value and count as the model reads them: finite numbers, a count not
    negative (``None`` when absent); ``None`` when the model must decide."""
    if type(value) is not float:
        value = _number(value)
        if value is None:
            return None
    if value - value != 0.0:  # NaN and +-inf leave no 0.0 here
        return None
    if count is not None:
        if type(count) is not float:
            count = _number(count)
            if count is None:
                return None
        if not count >= 0 or count - count != 0.0:  # inf: no 0.0
            return None
    return value, count


def _number(value: Any) -> float | None:
    """A JSON number as the model's ``float`` field reads it; ``None`` for anything else."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return None
    return None
