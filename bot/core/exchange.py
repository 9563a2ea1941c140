"""The signal exchange format (JSON Lines), parsed into typed records.

Every way signals enter the bot (HTTP, files, the simulator, tests) goes through
:func:`parse_lines` or :func:`parse_objects`, so the rules of DESIGN.md live in one
place: a bad record is refused with its line number and reason, and the valid
records of the same batch are kept.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from classifiers.vocabulary import (
    LAYERS,
    ChangeKind,
    Direction,
    Layer,
    SignalKind,
    default_direction,
)

# The years a timestamp may fall in: a wider range is a typo or an attack, and near
# year 1 or 9999 the conversion to UTC itself overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2200


def to_utc(ts: datetime) -> datetime:
    """Naive timestamps are taken as UTC; aware ones are converted to it.

    For the bot's own times (window starts, "30 days before"), which may lie anywhere;
    a time that came from outside goes through :func:`checked_utc` instead.
    """
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def checked_utc(ts: datetime) -> datetime:
    """A time from outside, in UTC: ``ValueError`` (never ``OverflowError``) unless it
    falls in the years 1970-2200."""
    if not FIRST_YEAR - 1 <= ts.year <= LAST_YEAR + 1:  # an offset moves a day at most
        raise ValueError(f"timestamp {ts.isoformat()} is outside the years "
                         f"{FIRST_YEAR}-{LAST_YEAR}")
    converted = to_utc(ts)
    if not FIRST_YEAR <= converted.year <= LAST_YEAR:
        raise ValueError(f"timestamp {ts.isoformat()} is outside the years "
                         f"{FIRST_YEAR}-{LAST_YEAR}")
    return converted


# The width of the stored slice key (``dim=value,...``) in the signal tables.
SLICE_KEY_WIDTH = 500

# A timestamp field or query parameter: parsed, range-checked, in UTC.
UtcTimestamp = Annotated[datetime, AfterValidator(checked_utc)]


def format_ts(ts: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the way every output of the bot writes time."""
    return to_utc(ts).isoformat().replace("+00:00", "Z")


def _valid_unicode(slice_: dict[str, str]) -> dict[str, str]:
    """Slice names and values become labels, keys and JSON: a lone surrogate (which
    JSON's ``\\ud800`` escape can carry) would fail there, so it is refused here."""
    for text in itertools.chain.from_iterable(slice_.items()):
        if not text.isascii() and not _encodable(text):
            raise ValueError(f"slice text {text!r} is not valid Unicode (a lone surrogate)")
    return slice_


