"""A change event as a source reported it, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from classifiers.vocabulary import ChangeKind


@dataclass(frozen=True)
class Pointer:
    """What the change moved: ``subject`` of ``source`` now points at the change's ref
    (``None`` after a deletion). Its old value becomes the change's ``previous``."""

    source: str
    subject: str
    value: str | None


@dataclass(frozen=True)
class IncomingChange:
    service: str
    ts: datetime
    kind: ChangeKind
    ref: str
    description: str
    author: str | None = None
    previous: str | None = None  # when the source says it; else the pointer's old value
    pointer: Pointer | None = None


@dataclass(frozen=True)
class Ignored:
    """A verified delivery that changes nothing the bot tracks (a ping, a failed deploy)."""

    reason: str
