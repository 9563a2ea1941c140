"""Store alerts, deduplicated by fingerprint, and group them into incidents.

One batch is one transaction: repeats update the stored alert, new alerts join the
open incident of their service and group key (or open one), and each incident the
batch touched gets one timeline event rather than one per alert, so a storm of
10,000 alerts leaves a readable timeline. Two replicas racing on the same alert or
group meet at a unique key; the loser retries and joins what the winner made.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot.config.catalog import Catalog
from bot.core import outbox
from bot.core.exchange_records import AlertRecord
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.intake.model import SEVERITY_RANK, IncomingAlert, column_width, stable_fingerprint
from bot.silences.holds import hold, windows_in_force
from bot.silences.maintenance import Window, holding, what_an_alert_moves
from bot.silences.service import silences_in_force
from bot.silences.silence import silencing
from store import intake_queries, queries
from store.db import session_scope, write_lock
from store.models import Incident, IncidentSource, IncidentStatus

log = logging.getLogger(__name__)

_ATTEMPTS = 4
# An incident a storm changes in every batch gets its summary refreshed once per this.
CHANGES_COALESCE = timedelta(seconds=1)
_RETRY_STATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def _sqlstate(error: OperationalError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


@dataclass
class IngestResult:
    stored: int = 0  # new alerts
    updated: int = 0  # repeats of a known fingerprint
    opened: list[int] = field(default_factory=list)  # incidents this batch opened
    held: list[int] = field(default_factory=list)  # of those, held by a maintenance window
    touched: list[int] = field(default_factory=list)  # incidents this batch changed
    all_resolved: list[int] = field(default_factory=list)  # incidents whose alerts all resolved
    silenced: int = 0  # firing alerts a silence kept from opening or joining an incident
    # Alerts are known by (source, fingerprint): fingerprints are unique per source only.
    new: set[tuple[str, str]] = field(default_factory=set)  # alerts stored for the first time
    incident_of: dict[tuple[str, str], int] = field(default_factory=dict)  # alert -> incident
    silenced_fingerprints: set[tuple[str, str]] = field(default_factory=set)

    def share_of(self, alerts: Iterable[IncomingAlert],
                 claimed: set[tuple[str, str]]) -> IngestResult:
        """The part of a combined batch's result that concerns ``alerts`` (one request).

        ``claimed`` holds the new fingerprints already credited to earlier requests, so
        an alert sent twice in one combined batch is stored once and deduplicated once.
        """
        distinct = {_key(alert) for alert in alerts}
        stored = (distinct & self.new) - claimed
        claimed |= stored
        touched = sorted({self.incident_of[f] for f in distinct if f in self.incident_of})
        return IngestResult(
            stored=len(stored), updated=len(distinct) - len(stored),
            silenced=len(distinct & self.silenced_fingerprints),
            opened=[i for i in self.opened if i in touched], touched=touched,
            all_resolved=[i for i in self.all_resolved if i in touched],
            new=stored, incident_of={f: self.incident_of[f] for f in distinct
                                     if f in self.incident_of})


_GROUP_KEY_WIDTH = column_width(Incident, "group_key")
_TITLE_WIDTH = column_width(Incident, "title")


def _key(alert: IncomingAlert) -> tuple[str, str]:
    return alert.source, alert.fingerprint


def group_key_for(alert: IncomingAlert, catalog: Catalog) -> str:
    """The ``group_by`` labels as ``k=v|k=v``; a key wider than its column is hashed.

    Hashing keeps the grouping (the same labels give the same key) where cutting the
    text could merge two groups that differ only past the cut.
    """
    key = "|".join(f"{name}={alert.labels.get(name, '')}" for name in catalog.grouping.group_by)
    if len(key) > _GROUP_KEY_WIDTH:
        return f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def open_key_for(service: str, group_key: str) -> str:
    return f"{service}\x1f{group_key}"


def ingest_alerts(services: Services, alerts: Iterable[IncomingAlert]) -> IngestResult:
    """Store one batch and emit the incident events once it is committed."""
    batch = sorted(_latest_per_fingerprint(alerts), key=_key)
    if not batch:
        return IngestResult()
    for attempt in range(_ATTEMPTS):
        try:
            with write_lock(services.engine), session_scope(services.engine) as session:
                now = services.clock()
                result = _ingest(session, batch, services.catalog, now)
                # the follow-up work commits with the alerts, so a crash cannot lose it
                work = _record_follow_ups(session, result, now)
            break
        except (IntegrityError, OperationalError) as error:
            # Another replica inserted the same fingerprint or open group first (now it
            # exists), or PostgreSQL broke a lock cycle: the batch is safe to run again.
            retryable = isinstance(error, IntegrityError) or _sqlstate(error) in _RETRY_STATES
            if not retryable or attempt == _ATTEMPTS - 1:
                raise
            log.info("intake race (%s); retrying the batch (attempt %d)",
                     type(error.orig).__name__, attempt + 2)
    metrics = services.metrics
    metrics.alerts_received.labels(batch[0].source, "stored").inc(result.stored)
    metrics.alerts_received.labels(batch[0].source, "deduplicated").inc(result.updated)
    metrics.alerts_received.labels(batch[0].source, "silenced").inc(result.silenced)
    metrics.incidents_opened.labels(batch[0].source).inc(len(result.opened))
    outbox.kick(services, work)
    return result


def _record_follow_ups(session: Session, result: IngestResult, now: datetime) -> list[int]:
    """The opened incidents' work, to start at once; changes wait a moment to coalesce.

    An incident held by a change's maintenance window gets only its diagnosis now.
    An incident whose every alert resolved gets its channel notice after the same
    pause; the notice checks again then, so an alert that fired again posts nothing.
    """
    held = [{"incident_id": i} for i in result.held]
    opened = [{"incident_id": i} for i in result.opened if i not in result.held]
    changed = [{"incident_id": i} for i in result.touched if i not in result.opened]
    outbox.record_each(session, "incident.changed", now=now, payloads=changed,
                       delay=CHANGES_COALESCE)
    outbox.record_each(session, "incident.alerts_resolved", now=now,
                       payloads=[{"incident_id": i} for i in result.all_resolved],
                       delay=CHANGES_COALESCE)
    return (outbox.record_each(session, "incident.opened", now=now, payloads=opened)
            + outbox.record_each(session, "incident.held", now=now, payloads=held))


def ingest_alert_records(services: Services, records: Iterable[AlertRecord],
                         source: str = "generic") -> IngestResult:
    """Exchange-format ``alert`` records (generic webhook, signal batches, budget alerts)."""
    return ingest_alerts(services, [from_record(record, source) for record in records])


def from_record(record: AlertRecord, source: str = "generic") -> IncomingAlert:
    labels = {**record.labels, "alertname": record.name, "service": record.service}
    source = record.labels.get("source", source) if source == "generic" else source
    return IncomingAlert(
        source=source,
        fingerprint=record.fingerprint
        or stable_fingerprint(source, record.service, record.name, record.labels),
        service=record.service, name=record.name, status=record.status,
        severity=record.severity.lower(), labels=labels, annotations=dict(record.annotations),
        starts_at=record.ts, ends_at=record.ts if record.status == "resolved" else None)


def _incident_source(alert: IncomingAlert) -> str:
    """Burn-rate alerts open ``budget`` incidents; every other alert an ``alert`` one."""
    if alert.source == IncidentSource.budget.value:
        return IncidentSource.budget.value
    return IncidentSource.alert.value


def _latest_per_fingerprint(alerts: Iterable[IncomingAlert]) -> list[IncomingAlert]:
    # Within one batch the last word on a fingerprint wins; order is otherwise kept.
    latest: dict[tuple[str, str], IncomingAlert] = {}
    for alert in alerts:
        latest.pop(_key(alert), None)
        latest[_key(alert)] = alert
    return list(latest.values())


class _Groups:
    """Finds or opens the incident an alert joins, caching per batch."""

    def __init__(self, session: Session, catalog: Catalog, now: datetime,
                 result: IngestResult) -> None:
        self.session, self.catalog, self.now, self.result = session, catalog, now, result
        self.window = timedelta(minutes=catalog.grouping.window_minutes)
        self.cache: dict[str, Incident] = {}
        self._maintenance: dict[str, list[Window]] = {}
        self._open: dict[str, Incident | None] = {}

    def prefetch(self, alerts: Iterable[IncomingAlert]) -> None:
        """Read the open incidents of these alerts' groups in one query, not one each.

        A storm's batch touches tens of groups; a query per group was a quarter of
        the intake's time. A group opened by another replica after this read meets
        the unique ``open_key`` at insert, and the batch is retried as before.
        """
        keys = {open_key_for(a.service, group_key_for(a, self.catalog)) for a in alerts}
        keys -= self._open.keys()
        if not keys:
            return
        self._open.update(dict.fromkeys(keys))
        self._open.update(intake_queries.incidents_by_open_key(session=self.session, keys=keys))

    def maintenance(self, service: str) -> list[Window]:
        """The service's maintenance windows in force, read once per batch when needed."""
        if service not in self._maintenance:
            self._maintenance[service] = windows_in_force(self.session, [service], self.now)
        return self._maintenance[service]

    def incident_for(self, alert: IncomingAlert) -> Incident:
        group_key = group_key_for(alert, self.catalog)
        open_key = open_key_for(alert.service, group_key)
        if open_key in self.cache:
            return self.cache[open_key]
        if open_key in self._open:
            incident = self._open[open_key]
        else:
            incident = queries.incident_by_open_key(session=self.session, open_key=open_key)
        if incident is not None:
            last = incident.last_alert_at or incident.created_at
            if self.now - last > self.window:
                incident.open_key = None  # the group window closed: later alerts start afresh
                self.session.add(incident)
                self.session.flush()
                incident = None
        if incident is None:
            incident = lifecycle.new_incident(
                session=self.session, service=alert.service,
                title=_clip(alert.title, _TITLE_WIDTH),
                severity=alert.severity, source=_incident_source(alert),
                actor=f"alert:{alert.source}", now=self.now, group_key=group_key,
                open_key=open_key, description=alert.annotations.get("description"))
            self.result.opened.append(_require_id(incident))
            window = holding(self.maintenance(alert.service), alert.service,
                                    what_an_alert_moves(alert.name, alert.labels), self.now)
            if window is not None:
                hold(self.session, incident, window, self.now)
                self.result.held.append(_require_id(incident))
        self.cache[open_key] = incident
        return incident


