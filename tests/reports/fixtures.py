"""One team's two weeks, built so every figure of its digest can be worked out by hand.

Week under report: 2026-W47 (Mon 16 Nov 00:00 UTC to Mon 23 Nov); the week before
is 2026-W46 (9 to 16 Nov). The expected values are derived in the comments of
``tests/reports/test_content.py``.

Signals, one record per hour (168 an hour-week):

- ``svc-a`` ``error_rate`` (ratio, 1000 requests an hour), SLO ``availability``
  99 % over 7 days: 0.5 % errors every hour, except 10 hours on Wed 18 Nov at
  10.5 %. Per tenant (500 requests each): ``acme`` carries the regression (20.5 %
  in those hours, 0.5 % otherwise), ``globex`` stays at 0.5 %.
- ``svc-a`` cost: $2.00 per 1k requests in W46; in W47 $2.00 for the first 84
  hours and $3.00 for the last 84. Tokens per request 800 in W46, 600 in W47.
- ``svc-b`` (no SLOs): $1.00 per 1k with 3000 requests an hour, 400 tokens a
  request, both weeks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config.catalog import parse_catalog
from bot.core.exchange_records import SignalRecord
from bot.reports.inputs import DigestInputs, IncidentFact, RunFact, ServiceData
from bot.reports.weeks import IsoWeek

WEEK = IsoWeek(2026, 47)
W46 = datetime(2026, 11, 9, tzinfo=UTC)
W47 = datetime(2026, 11, 16, tzinfo=UTC)
BAD_HOURS = {W47 + timedelta(days=2, hours=h) for h in range(8, 18)}  # Wed 08:00-17:59

CATALOG = parse_catalog({
    "services": [
        {"name": "svc-a", "owners": {"default": {"users": ["U0SRE0001"]}},
         "slos": [{"name": "availability", "sli": {"kind": "availability",
                                                   "signal": "error_rate"},
                   "target": 0.99, "window": "7d"}]},
        {"name": "svc-b"},
        {"name": "svc-idle"},
    ],
    "teams": [
        {"name": "core", "channel": "C0CORE0001", "services": ["svc-a", "svc-b"],
         "digest": {"weekday": "mon", "time": "09:00", "timezone": "Europe/Berlin"}},
        {"name": "quiet", "channel": "C0QUIET001", "services": ["svc-idle"],
         "digest": {"weekday": "fri", "time": "16:30", "timezone": "America/New_York"}},
    ],
}, "<tests/reports>")


def t(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A time in November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _signal(ts: datetime, service: str, layer: str, name: str, value: float, count: float,
            slice_: dict[str, str] | None = None, kind: str = "gauge",
            bad: str = "up") -> SignalRecord:
    return SignalRecord(type="signal", ts=ts, service=service, layer=layer, name=name,
                        value=value, count=count, kind=kind, bad=bad, slice=slice_ or {})


def records() -> dict[str, list[SignalRecord]]:
    out: dict[str, list[SignalRecord]] = {"svc-a": [], "svc-b": []}
    for hour in range(2 * 168):
        ts = W46 + timedelta(hours=hour)
        this_week = ts >= W47
        bad = ts in BAD_HOURS
        a = out["svc-a"]
        a.append(_signal(ts, "svc-a", "runtime", "error_rate", 0.105 if bad else 0.005, 1000,
                         kind="ratio"))
        a.append(_signal(ts, "svc-a", "runtime", "error_rate", 0.205 if bad else 0.005, 500,
                         {"tenant": "acme"}, kind="ratio"))
        a.append(_signal(ts, "svc-a", "runtime", "error_rate", 0.005, 500,
                         {"tenant": "globex"}, kind="ratio"))
        cost = 3.0 if this_week and hour - 168 >= 84 else 2.0
        a.append(_signal(ts, "svc-a", "cost", "cost_per_1k_requests", cost, 1000))
        a.append(_signal(ts, "svc-a", "cost", "tokens_per_request",
                         600.0 if this_week else 800.0, 1000))
        b = out["svc-b"]
        b.append(_signal(ts, "svc-b", "cost", "cost_per_1k_requests", 1.0, 3000))
        b.append(_signal(ts, "svc-b", "cost", "tokens_per_request", 400.0, 3000))
    return out


def budget(**shares: float) -> dict[str, Any]:
    return {"slos": {name: {"share": share, "objective": f"{name} objective",
                            "unit": "events", "bad": 1.0, "total": 10.0, "excess_bad": 1.0}
                     for name, share in shares.items()}}


# (id, label, source, created, acknowledged, resolved, budget shares, top suspect kind)
INCIDENT_ROWS: list[tuple[int, str | None, str, datetime, datetime | None, datetime | None,
                          dict[str, float], str | None]] = [
    # week W47
    (1, "data", "alert", t(16, 10), t(16, 10, 6), t(16, 11), {"availability": 0.10,
                                                              "latency": 0.02}, "features"),
    (2, "data", "detector", t(17, 12), t(17, 12, 14), t(17, 14), {"availability": 0.05},
     "features"),
    (3, "model", "alert", t(18, 8), t(18, 8, 30), None, {}, "model"),
    (4, None, "manual", t(22, 23), None, None, {}, None),
    # week W46
    (5, "data", "alert", t(10, 9), t(10, 9, 20), t(10, 12), {}, "features"),
    (6, "infrastructure", "alert", t(12, 0), t(12, 0, 10), t(12, 0, 40), {}, None),
    # week W45 (only in the six-week chart) and W48 (starts exactly when W47 ends)
    (7, "cost", "budget", t(2, 12), None, None, {}, None),
    (8, "data", "alert", t(23, 0), None, None, {}, None),
]


def incidents() -> list[IncidentFact]:
    return [IncidentFact(id=i, service="svc-a", title=f"incident {i}", created_at=created,
                         behavior=label, source=source, acknowledged_at=ack,
                         mitigated_at=resolved, resolved_at=resolved,
                         budget_impact=budget(**shares) if shares else {},
                         suspect_kind=kind)
            for i, label, source, created, ack, resolved, shares, kind in INCIDENT_ROWS]


# (incident, runbook, status, verdict, requested at)
RUN_ROWS = [
    (1, "rollback-model", "succeeded", "recovered", t(16, 10, 20)),
    (2, "fallback-mode", "succeeded", "not_recovered", t(17, 12, 30)),
    (3, "rollback-model", "failed", None, t(18, 9)),
    (5, "rollback-model", "succeeded", "recovered", t(10, 10)),
]


def runs() -> list[RunFact]:
    return [RunFact(incident_id=i, runbook=name, status=status, verdict=verdict,
                    created_at=at) for i, name, status, verdict, at in RUN_ROWS]


def inputs(week: IsoWeek = WEEK) -> DigestInputs:
    data = records()
    return DigestInputs(
        team="core", channel="C0CORE0001", week=week,
        services=(ServiceData("svc-a", tuple(CATALOG.service("svc-a").slos), data["svc-a"]),
                  ServiceData("svc-b", (), data["svc-b"])),
        incidents=tuple(incidents()), runs=tuple(runs()))
