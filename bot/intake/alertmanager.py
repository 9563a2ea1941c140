"""Prometheus Alertmanager webhook (version 4), as the real Alertmanager sends it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.clock import checked_utc
from bot.intake.model import IncomingAlert, service_of, severity_of, stable_fingerprint

_ZERO_TIME = datetime(1, 1, 1)  # Alertmanager writes endsAt 0001-01-01T00:00:00Z: "not ended"


class _Alert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None


class AlertmanagerWebhook(BaseModel):
    """The envelope; ``alerts`` stays raw so one bad alert does not sink the batch."""

    model_config = ConfigDict(extra="allow")

    version: str = "4"
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    alerts: list[Any]
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""


def _when(value: datetime | None, field: str) -> datetime | None:
    """In UTC and in range (``ValueError`` naming ``field``); None for the zero time.

    Only the zero time itself means "not set": any other time in year 1 is out of
    range like year 9999. A plain function, not a pydantic validator: this runs
    twice per alert, and a validator cost five times as much.
    """
    if value is None or (value.year == 1 and value.replace(tzinfo=None) == _ZERO_TIME
                         and value.utcoffset() in (None, timedelta(0))):
        return None
    try:
        return checked_utc(value)
    except ValueError as error:
        raise ValueError(f"{field}: {error}") from None


def parse_alert(raw: Any, source: str = "alertmanager") -> IncomingAlert:
    alert = _Alert.model_validate(raw)
    labels = alert.labels
    service = service_of(labels)
    name = labels.get("alertname", "unnamed")
    annotations = dict(alert.annotations)
    if alert.generatorURL:
        annotations.setdefault("generator_url", alert.generatorURL)
    return IncomingAlert(
        source=source,
        fingerprint=alert.fingerprint or stable_fingerprint(source, service, name, labels),
        service=service, name=name, status=alert.status, severity=severity_of(labels),
        labels=labels, annotations=annotations,
        starts_at=_when(alert.startsAt, "startsAt"), ends_at=_when(alert.endsAt, "endsAt"),
    )
