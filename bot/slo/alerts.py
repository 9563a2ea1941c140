"""Burn-rate alerts: a budget burning too fast opens or joins an incident like any alert.

``evaluate_burn_alerts`` runs on a schedule (every minute is right: the fastest
pair's short window is 5 minutes). Each SLO and severity has one stable
fingerprint, so the alert goes through the normal intake (dedup, grouping,
timeline, classification) and a second evaluation joins the incident the first
one opened instead of opening another.

Alerts are sent on change (fires, resets) and re-sent every ``REPEAT`` while
firing, as Alertmanager's repeat interval does, so a still-burning budget opens a
new incident after someone resolved the old one, without touching the incident
every minute.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.config.slo_spec import SLO
from bot.core.clock import to_utc
from bot.core.exchange_records import AlertRecord
from bot.intake import ingest_alert_records
from bot.slo.compute import RecordLoader, evaluate, lookback, store_loader
from bot.slo.series import RecordsByName
from classifiers.burn import BurnEvaluation
from store import queries
from store.db import session_scope

if TYPE_CHECKING:
    from bot.core.services import Services
    from store.models import Alert

log = logging.getLogger(__name__)

ALERT_NAME = "SLOBurnRate"
SOURCE = "budget"
REPEAT = timedelta(hours=1)
# Severity of the incident an alert opens: a ticket is a "warning" to the intake's ranking.
INCIDENT_SEVERITY = {"page": "page", "ticket": "warning"}


@dataclass(frozen=True)
class BurnAlertState:
    """One SLO and severity at one evaluation."""

    service: str
    slo: str
    severity: str  # page | ticket
    firing: bool
    fingerprint: str
    summary: str
    window: str  # the pair that fired ("1h/5m"), or "" when none


def fingerprint_for(service: str, slo: str, severity: str) -> str:
    """Stable per service, SLO and severity; hashed only when too long for the column."""
    plain = f"{SOURCE}:{service}:{slo}:{severity}"
    if len(plain) <= 200:
        return plain
    return f"{SOURCE}:" + hashlib.sha256(plain.encode()).hexdigest()[:40]


def burn_states(service: str, slo: SLO, evaluation: BurnEvaluation) -> list[BurnAlertState]:
    """The page and ticket state of one SLO at the last bin of an evaluation."""
    states = []
    for severity in ("page", "ticket"):
        pairs = [p for p in evaluation.pairs if p.rule.severity == severity]
        firing_pairs = [p for p in pairs if p.firing_now]
        firing = bool(firing_pairs)
        if firing:
            pair = firing_pairs[0]
            long_burn = float(pair.long_burn[-1])
            window = f"{_short(pair.rule.long_minutes)}/{_short(pair.rule.short_minutes)}"
            summary = (f"{slo.name} ({slo.sli.describe()}) burns its error budget "
                       f"{long_burn:.1f}x over {_short(pair.rule.long_minutes)}, above "
                       f"{pair.rule.factor:.3g}x in both the {window} windows")
        else:
            window, summary = "", f"{slo.name} burn rate back under its {severity} thresholds"
        states.append(BurnAlertState(service, slo.name, severity, firing,
                                     fingerprint_for(service, slo.name, severity), summary,
                                     window))
    return states


def _short(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def to_record(state: BurnAlertState, slo: SLO, now: datetime) -> AlertRecord:
    return AlertRecord(
        type="alert", ts=now, service=state.service, name=ALERT_NAME,
        severity=INCIDENT_SEVERITY[state.severity],
        status="firing" if state.firing else "resolved",
        labels={"slo": state.slo, "source": SOURCE, "burn_severity": state.severity,
                "sli_kind": slo.sli.kind, **({"burn_window": state.window} if state.window
                                             else {})},
        annotations={"summary": state.summary,
                     "description": slo.description or slo.sli.describe()},
        fingerprint=state.fingerprint)


def _due(state: BurnAlertState, stored: Alert | None, now: datetime) -> bool:
    """Send on a change of state, and while firing every ``REPEAT``."""
    if stored is None:
        return state.firing
    if state.firing != (stored.status == "firing"):
        return True
    return state.firing and now - stored.last_seen >= REPEAT


def evaluate_burn_alerts(services: Services, now: datetime | None = None, *,
                         loader: RecordLoader | None = None) -> list[AlertRecord]:
    """Evaluate every alerting SLO and send what changed through the intake.

    Returns the alert records sent (firing and resolved).
    """
    now = to_utc(now or services.clock())
    load = loader or store_loader(services)
    pending: list[tuple[BurnAlertState, SLO]] = []
    for entry in services.catalog.services:
        slos = [slo for slo in entry.slos if slo.alerting]
        if not slos:
            continue
        start = now - max(lookback(slo, now) for slo in slos)
        records = RecordsByName(load(entry.name, start, now))
        for slo in slos:
            evaluation, _ = evaluate(slo, records, now=now)
            pending.extend((state, slo) for state in burn_states(entry.name, slo, evaluation))
    if not pending:
        return []
    stored = _stored_alerts(services, [state.fingerprint for state, _ in pending])
    records_out = [to_record(state, slo, now) for state, slo in pending
                   if _due(state, stored.get(state.fingerprint), now)]
    if records_out:
        _send(services, records_out)
    return records_out


def _stored_alerts(services: Services, fingerprints: list[str]) -> dict[str, Alert]:

    with session_scope(services.engine) as session:
        return dict(queries.alerts_by_fingerprint(session=session, fingerprints=fingerprints,
                                                  source=SOURCE))


def _send(services: Services, records: list[AlertRecord]) -> None:
    # The intake opens incidents of source "budget" for alerts of source "budget".
    ingest_alert_records(services, records, source=SOURCE)
