"""Digest content on hand-built data (``tests/reports/fixtures.py``); every expected
figure is worked out in the comments from the fixture's rows."""

from __future__ import annotations

import pytest

from bot.devtools.slack_emulator.limits import blocks_errors
from bot.reports.content import build_digest
from bot.reports.inputs import DigestInputs, ServiceData
from bot.reports.render import render_html, render_message
from bot.reports.weeks import IsoWeek
from tests.reports import fixtures as fx
from tests.reports.fixtures import WEEK, t


@pytest.fixture(scope="module")
def digest():
    return build_digest(fx.inputs())


def test_iso_weeks() -> None:
    week = IsoWeek.parse("2026-W47")
    assert (week.start, week.end) == (t(16), t(23))  # Monday 16 Nov to Monday 23 Nov
    assert str(week.previous()) == "2026-W46"
    assert str(IsoWeek.parse("2027-W01").previous()) == "2026-W53"  # 2026 has 53 ISO weeks
    assert IsoWeek.last_complete(t(23, 9)) == week  # the Monday digest reports last week
    with pytest.raises(ValueError, match="2026-47"):
        IsoWeek.parse("2026-47")
    with pytest.raises(ValueError, match="no week 54"):
        IsoWeek.parse("2026-W54")


def test_slo_attainment_budget_and_worst_slices(digest) -> None:
    (slo,) = digest.slos
    # W46: 168 h x 1000 requests at 0.5 % -> 840 bad of 168,000: attainment 0.995.
    assert slo.previous_attainment == pytest.approx(0.995)
    # W47: 158 h x 5 + 10 h x 105 = 790 + 1050 = 1840 bad of 168,000.
    assert slo.attainment == pytest.approx(1 - 1840 / 168_000)  # 0.98905
    # Budget of a 7-day window at 99 %: 1 % of 168,000 = 1680 bad requests.
    # End of W46: the window is W46 itself: 1 - 840/1680 = 0.5 left.
    assert slo.previous_budget_left == pytest.approx(0.5)
    # End of W47: 1 - 1840/1680 = -0.0952: overspent by 9.5 %.
    assert slo.budget_left == pytest.approx(1 - 1840 / 1680)
    assert slo.met is False
    # acme: 158 h x 2.5 + 10 h x 102.5 = 395 + 1025 = 1420 bad of 84,000; globex 420 of 84,000.
    acme, globex = slo.worst_slices
    assert (acme.key, acme.bad, acme.total) == ("tenant=acme", 1420, 84_000)
    assert acme.attainment == pytest.approx(1 - 1420 / 84_000)
    assert (globex.key, globex.attainment) == ("tenant=globex", pytest.approx(0.995))
    # Burn-down: hourly from W46's start to W47's end, 14 x 24 + 1 points; it ends at the
    # budget left at the end of the week.
    assert len(slo.burn_times) == 337
    assert slo.burn_left[-1] == pytest.approx(slo.budget_left)


def test_incidents_by_class_with_mtta_and_mttr(digest) -> None:
    rows = {row.label: row for row in digest.classes}
    assert list(rows) == ["infrastructure", "data", "model", "unclassified"]  # class order
    data = rows["data"].this_week
    # #1 acked after 6 min, resolved after 60; #2 after 14 and 120.
    assert (data.count, data.mtta_minutes, data.mttr_minutes) == (2, 10.0, 90.0)
    model = rows["model"].this_week  # #3: acked after 30 min, still open
    assert (model.count, model.mtta_minutes, model.mttr_minutes) == (1, 30.0, None)
    assert rows["unclassified"].this_week.count == 1  # #4, never acked
    assert rows["data"].previous_week.mttr_minutes == 180.0  # #5: 09:00 -> 12:00
    assert rows["infrastructure"].this_week.count == 0
    total = digest.total
    # W47: 4 incidents (#8 opened at 23 Nov 00:00 belongs to W48); MTTA (6+14+30)/3 = 16.67;
    # MTTR (60+120)/2 = 90. W46: #5 and #6: MTTA (20+10)/2 = 15, MTTR (180+40)/2 = 110.
    assert total.this_week.count == 4
    assert total.this_week.mtta_minutes == pytest.approx(50 / 3)
    assert total.this_week.mttr_minutes == 90.0
    assert (total.previous_week.count, total.previous_week.mtta_minutes,
            total.previous_week.mttr_minutes) == (2, 15.0, 110.0)