def _unicode_throughout(value: Any) -> bool:
    """Unknown fields are kept and written back out as JSON: their text must encode.

    A loop over a stack, not recursion: JSON nests as deep as the decoder allows.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True


Slice = Annotated[dict[str, str], AfterValidator(_valid_unicode)]


class _Record(BaseModel):
    # Unknown fields are kept (extra="allow") but nothing reads them. The validators
    # are built on first use (defer_build), not at import: ``resilio classify`` on a
    # file of plain signals never needs them (see SignalFastPath).
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    ts: UtcTimestamp
    service: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _storable(self) -> _Record:
        # What the database would refuse is refused here, per record, not as a failed
        # batch: NUL in text (PostgreSQL), a slice wider than its key column, text that
        # is not valid Unicode in the unknown fields kept and written back out.
        for name, value in self:
            texts = value.items() if isinstance(value, dict) else [(None, value)]
            for key, text in texts:
                if any(isinstance(t, str) and "\x00" in t for t in (key, text)):
                    raise ValueError(f"{name} contains a NUL character")
        # a declared slice only: an unknown field named "slice" is an extra, kept as given
        slice_ = (getattr(self, "slice", None) or {}) if "slice" in type(self).model_fields \
            else {}
        width = sum(len(k) + len(v) + 2 for k, v in slice_.items()) - 1
        if width > SLICE_KEY_WIDTH:
            raise ValueError(f"slice is {width} characters as 'dim=value,...' "
                             f"(the limit is {SLICE_KEY_WIDTH})")
        for key, value in (self.__pydantic_extra__ or {}).items():
            if not _unicode_throughout(key) or not _unicode_throughout(value):
                raise ValueError(f"{key}: not valid Unicode (a lone surrogate)")
        return self


class SignalRecord(_Record):
    type: Literal["signal"]
    layer: Layer
    name: str = Field(min_length=1, max_length=200)
    value: FiniteFloat
    count: FiniteFloat | None = Field(default=None, ge=0)
    kind: SignalKind | None = None
    bad: Direction | None = None
    slice: Slice = Field(default_factory=dict)

    @model_validator(mode="after")
    def _defaults(self) -> SignalRecord:
        kind = self.kind
        if kind is None:
            ratio_name = self.name.endswith(("_rate", "_share", "_ratio"))
            kind = "ratio" if ratio_name and self.count is not None else "gauge"
            object.__setattr__(self, "kind", kind)
        if kind == "ratio" and not 0.0 <= self.value <= 1.0:
            raise ValueError(f"a ratio must lie in 0..1, got {self.value}")
        if self.bad is None:
            object.__setattr__(self, "bad", default_direction(self.name))
        return self


class DistributionRecord(_Record):
    type: Literal["distribution"]
    layer: Layer
    name: str = Field(min_length=1, max_length=200)
    values: list[FiniteFloat] | None = None
    counts: dict[str, FiniteFloat] | None = None
    slice: Slice = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> DistributionRecord:
        if (self.values is None) == (self.counts is None):
            raise ValueError("a distribution has exactly one of 'values' or 'counts'")
        if self.counts is not None and any(c < 0 for c in self.counts.values()):
            raise ValueError("category counts must not be negative")
        return self


class StateRecord(_Record):
    type: Literal["state"]
    layer: Layer = "control"
    name: str = Field(min_length=1, max_length=200)
    value: str = Field(max_length=500)
    expected: str | None = Field(default=None, max_length=500)
    slice: Slice = Field(default_factory=dict)


class ChangeRecord(_Record):
    type: Literal["change"]
    kind: ChangeKind
    ref: str = Field(min_length=1, max_length=200)
    previous: str | None = Field(default=None, max_length=200)
    author: str | None = Field(default=None, max_length=200)
    description: str | None = None
    slice: Slice = Field(default_factory=dict)
    # Expected impact: for this long after ``ts`` the change may move what ``affects``
    # names (layers or signal names; empty: anything of the service) without paging.
    maintenance_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    affects: list[str] = Field(default_factory=list, max_length=50)


class AlertRecord(_Record):
    type: Literal["alert"]
    name: str = Field(min_length=1, max_length=200)
    severity: str = Field(default="warning", max_length=50)
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    fingerprint: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _source_fits(self) -> AlertRecord:
        # A ``source`` label names the alert's source, a 30-character column.
        if len(self.labels.get("source", "")) > 30:
            raise ValueError("labels.source is longer than 30 characters")
        return self


Record = Annotated[
    SignalRecord | DistributionRecord | StateRecord | ChangeRecord | AlertRecord,
    Field(discriminator="type"),
]


_MODELS: dict[str, type[_Record]] = {
    "signal": SignalRecord, "distribution": DistributionRecord, "state": StateRecord,
    "change": ChangeRecord, "alert": AlertRecord}


@functools.cache
def _record_adapter() -> TypeAdapter[Any]:
    """The validator of any record, built on first use (building it costs ~0.1 s)."""
    return TypeAdapter(Record)


def build_validators() -> None:
    """Build every record validator now: a server does it at start-up (``bot.core.warmup``)
    so that its first request does not; a one-shot command leaves it to first use."""
    for model in _MODELS.values():
        model.model_rebuild(force=True)
    _record_adapter()


@dataclass(frozen=True)
class RecordError:
    """Why one line (1-based) of a batch was refused."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedBatch:
    """The records taken (with their line numbers) and the lines refused."""

    records: list[Any]
    lines: list[int]
    errors: list[RecordError]


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(text: str) -> Any:
    """``json.loads`` that refuses with a ``ValueError`` what it would crash on or store.

    Nesting deeper than the interpreter's recursion limit (a ``RecursionError``
    otherwise) and escaped lone surrogates such as ``"\\ud800"`` (text no database
    can store as UTF-8) are refused; so are integers too long to convert. Looking
    for surrogates costs one regex scan; the exact check runs only on a match.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone UTF-16 surrogate (not valid Unicode)") \
                from None
    return value


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if p not in ("signal", "distribution",
                                                                  "state", "change", "alert"))
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_object(obj: Any) -> Any:
    """One record from one decoded JSON value; raises ``ValueError`` with the reason."""
    if not isinstance(obj, dict):
        raise ValueError(f"a record is a JSON object, got {type(obj).__name__}")
    if "type" not in obj:
        raise ValueError("missing field 'type' (signal, distribution, state, change or alert)")
    tag = obj["type"]
    model = _MODELS.get(tag) if isinstance(tag, str) else None
    try:
        # One model when the tag names it (only its validator gets built); the union
        # for any other tag, so that its message lists the tags there are.
        if model is not None:
            return model.model_validate(obj)
        return _record_adapter().validate_python(obj)
    except ValidationError as error:
        raise ValueError(_describe(error)) from None


def parse_objects(objects: Iterable[Any], first_line: int = 1, *,
                  fast: bool = True) -> ParsedBatch:
    """Parse decoded JSON values, numbering them from ``first_line``.

    ``fast=False`` validates every record with the pydantic models alone (the same
    result, slower: for comparisons)."""
    return _collect(((number, obj, None) for number, obj in enumerate(objects, first_line)),
                    fast=fast)


def parse_lines(text: str) -> ParsedBatch:
    """Parse JSON Lines text; blank lines are skipped but still counted."""

    # One scan of the whole text for escaped surrogates, not one per line: without
    # any, each line needs only ``json.loads`` (what :func:`loads` adds is that check).
    decode = loads if _SURROGATE_ESCAPE.search(text) else json.loads

    def decoded() -> Iterable[tuple[int, Any, str | None]]:
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                yield number, decode(raw), None
            except RecursionError:
                yield number, None, "invalid JSON: JSON nested too deep"
            except json.JSONDecodeError as error:
                yield number, None, f"invalid JSON: {error.msg} at column {error.colno}"
            except ValueError as error:  # too deep, or a lone surrogate (see loads)
                yield number, None, f"invalid JSON: {error}"

    return _collect(decoded())


def _collect(items: Iterable[tuple[int, Any, str | None]], *,
             fast: bool = True) -> ParsedBatch:
    """Keep each valid record with its line number; refuse the others with the reason.

    Signal records, the bulk of every batch, go through :class:`SignalFastPath`
    first; whatever it is not sure of (and every other type) is validated by the
    pydantic models, which accept it or say why not. ``fast=False`` validates
    everything with the models (the tests compare the two).
    """
    records: list[Any] = []
    lines: list[int] = []
    errors: list[RecordError] = []
    signals = SignalFastPath() if fast else None
    for number, obj, decode_error in items:
        if decode_error is not None:
            errors.append(RecordError(number, decode_error))
            continue
        record = signals.read(obj) if signals is not None else None
        if record is not None:
            records.append(record)
            lines.append(number)
            continue
        try:
            records.append(parse_object(obj))
            lines.append(number)
        except ValueError as error:
            errors.append(RecordError(number, str(error)))
    return ParsedBatch(records, lines, errors)


_RFC3339 = re.compile(  # ASCII digits only: ``\d`` would take any script's digits
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")  # offsets as pydantic reads them
_SIGNAL_FIELDS = frozenset(SignalRecord.model_fields)
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
        self._times: dict[str, datetime | None] = {}
        self._strings: dict[str, bool] = {}
        self._slices: dict[tuple[tuple[Any, Any], ...], bool] = {}
        self._directions: dict[str, Direction] = {}

    def read(self, obj: Any) -> SignalRecord | None:
        if type(obj) is not dict or obj.get("type") != "signal":
            return None
        if not _SIGNAL_FIELDS.issuperset(obj):
            return None  # unknown fields: kept as extras by the model
        ts = self._time(obj.get("ts"))
        service, layer, name = obj.get("service"), obj.get("layer"), obj.get("name")
        if ts is None or not self._text(service) or not self._text(name) \
                or type(layer) is not str or layer not in _LAYER_SET:
            return None
        value = _number(obj.get("value"))
        if value is None or value - value != 0.0:  # NaN and +-inf leave no 0.0 here
            return None
        count = obj.get("count")
        if count is not None:
            count = _number(count)
            if count is None or not count >= 0 or count - count != 0.0:  # inf: no 0.0
                return None
        kind, bad = obj.get("kind"), obj.get("bad")
        if not (kind is None or type(kind) is str and kind in _KINDS) \
                or not (bad is None or type(bad) is str and bad in _DIRECTIONS):
            return None
        raw_slice = obj.get("slice", _ABSENT)
        if raw_slice is _ABSENT:
            slice_: dict[str, str] = {}
        elif type(raw_slice) is dict and self._slice(raw_slice):
            slice_ = dict(raw_slice)
        else:
            return None
        if kind is None:
            ratio_name = name.endswith(("_rate", "_share", "_ratio"))
            kind = "ratio" if ratio_name and count is not None else "gauge"
        if kind == "ratio" and not 0.0 <= value <= 1.0:
            return None
        if bad is None:
            bad = self._directions.get(name)
            if bad is None:
                bad = self._directions[name] = default_direction(name)
        record = _new_object(SignalRecord)
        _set(record, "__dict__", {"ts": ts, "service": service, "type": "signal",
                                  "layer": layer, "name": name, "value": value,
                                  "count": count, "kind": kind, "bad": bad, "slice": slice_})
        _set(record, "__pydantic_fields_set__", set(obj))
        _set(record, "__pydantic_extra__", {})
        _set(record, "__pydantic_private__", None)
        return record

    def _time(self, text: Any) -> datetime | None:
        if type(text) is not str:
            return None
        try:
            return self._times[text]
        except KeyError:
            pass
        parsed = None
        if _RFC3339.fullmatch(text):
            try:
                parsed = datetime.fromisoformat(text).astimezone(UTC)
            except (ValueError, OverflowError):
                parsed = None
            if parsed is not None and not FIRST_YEAR <= parsed.year <= LAST_YEAR:
                parsed = None  # the model refuses it, with its reason
        self._times[text] = parsed
        return parsed

    def _text(self, text: Any) -> bool:
        """A string the model's ``str`` field of 1..200 characters takes as it is."""
        if type(text) is not str:
            return False
        known = self._strings.get(text)
        if known is None:
            known = self._strings[text] = 0 < len(text) <= 200 and _plain(text)
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
                type(k) is str and type(v) is str and _plain(k) and _plain(v)
                for k, v in items) and \
                sum(len(k) + len(v) + 2 for k, v in items) - 1 <= SLICE_KEY_WIDTH
        return known


def _plain(text: str) -> bool:
    """Text the model keeps as it is: no NUL, valid Unicode."""
    return "\x00" not in text and (text.isascii() or _encodable(text))


_ABSENT = object()


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


def _encodable(text: str) -> bool:
    """False for strings with lone surrogates (the model refuses some of them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_body(body: bytes) -> ParsedBatch:
    """A request body: a JSON array of records, one JSON object, or JSON Lines.

    Raises ``UnicodeDecodeError`` when the body is not UTF-8.
    """
    text = body.decode("utf-8", errors="strict")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            decoded = loads(text)
        except json.JSONDecodeError as error:
            return ParsedBatch([], [], [RecordError(error.lineno, f"invalid JSON: {error.msg}")])
        except ValueError as error:
            return ParsedBatch([], [], [RecordError(1, f"invalid JSON: {error}")])
        return parse_objects(decoded)
    return parse_lines(text)


def record_to_json(record: Any) -> str:
    """One exchange-format line; timestamps as RFC 3339 UTC."""
    data = record.model_dump(mode="json", exclude_none=True)
    data["ts"] = format_ts(record.ts)
    return json.dumps(data, separators=(",", ":"))


def utcnow() -> datetime:
    return datetime.now(UTC)