@dataclass
class _Known:
    """What the store holds already about one batch: its alerts (by source and
    fingerprint), the incidents they belong to, and which firing alerts a silence
    covers."""

    session: Session
    alerts: dict[tuple[str, str], Row[Any]]
    incidents: dict[int, Incident]
    silenced_by: dict[tuple[str, str], int]

    def incident_of(self, alert: IncomingAlert) -> Incident | None:
        stored = self.alerts.get(_key(alert))
        if not stored or not stored.incident_id:
            return None
        found = self.incidents.get(stored.incident_id)
        return found if found is not None else self.session.get(Incident, stored.incident_id)

    def needs_group(self, alert: IncomingAlert, current: Incident | None) -> bool:
        """A firing alert, not silenced, with no incident or a resolved one."""
        return alert.status == "firing" and _key(alert) not in self.silenced_by and (
            current is None or current.status == IncidentStatus.resolved.value)


def _read_known(session: Session, batch: list[IncomingAlert], now: datetime) -> _Known:
    """The batch's stored alerts, their incidents (one query, not one SELECT each) and
    the silences in force over its firing alerts."""
    known = intake_queries.known_alerts(session=session,
                                        fingerprints=[a.fingerprint for a in batch])
    # A firing alert under a silence is stored and counted but opens and joins nothing.
    in_force = silences_in_force(session, now)
    silenced_by: dict[tuple[str, str], int] = {}
    for alert in batch if in_force else ():
        labels = {**alert.labels, "service": alert.service, "alertname": alert.name}
        silence = silencing(in_force, labels, now) if alert.status == "firing" else None
        if silence is not None:
            silenced_by[_key(alert)] = silence.id
    ids = {row.incident_id for row in known.values() if row.incident_id}
    linked = intake_queries.incidents_by_id(session=session, ids=ids)
    return _Known(session, known, linked, silenced_by)


