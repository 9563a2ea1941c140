"""The digest's on-call section, worked out by hand.

Team zone Europe/Berlin (CET, UTC+1 in November). Week 2026-W47: Mon 16 Nov 00:00Z to
Mon 23 Nov 00:00Z. Pages:

- Alice, Wed 18 Nov 10:00Z = 11:00 CET: in hours
- Alice, Wed 18 Nov 17:30Z = 18:30 CET: out of hours (after 18:00)
- Alice, Sat 21 Nov 12:00Z: out of hours (weekend)
- Bob,   Thu 19 Nov 07:30Z = 08:30 CET: out of hours (before 09:00)
- Bob,   Sun 15 Nov 12:00Z: the week before, not counted
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.reports.content import build_digest
from bot.reports.inputs import DigestInputs, PageFact
from bot.reports.oncall import oncall_week, out_of_hours
from bot.reports.render import render_html, render_message
from tests.reports.fixtures import WEEK

ALICE, BOB = "U0ALICE01", "U0BOB0002"
PAGES = (
    PageFact(1, ALICE, datetime(2026, 11, 18, 10, tzinfo=UTC)),
    PageFact(1, ALICE, datetime(2026, 11, 18, 17, 30, tzinfo=UTC)),
    PageFact(2, ALICE, datetime(2026, 11, 21, 12, tzinfo=UTC)),
    PageFact(3, BOB, datetime(2026, 11, 19, 7, 30, tzinfo=UTC)),
    PageFact(4, BOB, datetime(2026, 11, 15, 12, tzinfo=UTC)),
)


def test_pages_per_person_and_out_of_hours() -> None:
    week = oncall_week(PAGES, {"svc-a": 7, "svc-b": 2}, WEEK, "Europe/Berlin")
    assert [(p.user, p.pages, p.out_of_hours) for p in week.people] == [
        (ALICE, 3, 2), (BOB, 1, 1)]
    assert (week.pages, week.out_of_hours, week.silenced) == (4, 3, 9)
    assert week.silenced_by_service == (("svc-a", 7), ("svc-b", 2))


def test_out_of_hours_is_read_in_the_team_zone() -> None:
    # In New York (EST, UTC-5): 10:00Z is 05:00 (out), 17:30Z is 12:30 (in)
    new_york, berlin = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
    assert [out_of_hours(p.at, new_york) for p in PAGES[:4]] == [True, False, True, True]
    assert [out_of_hours(p.at, berlin) for p in PAGES[:4]] == [False, True, True, True]


def test_the_section_shows_in_slack_and_html() -> None:
    digest = build_digest(DigestInputs(team="core", channel="C0CORE0001", week=WEEK,
                                       pages=PAGES, silenced={"svc-a": 7},
                                       timezone="Europe/Berlin"))
    slack = str(render_message(digest).blocks)
    assert "*On call* (4 pages, 3 out of hours · 7 alerts silenced)" in slack
    assert f"<@{ALICE}>: 3 pages, 2 out of hours" in slack
    html = render_html(digest, generated_at=datetime(2026, 11, 23, tzinfo=UTC))
    assert 'id="oncall"' in html and "svc-a 7" in html
