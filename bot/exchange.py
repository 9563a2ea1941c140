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
    TypeAdapter,
    ValidationError,
    model_validator,
)

LAYERS = ("infra", "runtime", "data", "freshness", "model", "quality", "eval", "cost", "control")
Layer = Literal[
    "infra", "runtime", "data", "freshness", "model", "quality", "eval", "cost", "control"
]
CHANGE_KINDS = ("model", "prompt", "retrieval", "threshold", "features", "config", "code", "infra")
ChangeKind = Literal[
    "model", "prompt", "retrieval", "threshold", "features", "config", "code", "infra"
]
Direction = Literal["up", "down", "both"]
SignalKind = Literal["ratio", "gauge", "count"]

# Built-in directions for well-known names: a rise (or a fall) is what hurts.
_BAD_UP_HINTS = (
    "error", "latency", "lag", "age", "null", "invalid", "refusal", "block", "thumbs_down",
    "cost", "tokens", "timeout", "oom", "queue", "fallback", "drop", "staleness", "p99", "p95",
    "retries", "5xx", "mismatch", "utilization_gap", "complaint", "escalation",
)
_BAD_DOWN_HINTS = (
    "groundedness", "relevance", "accuracy", "pass_rate", "thumbs_up", "ndcg", "precision",
    "recall", "success", "hit_rate", "throughput", "faithfulness", "judge_score", "availability",
    "good", "ctr", "conversion", "mrr", "f1", "score",
)


def default_direction(name: str) -> Direction:
    """The side on which a well-known signal name is bad; ``both`` when unknown."""
    lowered = name.lower()
    if any(hint in lowered for hint in _BAD_UP_HINTS):
        return "up"
    if any(hint in lowered for hint in _BAD_DOWN_HINTS):
        return "down"
    return "both"


def to_utc(ts: datetime) -> datetime:
    """Naive timestamps are taken as UTC; aware ones are converted to it."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


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

    ts: datetime
    service: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _utc(self) -> _Record:
        try:
            object.__setattr__(self, "ts", to_utc(self.ts))
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC instant
            raise ValueError("ts: out of range once converted to UTC") from None
        for key, value in (self.__pydantic_extra__ or {}).items():
            if not _unicode_throughout(key) or not _unicode_throughout(value):
                raise ValueError(f"{key}: not valid Unicode (a lone surrogate)")
        return self


class SignalRecord(_Record):
    type: Literal["signal"]
    layer: Layer
    name: str = Field(min_length=1, max_length=200)
    value: float
    count: float | None = Field(default=None, ge=0)
    kind: SignalKind | None = None
    bad: Direction | None = None
    slice: Slice = Field(default_factory=dict)

    @model_validator(mode="after")
    def _defaults(self) -> SignalRecord:
        if self.value != self.value or self.value in (float("inf"), float("-inf")):
            raise ValueError("value must be a finite number")
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
    values: list[float] | None = None
    counts: dict[str, float] | None = None
    slice: Slice = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> DistributionRecord:
        if (self.values is None) == (self.counts is None):
            raise ValueError("a distribution has exactly one of 'values' or 'counts'")
        if self.values is not None and any(v != v for v in self.values):
            raise ValueError("distribution values must not be NaN")
        if self.counts is not None and any(c < 0 for c in self.counts.values()):
            raise ValueError("category counts must not be negative")
        return self


class StateRecord(_Record):
    type: Literal["state"]
    layer: Layer = "control"
    name: str = Field(min_length=1, max_length=200)
    value: str
    expected: str | None = None
    slice: Slice = Field(default_factory=dict)


class ChangeRecord(_Record):
    type: Literal["change"]
    kind: ChangeKind
    ref: str = Field(min_length=1, max_length=200)
    previous: str | None = None
    author: str | None = None
    description: str | None = None
    slice: Slice = Field(default_factory=dict)


class AlertRecord(_Record):
    type: Literal["alert"]
    name: str = Field(min_length=1, max_length=200)
    severity: str = "warning"
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    fingerprint: str | None = None


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
    """Build every record validator now: a server does it at start-up (``bot.warmup``)
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


TOO_DEEP = "invalid JSON: nested too deeply"


def parse_objects(objects: Iterable[Any], first_line: int = 1, *,
                  fast: bool = True) -> ParsedBatch:
    """Parse decoded JSON values, numbering them from ``first_line``.

    ``fast=False`` validates every record with the pydantic models alone (the same
    result, slower: for comparisons)."""
    return _collect(((number, obj, None) for number, obj in enumerate(objects, first_line)),
                    fast=fast)


def parse_lines(text: str) -> ParsedBatch:
    """Parse JSON Lines text; blank lines are skipped but still counted."""

    def decoded() -> Iterable[tuple[int, Any, str | None]]:
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw), None
            except json.JSONDecodeError as error:
                yield number, None, f"invalid JSON: {error.msg} at column {error.colno}"
            except RecursionError:
                yield number, None, TOO_DEEP

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
            if count is None or not count >= 0:
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
                for k, v in items)
        return known


def _plain(text: str) -> bool:
    return text.isascii() or _encodable(text)


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
    """A request body: a JSON array of records, one JSON object, or JSON Lines."""
    text = body.decode("utf-8", errors="strict")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError as error:
            return ParsedBatch([], [], [RecordError(error.lineno, f"invalid JSON: {error.msg}")])
        except RecursionError:
            return ParsedBatch([], [], [RecordError(1, TOO_DEEP)])
        return parse_objects(decoded)
    return parse_lines(text)


def record_to_json(record: Any) -> str:
    """One exchange-format line; timestamps as RFC 3339 UTC."""
    data = record.model_dump(mode="json", exclude_none=True)
    data["ts"] = format_ts(record.ts)
    return json.dumps(data, separators=(",", ":"))


def utcnow() -> datetime:
    return datetime.now(UTC)
