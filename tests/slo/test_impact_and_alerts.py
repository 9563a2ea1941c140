"""An incident's budget impact, and burn alerts opening one incident, on a real database.

Records reach the code through its ``loader`` seam (a function returning records for a
service and time range), the same one the store and a Prometheus reader plug into.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from bot.slo.alerts import evaluate_burn_alerts, fingerprint_for
from bot.slo.impact import update_budget_impact
from store.db import session_scope
from store.models import Alert, Incident, TimelineEvent
from tests.slo.streams import START, rag_stream, signal

ONSET = START + timedelta(minutes=1440)
MITIGATED = START + timedelta(minutes=1500)


def regression(i: int) -> dict[str, float]:
    if 1440 <= i < 1500:
        return {"groundedness": 0.70, "thumbs_down_rate": 0.20}
    if 100 <= i < 105 or 600 <= i < 605:  # two bad 5-minute slices in the baseline day
        return {"groundedness": 0.70}
    return {}


def tenant_records(count: int) -> list:
    out = []
    for i in range(count):
        ts = START + timedelta(minutes=i)
        acme = 0.60 if 1440 <= i < 1500 else 0.92
        out.append(signal(ts, "groundedness", acme, layer="quality", count=20, tenant="acme"))
        out.append(signal(ts, "groundedness", 0.93, layer="quality", count=180, tenant="beta"))
    return out


RECORDS = rag_stream(START, 1560, regression) + tenant_records(1560)


def loader(service: str, start: datetime, end: datetime) -> list:
    return [r for r in RECORDS if r.service == service and start <= r.ts <= end]


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    built = build_services(Settings(DATABASE_URL=sqlite_url), load_catalog(None))
    yield built
    built.close()


def _incident(services: Services) -> int:
    from bot.incidents import lifecycle

    with session_scope(services.engine) as session:
        incident = lifecycle.new_incident(session=session, service="rag-assistant",
                                          title="answers got worse", severity="page",
                                          source="manual", actor="test", now=ONSET)
        incident.onset = ONSET
        incident.mitigated_at = MITIGATED
        session.add(incident)
        return incident.id


def test_budget_impact_matches_the_hand_computation(services: Services) -> None:
    services.clock = lambda: MITIGATED + timedelta(minutes=30)
    incident_id = _incident(services)
    impact = update_budget_impact(services, incident_id, loader=loader)
    grounded = impact["slos"]["groundedness"]
    # During [onset, mitigation): 12 slices of 5 min, all bad. Baseline day: 2 bad of 288
    # slices, so 12 * 2/288 = 1/12 would have been bad anyway; 12 - 1/12 = 11.9167 excess.
    # Window budget: 1% of 8640 slices = 86.4 -> 11.9167 / 86.4 = 13.79%.
    assert (grounded["bad"], grounded["total"]) == (12, 12)
    assert grounded["baseline_ratio"] == pytest.approx(2 / 288)
    assert grounded["expected_bad"] == pytest.approx(1 / 12)
    assert grounded["excess_bad"] == pytest.approx(12 - 1 / 12)
    assert grounded["budget_total"] == pytest.approx(86.4)
    assert grounded["share"] == pytest.approx((12 - 1 / 12) / 86.4)
    # Per tenant: acme's 12 slices all bad against a clean baseline (12 / 86.4 = 13.89%);
    # beta never missed.
    assert grounded["slices"]["tenant=acme"]["share"] == pytest.approx(12 / 86.4)
    assert grounded["slices"]["tenant=beta"]["share"] == 0.0
    # Availability: 60 min x 200 requests at the baseline 0.1% -> nothing beyond baseline.
    assert impact["slos"]["availability"]["excess_bad"] == pytest.approx(0.0, abs=1e-9)
    assert impact["slos"]["availability"]["share"] == pytest.approx(0.0, abs=1e-12)
    assert impact["worst"]["slo"] in ("groundedness", "thumbs-down")
    assert impact["stage"] == "mitigated"
    assert impact["summary"].startswith("budget impact (share of each SLO's window budget): ")
    assert "groundedness 13.8%" in impact["summary"]
    with session_scope(services.engine) as session:
        stored = session.get(Incident, incident_id)
        assert stored.budget_impact == impact
        kinds = [e.kind for e in session.exec(select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id))]
        assert "budget_impact" in kinds


def test_burn_alerts_open_one_budget_incident_and_resolve(services: Services) -> None:
    now = START + timedelta(minutes=1499)
    services.clock = lambda: now
    sent = evaluate_burn_alerts(services, now, loader=loader)
    firing = {(r.labels["slo"], r.labels["burn_severity"]) for r in sent if r.status == "firing"}
    # Groundedness and thumbs-down miss every slice of the last hour: 100x, both severities.
    assert firing == {("groundedness", "page"), ("groundedness", "ticket"),
                      ("thumbs-down", "page"), ("thumbs-down", "ticket")}
    with session_scope(services.engine) as session:
        incidents = session.exec(select(Incident)).all()
        assert len(incidents) == 1  # one service, one group: the alerts join one incident
        assert incidents[0].source == "budget" and incidents[0].severity == "page"
        alert = session.exec(select(Alert).where(
            Alert.fingerprint == fingerprint_for("rag-assistant", "groundedness", "page"))).one()
        assert alert.source == "budget" and alert.labels["slo"] == "groundedness"

    # A minute later nothing changed: nothing is sent (the intake already has it).
    later = now + timedelta(minutes=1)
    services.clock = lambda: later
    assert evaluate_burn_alerts(services, later, loader=loader) == []

    # An hour of healthy data later the page pairs' short windows are clean: page resolves.
    # The ticket pairs still see the burn (1d/2h: 12 bad slices of 24 in the last 2 h).
    recovered = START + timedelta(minutes=1558)
    services.clock = lambda: recovered
    sent = evaluate_burn_alerts(services, recovered, loader=loader)
    assert {(r.labels["slo"], r.status) for r in sent} == {
        ("groundedness", "resolved"), ("thumbs-down", "resolved")}
    assert all(r.labels["burn_severity"] == "page" for r in sent)

    # The still-firing tickets are re-sent once REPEAT (1 h) has passed since 1499.
    repeat = START + timedelta(minutes=1559)
    services.clock = lambda: repeat
    sent = evaluate_burn_alerts(services, repeat, loader=loader)
    assert {(r.labels["slo"], r.labels["burn_severity"], r.status) for r in sent} == {
        ("groundedness", "ticket", "firing"), ("thumbs-down", "ticket", "firing")}
