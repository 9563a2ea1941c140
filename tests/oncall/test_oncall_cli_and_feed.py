"""``resilio oncall import | export | who`` and the token-protected ``.ics`` feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from bot.app.server import ServerThread
from bot.cli.main import main
from bot.config.oncall_schedule import Schedule, shifts
from bot.oncall.ical import from_ics
from tests.conftest import make_services
from tests.oncall.test_ical import OTHER_TOOL

CATALOG = """
services:
  - name: rag
    owners: {model: {users: [U0ALICE01], schedules: [ml-primary]}}
schedules:
  - name: ml-primary
    timezone: Europe/Berlin
    layers:
      - name: week
        rotation: {members: [U0ALICE01, U0BOB0002], start: "2026-11-30T09:00", length: 1w}
"""


def test_import_prints_a_schedule_the_catalog_takes(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ics = tmp_path / "pagerduty.ics"
    ics.write_text(OTHER_TOOL)
    users = tmp_path / "users.yml"
    users.write_text("alice@example.com: UALICE01\nBob Example: UBOB0002\n")
    assert main(["oncall", "import", str(ics), "--name", "ml-primary",
                 "--timezone", "America/New_York", "--users", str(users)]) == 0
    printed = capsys.readouterr().out
    [entry] = yaml.safe_load(printed)
    schedule = Schedule.model_validate(entry)
    expected = from_ics(OTHER_TOOL, "ml-primary", "America/New_York",
                        {"alice@example.com": "UALICE01", "Bob Example": "UBOB0002"})
    window = (datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    assert shifts(schedule, *window) == shifts(expected, *window)


def test_import_refuses_a_broken_calendar_in_one_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ics = tmp_path / "bad.ics"
    ics.write_text("BEGIN:VEVENT\r\nDTSTART:soon\r\nEND:VEVENT\r\n")
    assert main(["oncall", "import", str(ics), "--name", "x"]) == 2
    assert "bad.ics: line 2: DTSTART 'soon' is not a date-time" in capsys.readouterr().err


def test_export_and_who_read_the_catalog(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "resilio.yml"
    config.write_text(CATALOG)
    assert main(["--config", str(config), "oncall", "export", "ml-primary", "--days", "14"]) == 0
    exported = capsys.readouterr().out
    assert exported.startswith("BEGIN:VCALENDAR") and "X-RESILIO-USER:U0BOB0002" in exported
    assert main(["--config", str(config), "oncall", "who"]) == 0
    assert capsys.readouterr().out.startswith("ml-primary: U0")
    assert main(["--config", str(config), "oncall", "who", "nope"]) == 2


def test_the_ics_feed_needs_a_token_and_reads_back(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "resilio.yml"
    config.write_text(CATALOG)
    from bot.config.catalog import load_catalog

    services = make_services(db_url, RESILIO_API_TOKEN="feed-token", RESILIO_RUN_SCHEDULER=False)
    services.catalog = load_catalog(config)
    try:
        with ServerThread(services) as server:
            url = f"{server.url}/v1/schedules/ml-primary.ics"
            assert httpx.get(url).status_code == 401
            response = httpx.get(url, headers={"Authorization": "Bearer feed-token"})
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/calendar")
            feed = from_ics(response.text, "ml-primary", "Europe/Berlin")
            now = services.clock()
            window = (now, now + timedelta(days=14))
            assert [(s.user, s.start, s.end) for s in shifts(feed, *window)] == \
                [(s.user, s.start, s.end) for s in shifts(services.catalog.schedules[0],
                                                          *window)]
            missing = httpx.get(f"{server.url}/v1/schedules/nope.ics",
                                headers={"Authorization": "Bearer feed-token"})
            assert missing.status_code == 404 and "no schedule 'nope'" in missing.text
    finally:
        services.close()
