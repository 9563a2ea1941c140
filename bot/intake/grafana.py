"""Grafana unified alerting webhook: Alertmanager's shape plus Grafana's own fields."""

from __future__ import annotations

from typing import Any

from bot.intake.alertmanager import AlertmanagerWebhook
from bot.intake.alertmanager import parse_alert as _parse_am_alert
from bot.intake.model import IncomingAlert


class GrafanaWebhook(AlertmanagerWebhook):
    """Grafana sends version "1", orgId, title, state and message beside the alerts."""

    version: str = "1"


def parse_alert(raw: Any) -> IncomingAlert:
    alert = _parse_am_alert(raw, source="grafana")
    extra = {}
    if isinstance(raw, dict):
        for key in ("dashboardURL", "panelURL", "silenceURL", "valueString"):
            if raw.get(key):
                extra[key] = str(raw[key])
    if not extra:
        return alert
    return IncomingAlert(**{**alert.__dict__, "annotations": {**alert.annotations, **extra}})