@dataclass
class _Tally:
    """What one batch did to each incident it touched, for the timeline and summary."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    joined: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    resolved_in: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    worst: dict[int, str] = field(default_factory=dict)

    def count(self, incident_id: int, alert: IncomingAlert) -> None:
        if alert.status == "firing":
            self.joined[incident_id][alert.name] += 1
            if SEVERITY_RANK.get(alert.severity, 0) > SEVERITY_RANK.get(
                    self.worst.get(incident_id, ""), -1):
                self.worst[incident_id] = alert.severity
        else:
            self.resolved_in[incident_id][alert.name] += 1


@dataclass
class _Rows:
    """The alert rows one batch writes: new ones and repeats of stored ones."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)


def _place(batch: list[IncomingAlert], known: _Known, groups: _Groups, now: datetime,
           result: IngestResult) -> tuple[_Rows, _Tally]:
    """Each alert's row and incident (the group it joins, or the one it had)."""
    rows, tally = _Rows(), _Tally()
    for alert in batch:
        stored = known.alerts.get(_key(alert))
        incident_id = stored.incident_id if stored else None
        current = known.incident_of(alert)
        refiring = known.needs_group(alert, current)
        if refiring:
            current = groups.incident_for(alert)
        if current is not None:
            tally.incidents[_require_id(current)] = current
            result.incident_of[_key(alert)] = _require_id(current)
        elif incident_id is not None:
            result.incident_of[_key(alert)] = incident_id
        values = {"status": alert.status, "severity": alert.severity, "labels": alert.labels,
                  "annotations": alert.annotations, "ends_at": alert.ends_at, "last_seen": now,
                  "incident_id": current.id if current is not None else incident_id,
                  "silenced_by": known.silenced_by.get(_key(alert))}
        if stored is None:
            rows.inserts.append({**values, "fingerprint": alert.fingerprint,
                                 "source": alert.source, "service": alert.service,
                                 "name": alert.name, "starts_at": alert.starts_at,
                                 "first_seen": now, "receive_count": 1})
            result.stored += 1
        else:
            rows.updates.append({**values, "_id": stored.id,
                                 "starts_at": alert.starts_at or stored.starts_at,
                                 "receive_count": stored.receive_count + 1})
            result.updated += 1
        changed = stored is None or refiring or stored.status != alert.status
        if current is not None and changed:
            tally.count(_require_id(current), alert)
    return rows, tally