def test_budget_sources_runbooks_and_suspects(digest) -> None:
    # #1 spent 10 % of availability's budget and 2 % of latency's; #2 5 %; the rest nothing.
    assert [(b.id, b.spent) for b in digest.budgets] == [
        (1, (("availability", 0.10), ("latency", 0.02))), (2, (("availability", 0.05),))]
    # Found by: #1 and #3 alerts, #2 the detector (silent), #4 by hand; W46 two alerts.
    assert digest.sources.this_week == {"detector": 1, "alert": 2, "budget": 0, "manual": 1}
    assert (digest.sources.silent, digest.sources.alerted) == (1, 2)
    assert digest.sources.previous_week["alert"] == 2
    # Runs requested in W47: rollback (succeeded, recovered), fallback (succeeded, not
    # recovered), rollback (failed): 3 run, 2 succeeded, 1 verified. W46: 1, 1, 1.
    runs = digest.runbooks
    assert (runs.run, runs.succeeded, runs.verified) == (3, 2, 1)
    assert runs.by_runbook == (("fallback-mode", 1, 1, 0), ("rollback-model", 2, 1, 1))
    previous = digest.previous_runbooks
    assert (previous.run, previous.succeeded, previous.verified) == (1, 1, 1)
    # Top suspects: features for #1 and #2 (and #5 in W46) recur; model once (#3) does not.
    kinds = {row.kind: row for row in digest.suspect_kinds}
    assert (kinds["features"].this_week, kinds["features"].previous_week) == (2, 1)
    assert kinds["features"].incidents == (1, 2) and kinds["features"].recurring
    assert not kinds["model"].recurring
    assert [row.kind for row in digest.recurring_kinds] == ["features"]
    # Six weeks of incidents by class, oldest first; #7 (2 Nov) is in W45.
    assert digest.weekly_classes[-1] == ("2026-W47", {"data": 2, "model": 1, "unclassified": 1})
    assert digest.weekly_classes[-3] == ("2026-W45", {"cost": 1})
    assert len(digest.weekly_classes) == 6


def test_cost_trend(digest) -> None:
    a = {row.service: row for row in digest.cost.services}["svc-a"]
    # svc-a: $2.00 all W46; W47 84 h at $2 and 84 h at $3, equal requests: $2.50.
    assert (a.previous_cost_per_1k, a.cost_per_1k) == (pytest.approx(2.0), pytest.approx(2.5))
    assert (a.previous_tokens_per_request, a.tokens_per_request) == (800.0, 600.0)
    team = digest.cost.team
    # Request-weighted with svc-b ($1, 3000 req/h): W46 (2*1000 + 1*3000)/4000 = 1.25,
    # W47 (2.5*1000 + 1*3000)/4000 = 1.375; tokens (800*1000 + 400*3000)/4000 = 500 -> 450.
    assert (team.previous_cost_per_1k, team.cost_per_1k) == (pytest.approx(1.25),
                                                              pytest.approx(1.375))
    assert (team.previous_tokens_per_request, team.tokens_per_request) == (
        pytest.approx(500.0), pytest.approx(450.0))
    # Daily, index 0 = Mon 9 Nov: hour 84 of W47 is Thu 19 Nov 12:00 (index 10), so Wed is
    # all $2, Thu half and half ($2.50), Fri all $3.
    assert a.daily_cost[9:12] == (pytest.approx(2.0), pytest.approx(2.5), pytest.approx(3.0))
    assert [row.service for row in digest.cost.services] == ["svc-a", "svc-b"]  # dearest first


