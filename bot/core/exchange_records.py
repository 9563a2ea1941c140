"""The records of the signal exchange format: what each type holds and its rules.

One pydantic model per record type (``signal``, ``distribution``, ``state``,
``change``, ``alert``) with the rules of DESIGN.md, including what the database
would refuse (NUL, lone surrogates, a slice wider than its key column), so that a
bad record is refused alone with its reason instead of failing a whole batch.
Parsing text into these records is :mod:`bot.core.exchange`.
"""

from __future__ import annotations

import functools
import itertools
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

from bot.core.exchange_rules import SLICE_KEY_WIDTH, encodable
from bot.core.timestamp_field import UtcTimestamp
from classifiers.vocabulary import ChangeKind, Direction, Layer, SignalKind, default_direction

__all__ = ["SLICE_KEY_WIDTH", "AlertRecord", "ChangeRecord", "DistributionRecord", "Record",
           "SignalRecord", "StateRecord", "build_validators", "encodable", "parse_object"]

def _valid_unicode(slice_: dict[str, str]) -> dict[str, str]:
    """Slice names and values become labels, keys and JSON: a lone surrogate (which
    JSON's ``\\ud800`` escape can carry) would fail there, so it is refused here."""
    for text in itertools.chain.from_iterable(slice_.items()):
        if not text.isascii() and not encodable(text):
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
            if not item.isascii() and not encodable(item):
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