def _insert_new(session: Session, inserts: list[dict[str, Any]], result: IngestResult) -> None:
    """Insert the new alerts; one a replica stored a moment ago becomes an update.

    That replica's row wins, and this batch's copy updates it instead of failing
    the batch.
    """
    taken = intake_queries.insert_alerts(session=session, rows=inserts)
    result.new = taken
    lost = [row for row in inserts if (row["source"], row["fingerprint"]) not in taken]
    if not lost:
        return
    result.stored -= len(lost)
    result.updated += len(lost)
    intake_queries.update_alerts_by_identity(session=session, rows=lost)


def _ingest(session: Session, batch: list[IncomingAlert], catalog: Catalog,
            now: datetime) -> IngestResult:
    # The alert rows are written in two executemany statements (store.intake_queries).
    result = IngestResult()
    groups = _Groups(session, catalog, now, result)
    known = _read_known(session, batch, now)
    result.silenced_fingerprints = set(known.silenced_by)
    result.silenced = len(known.silenced_by)
    # Open or find the groups first, in open-key order, then write alerts in fingerprint
    # order and incidents in id order: concurrent batches (several replicas) then take
    # their row locks in one global order and cannot deadlock.
    grouped = sorted((a for a in batch if known.needs_group(a, known.incident_of(a))),
                     key=lambda a: open_key_for(a.service, group_key_for(a, catalog)))
    groups.prefetch(grouped)
    for alert in grouped:
        groups.incident_for(alert)
    rows, tally = _place(batch, known, groups, now, result)
    if rows.inserts:
        _insert_new(session, rows.inserts, result)
    if rows.updates:
        intake_queries.update_alerts_by_id(session=session, rows=rows.updates)
    firing = intake_queries.firing_counts(session=session, incident_ids=list(tally.incidents))
    for incident_id, incident in sorted(tally.incidents.items()):
        _refresh_incident(session, incident, firing.get(incident_id, 0),
                          tally.worst.get(incident_id), tally.joined.get(incident_id),
                          tally.resolved_in.get(incident_id), now, result)
    result.touched = sorted(tally.incidents)
    return result


def _refresh_incident(session: Session, incident: Incident, firing: int, worst: str | None,
                      joined: Counter[str] | None, resolved: Counter[str] | None,
                      now: datetime, result: IngestResult) -> None:
    incident_id = _require_id(incident)
    was_firing = incident.alerts_firing
    incident.alerts_firing = firing
    incident.updated_at = now
    if joined:
        incident.last_alert_at = now
        if worst and SEVERITY_RANK.get(worst, 0) > SEVERITY_RANK.get(incident.severity, 0):
            lifecycle.record(session=session, incident_id=incident_id, actor="alert",
                             kind="severity", message=f"severity {incident.severity} -> {worst}",
                             now=now, details={"from": incident.severity, "to": worst})
            incident.severity = worst
        lifecycle.record(session=session, incident_id=incident_id, actor="alert", kind="alerts",
                         message=_summary("firing", joined), now=now,
                         details={"firing": dict(joined), "alerts_firing": incident.alerts_firing})
    if resolved:
        lifecycle.record(session=session, incident_id=incident_id, actor="alert",
                         kind="alerts_resolved_some", message=_summary("resolved", resolved),
                         now=now, details={"resolved": dict(resolved)})
    if incident.alerts_firing == 0 and (was_firing > 0 or resolved):
        lifecycle.record(session=session, incident_id=incident_id, actor="alert",
                         kind="alerts_resolved", message="all alerts of this incident resolved",
                         now=now)
        result.all_resolved.append(incident_id)
    session.add(incident)


def _summary(verb: str, names: Counter[str]) -> str:
    total = sum(names.values())
    parts = ", ".join(f"{name} x{count}" if count > 1 else name
                      for name, count in names.most_common(10))
    more = f" and {len(names) - 10} more kinds" if len(names) > 10 else ""
    return f"{total} alert{'s' if total != 1 else ''} {verb}: {parts}{more}"


def _require_id(incident: Incident) -> int:
    if incident.id is None:
        raise ValueError("incident not flushed")
    return incident.id


__all__ = ["IngestResult", "from_record", "ingest_alert_records", "ingest_alerts"]
