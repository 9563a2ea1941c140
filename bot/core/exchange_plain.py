"""Change and alert records read by explicit checks into plain frozen objects.

``resilio classify FILE`` reads a file's signals into columns without pydantic; the
one change record of a typical file cost it more than all the signals (pydantic's
import ~0.1 s, and building the change validator ~0.07 s). :func:`read_plain` checks
the common shape of a ``change`` or ``alert`` record itself, with the rules of
``ChangeRecord`` and ``AlertRecord`` in :mod:`bot.core.exchange_records`, and answers
only when it is sure: the same field values the model would give, in a
:class:`PlainChange` or :class:`PlainAlert` (the diagnosis reads both kinds alike),
or ``None`` for anything else (an unknown field, a number given as a string, an odd
time, a rule broken), which the models then accept or refuse with their reason.
So what is taken and why a line is refused never depend on this reader
(``tests/core/test_exchange_plain.py`` holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TypeGuard, cast

from bot.core.exchange_rules import plain_slice, plain_text, plain_time
from classifiers.vocabulary import CHANGE_KINDS, ChangeKind

_CHANGE_KIND_SET = frozenset(CHANGE_KINDS)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlainChange:
    """A ``change`` record as ``ChangeRecord`` holds it, without the model."""

    ts: datetime
    service: str
    type: Literal["change"] = "change"
    kind: ChangeKind
    ref: str
    previous: str | None = None
    author: str | None = None
    description: str | None = None
    slice: dict[str, str] = field(default_factory=dict)
    maintenance_minutes: float | None = None
    affects: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlainAlert:
    """An ``alert`` record as ``AlertRecord`` holds it, without the model."""

    ts: datetime
    service: str
    type: Literal["alert"] = "alert"
    name: str
    severity: str = "warning"
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    fingerprint: str | None = None


# The models' fields, named once by the dataclasses above (the tests compare them with
# the models); a record with any other field is an extra the models keep, so they read it.
CHANGE_FIELDS = frozenset(f.name for f in fields(PlainChange))
ALERT_FIELDS = frozenset(f.name for f in fields(PlainAlert))


def read_plain(obj: Any) -> PlainChange | PlainAlert | None:
    """A decoded change or alert the models would take as it is, or ``None``."""
    if type(obj) is not dict:
        return None
    tag = obj.get("type")
    if tag == "change" and type(tag) is str:
        return _change(obj)
    if tag == "alert" and type(tag) is str:
        return _alert(obj)
    return None


def _text(value: Any, least: int = 0, most: int | None = None) -> TypeGuard[str]:
    """A string of ``least``..``most`` characters the models keep as it is."""
    return type(value) is str and least <= len(value) \
        and (most is None or len(value) <= most) and plain_text(value)


def _optional(value: Any, most: int | None = None) -> bool:
    """An optional string field: absent or null, or a string of up to ``most``."""
    return value is None or _text(value, 0, most)


def _time(obj: dict[str, Any]) -> datetime | None:
    text = obj.get("ts")
    return plain_time(text) if type(text) is str else None


def _change(obj: dict[str, Any]) -> PlainChange | None:
    if not CHANGE_FIELDS.issuperset(obj):
        return None
    get = obj.get
    ts, kind = _time(obj), get("kind")
    if ts is None or type(kind) is not str or kind not in _CHANGE_KIND_SET:
        return None
    service, ref = get("service"), get("ref")
    previous, author, description = get("previous"), get("author"), get("description")
    if not (_text(service, 1, 200) and _text(ref, 1, 200) and _optional(previous, 200)
            and _optional(author, 200) and _optional(description)):
        return None
    slice_ = get("slice", {})
    affects = get("affects", [])
    if not plain_slice(slice_) or type(affects) is not list or len(affects) > 50 \
            or not all(_text(a) for a in affects):
        return None
    minutes = get("maintenance_minutes")
    if minutes is not None:
        if type(minutes) not in (int, float) or not 0 < minutes <= 24 * 60:
            return None  # bool, a string, NaN, out of range: the models decide
        minutes = float(minutes)
    return PlainChange(ts=ts, service=service, kind=kind, ref=ref, previous=previous,
                       author=author, description=description, slice=dict(slice_),
                       maintenance_minutes=minutes, affects=list(affects))


def _string_map(value: Any) -> bool:
    """A map of plain strings to plain strings (labels, annotations)."""
    return type(value) is dict and all(
        type(k) is str and type(v) is str and plain_text(k) and plain_text(v)
        for k, v in value.items())


def _alert(obj: dict[str, Any]) -> PlainAlert | None:
    if not ALERT_FIELDS.issuperset(obj):
        return None
    get = obj.get
    ts = _time(obj)
    service, name = get("service"), get("name")
    severity, status = get("severity", "warning"), get("status", "firing")
    labels, annotations = get("labels", {}), get("annotations", {})
    fingerprint = get("fingerprint")
    if ts is None or not (_text(service, 1, 200) and _text(name, 1, 200)
                          and _text(severity, 0, 50) and _optional(fingerprint, 200)):
        return None
    if type(status) is not str or status not in ("firing", "resolved") \
            or not _string_map(labels) or not _string_map(annotations) \
            or len(labels.get("source", "")) > 30:
        return None
    return PlainAlert(ts=ts, service=service, name=name, severity=severity,
                      status=cast(Literal["firing", "resolved"], status),
                      labels=dict(labels), annotations=dict(annotations),
                      fingerprint=fingerprint)
