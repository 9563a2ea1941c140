"""The source-neutral alert every webhook parser produces."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import SQLModel

from store.db import table_of
from store.models import Alert

SEVERITY_RANK = {"critical": 5, "page": 5, "high": 4, "error": 4, "warning": 3, "warn": 3,
                 "low": 2, "info": 1, "none": 0}

# Label names that say which service an alert is about, in order of preference.
SERVICE_LABELS = ("service", "app", "application", "job", "namespace")


@dataclass(frozen=True)
class IncomingAlert:
    source: str
    fingerprint: str
    service: str
    name: str
    status: str  # firing | resolved
    severity: str = "warning"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        """Refuse what the database would refuse, here, for this alert alone.

        A value wider than its column (PostgreSQL: ``StringDataRightTruncation``) or
        text holding NUL would otherwise fail the whole shared transaction. The common
        case costs five comparisons and one join (alerts arrive by the thousand).
        """
        if (len(self.fingerprint) > _FINGERPRINT or len(self.source) > _SOURCE
                or len(self.service) > _SERVICE or len(self.name) > _NAME
                or len(self.severity) > _SEVERITY):
            for name, limit in _WIDTHS.items():
                value = getattr(self, name)
                if len(value) > limit:
                    raise ValueError(f"{name} is {len(value)} characters long (the limit is "
                                     f"{limit}): {value[:40]!r}...")
        texts = "".join((self.fingerprint, self.source, self.service, self.name,
                         *self.labels, *self.labels.values(), *self.annotations,
                         *self.annotations.values()))
        if "\x00" in texts:
            raise ValueError("a label, annotation or name contains a NUL character")

    @property
    def title(self) -> str:
        summary = self.annotations.get("summary") or self.annotations.get("title")
        return f"{self.name}: {summary}" if summary else f"{self.name} on {self.service}"


# The widths of the alerts table's text columns, read from the table so they cannot drift.
def column_width(model: type[SQLModel], name: str) -> int:
    """The length of a text column of a table model: what intake clips or hashes to."""
    # sqlmodel's AutoString is a TypeDecorator that passes ``length`` on from its String
    length = getattr(table_of(model).c[name].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{name} is not a text column of fixed width")
    return length


_WIDTHS = {name: column_width(Alert, name)
           for name in ("fingerprint", "source", "service", "name", "severity")}
_FINGERPRINT, _SOURCE, _SERVICE, _NAME, _SEVERITY = _WIDTHS.values()


def stable_fingerprint(source: str, service: str, name: str, labels: dict[str, str]) -> str:
    """A fingerprint from the identifying labels, for sources that send none."""
    identity = json.dumps([source, service, name, sorted(labels.items())], ensure_ascii=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def service_of(labels: dict[str, str], default: str = "unknown") -> str:
    for key in SERVICE_LABELS:
        value = labels.get(key)
        if value:
            return value
    return default


def severity_of(labels: dict[str, str]) -> str:
    value = (labels.get("severity") or labels.get("priority") or "warning").lower()
    return value if value in SEVERITY_RANK else "warning"
