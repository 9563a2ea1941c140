"""Grouping under a storm, the state machine, and the group window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.errors import Conflict, NotFound
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.intake import IncomingAlert, ingest_alerts
from store import queries
from store.db import session_scope
from store.models import Alert, Incident


def alert(service: str, index: int, status: str = "firing", name: str = "Storm") -> IncomingAlert:
    return IncomingAlert(source="alertmanager", fingerprint=f"{service}-{index}",
                         service=service, name=name, status=status, severity="warning",
                         labels={"alertname": name, "service": service, "pod": str(index)})


def test_a_storm_of_10000_alerts_makes_a_handful_of_incidents(services: Services) -> None:
    names = ["rag-assistant", "fraud-scorer", "checkout", "search", "ranker"]
    storm = [alert(names[i % 5], i) for i in range(10_000)]
    opened: list[int] = []
    for start in range(0, len(storm), 1000):
        opened += ingest_alerts(services, storm[start:start + 1000]).opened
    # Every alert again, as Alertmanager repeats them: nothing new is made.
    repeat = ingest_alerts(services, storm[:2000])
    assert repeat.stored == 0 and repeat.updated == 2000 and repeat.opened == []
    with session_scope(services.engine) as session:
        assert queries.count_rows(session=session, table=Alert) == 10_000
        assert queries.count_rows(session=session, table=Incident) == 5
        incidents = queries.list_incidents(session=session)
        assert sorted(i.alerts_firing for i in incidents) == [2000] * 5
        # one timeline event per batch that changed the incident, not one per alert
        assert len(queries.timeline(session=session, incident_id=opened[0])) <= 12
    assert len(opened) == 5


def test_group_window_closes_and_the_next_alert_opens_a_new_incident(services: Services) -> None:
    clock = [datetime(2026, 11, 26, 10, 0, tzinfo=UTC)]
    services.clock = lambda: clock[0]
    first = ingest_alerts(services, [alert("rag-assistant", 1)]).opened
    clock[0] += timedelta(minutes=30)
    joined = ingest_alerts(services, [alert("rag-assistant", 2)])
    assert joined.opened == [] and joined.touched == first
    clock[0] += timedelta(minutes=61)  # window is 60 min after the last alert
    later = ingest_alerts(services, [alert("rag-assistant", 3)]).opened
    assert later and later != first


def test_state_machine_and_timeline(services: Services) -> None:
    incident = incident_service.declare_incident(
        services, service="rag-assistant", title="Answers cite the wrong policy",
        severity="high", description="reported by support", actor="slack:U1")
    iid = incident.id or 0
    with pytest.raises(Conflict, match="cannot reopen"):
        incident_service.change_status(services, incident_id=iid, to="triggered", actor="x")
    incident_service.change_status(services, incident_id=iid, to="acknowledged", actor="slack:U1")
    with pytest.raises(Conflict, match="is acknowledged; cannot mark acknowledged"):
        incident_service.change_status(services, incident_id=iid, to="acknowledged", actor="x")
    incident_service.assign_role(services, incident_id=iid, role="commander", user="U2",
                                 actor="slack:U1")
    incident_service.set_severity(services, incident_id=iid, severity="critical", actor="slack:U2")
    incident_service.change_status(services, incident_id=iid, to="mitigated", actor="runbook:x")
    incident_service.change_status(services, incident_id=iid, to="resolved", actor="slack:U2",
                                   note="rolled back v8")
    incident_service.change_status(services, incident_id=iid, to="triggered", actor="slack:U3")
    with pytest.raises(Conflict, match="unknown role"):
        incident_service.assign_role(services, incident_id=iid, role="wizard", user="U2",
                                     actor="slack:U1")
    with pytest.raises(NotFound):
        incident_service.change_status(services, incident_id=9999, to="resolved", actor="x")

    final = incident_service.get_incident(services, iid)
    assert final.status == "triggered" and final.resolved_at is None
    assert final.acknowledged_at is not None and final.acknowledged_at.tzinfo is not None
    assert final.roles == {"commander": "U2"} and final.severity == "critical"
    events = incident_service.timeline(services, iid)
    assert [(e.kind, e.actor) for e in events] == [
        ("opened", "slack:U1"), ("acknowledged", "slack:U1"), ("assign", "slack:U1"),
        ("severity", "slack:U2"), ("mitigated", "runbook:x"), ("resolved", "slack:U2"),
        ("reopened", "slack:U3")]
    assert events[5].details["note"] == "rolled back v8"


def test_declare_refuses_unknown_service(services: Services) -> None:
    with pytest.raises(Exception, match="unknown service 'nope'"):
        incident_service.declare_incident(services, service="nope", title="t", actor="x")


def test_concurrent_acknowledgements_apply_once(services: Services) -> None:
    from concurrent.futures import ThreadPoolExecutor

    incident = incident_service.declare_incident(services, service="rag-assistant",
                                                 title="two people click at once", actor="x")

    def ack(user: str) -> str:
        try:
            incident_service.change_status(services, incident_id=incident.id or 0,
                                           to="acknowledged", actor=f"slack:{user}")
            return "ok"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(ack, [f"U{i}" for i in range(8)]))
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    kinds = [e.kind for e in incident_service.timeline(services, incident.id or 0)]
    assert kinds.count("acknowledged") == 1


def test_a_batch_reads_its_open_incidents_in_one_query_however_many_groups(
        services: Services) -> None:
    """The statements of a batch do not grow with its alert groups (one SELECT each was
    a quarter of the intake's time), and the grouping is the same as alert by alert."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def incident_reads(batch: list[IncomingAlert]) -> int:
        statements.clear()
        event.listen(services.engine, "before_cursor_execute", seen)
        try:
            ingest_alerts(services, batch)
        finally:
            event.remove(services.engine, "before_cursor_execute", seen)
        return sum(1 for s in statements
                   if s.lstrip().upper().startswith("SELECT") and "FROM incidents" in s)

    few = [alert(f"few-{i % 2}", i) for i in range(4)]
    many = [alert(f"many-{i % 30}", i) for i in range(60)]  # a group per service
    assert incident_reads(few) == incident_reads(many) <= 2  # new groups: one read
    # every group is open now: repeats and new members find them with the same reads
    again = [alert(f"many-{i % 30}", i + 100) for i in range(60)] + many
    assert incident_reads(again) <= 2
    with session_scope(services.engine) as session:
        incidents = queries.list_incidents(session=session)
        grouped = [i for i in incidents if i.service.startswith("many-")]
        assert len(grouped) == 30 and [i.alerts_firing for i in grouped] == [4] * 30