def test_better_and_worse(digest) -> None:
    better = {d.what: (d.before, d.after) for d in digest.better}
    worse = {d.what: (d.before, d.after) for d in digest.worse}
    # MTTR 110 -> 90 min (-18 %); tokens 500 -> 450 (-10 %) and svc-a 800 -> 600.
    assert better == {"MTTR": (110.0, 90.0),
                      "all services tokens per request": (pytest.approx(500.0),
                                                          pytest.approx(450.0)),
                      "svc-a tokens per request": (800.0, 600.0)}
    # Attainment 99.5 % -> 98.9 %; 2 -> 4 incidents; MTTA 15 -> 16.7 min (+11 %);
    # cost 1.25 -> 1.375 (+10 %) and svc-a 2.0 -> 2.5. svc-b did not move: not listed.
    assert set(worse) == {"svc-a/availability attainment", "incidents", "MTTA",
                          "all services cost per 1k requests", "svc-a cost per 1k requests"}
    assert worse["incidents"] == (2, 4)
    assert worse["MTTA"] == (15.0, pytest.approx(50 / 3))


def test_a_week_without_incidents_renders_cleanly() -> None:
    # W49 (30 Nov - 6 Dec): no incidents, W48 only #8 -> one fewer incident, nothing else.
    quiet = build_digest(fx.inputs(IsoWeek(2026, 49)))
    assert (quiet.total.this_week.count, quiet.total.previous_week.count) == (0, 1)
    assert quiet.total.this_week.mtta_minutes is None
    assert [(d.what, d.before, d.after) for d in quiet.better] == [("incidents", 1, 0)]
    assert quiet.slos[0].attainment is None  # the signals end with W47
    # W50: nothing in either week, and the SLO windows reach back no further than W48.
    digest = build_digest(fx.inputs(IsoWeek(2026, 50)))
    assert digest.total.this_week.count == digest.total.previous_week.count == 0
    assert digest.slos[0].budget_left is None and digest.slos[0].previous_budget_left is None
    assert not digest.has_cost_data and not digest.budgets and not digest.classes
    assert digest.better == digest.worse == ()
    html = render_html(digest, generated_at=t(30, 9))
    assert "No SLO data in these two weeks." in html
    assert "No incident this week spent error budget." in html
    message = render_message(digest)
    assert blocks_errors(message.blocks) == []


def test_a_team_with_no_data_renders_cleanly() -> None:
    digest = build_digest(DigestInputs(team="quiet", channel="C0QUIET001", week=WEEK,
                                       services=(ServiceData("svc-idle"),)))
    assert digest.slos == () and digest.classes == () and digest.better == ()
    html = render_html(digest, generated_at=t(23, 9))
    for line in ("No SLOs are defined for this team's services.",
                 "No incidents this week or the week before.", "Nothing moved enough"):
        assert line in html
    assert "<img" not in html  # no empty charts
    message = render_message(digest)
    assert blocks_errors(message.blocks) == []
    assert "No SLOs are defined" in str(message.blocks)


def test_slack_message_stays_within_limits_for_a_big_team() -> None:
    # 40 services of the fixture's shape: 40 SLOs and 80 cost rows must still fit.
    base = fx.inputs()
    svc_a = base.services[0]
    many = tuple(ServiceData(f"svc-{i:02d}", svc_a.slos, svc_a.records) for i in range(40))
    digest = build_digest(DigestInputs(team="big", channel="C1", week=WEEK, services=many,
                                       incidents=base.incidents, runs=base.runs))
    message = render_message(digest)
    assert len(message.blocks) <= 50
    assert blocks_errors(message.blocks) == []
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in texts)
    assert any("28 more SLOs in the report" in text for text in texts)  # 40 - 12 listed


def test_an_slo_restricted_to_one_tenant() -> None:
    from bot.config.slo_spec import SLO
    from bot.reports.slos import slo_week

    acme = SLO.model_validate({"name": "acme-availability", "target": 0.99, "window": "7d",
                               "sli": {"kind": "availability", "signal": "error_rate"},
                               "filter": {"tenant": "acme"}})
    week = slo_week(acme, fx.records()["svc-a"], service="svc-a", week=WEEK)
    # Only the tenant=acme records: 1420 bad of 84,000 in W47, 420 of 84,000 in W46.
    assert week.attainment == pytest.approx(1 - 1420 / 84_000)
    assert week.previous_attainment == pytest.approx(1 - 420 / 84_000)
    # Its own 7-day budget: 1 % of 84,000 = 840; 1 - 1420/840 = -0.69 left.
    assert week.budget_left == pytest.approx(1 - 1420 / 840)
    assert week.worst_slices == ()  # no finer breakdown than its filter
