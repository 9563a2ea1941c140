"""The digest from a real database (both stores), posted once per team and week."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.devtools.slack_emulator import SlackEmulator
from bot.reports.content import build_digest
from bot.reports.gather import gather_inputs
from bot.reports.publish import post_digest
from store import report_queries
from store.db import session_scope
from store.report_models import DigestPostStatus
from tests.reports.fixtures import WEEK, t
from tests.reports.support import seed, team_services
from tests.slack.conftest import slack_settings


def test_digest_from_the_store_has_the_hand_figures(db_url: str) -> None:
    with team_services(db_url) as services:
        seed(services)
        digest = build_digest(gather_inputs(services, "core", WEEK))
    (slo,) = digest.slos
    assert slo.attainment == pytest.approx(1 - 1840 / 168_000)  # as in test_content
    assert slo.budget_left == pytest.approx(1 - 1840 / 1680)
    assert slo.worst_slices[0].key == "tenant=acme"
    assert (digest.total.this_week.count, digest.total.this_week.mttr_minutes) == (4, 90.0)
    assert digest.total.this_week.mtta_minutes == pytest.approx(50 / 3)
    assert (digest.runbooks.run, digest.runbooks.succeeded, digest.runbooks.verified) == (3, 2, 1)
    assert digest.cost.team.cost_per_1k == pytest.approx(1.375)
    assert [row.kind for row in digest.recurring_kinds] == ["features"]


def test_a_digest_post_is_claimed_once(db_url: str) -> None:
    with team_services(db_url) as services:
        with session_scope(services.engine) as session:
            first = report_queries.claim_digest_post(session=session, team="core",
                                                     week="2026-W47", channel="C1", now=t(23))
            assert first is not None and first.attempts == 1
        with session_scope(services.engine) as session:
            assert report_queries.claim_digest_post(session=session, team="core",
                                                    week="2026-W47", channel="C1",
                                                    now=t(23, 0, 1)) is None
            other_week = report_queries.claim_digest_post(session=session, team="core",
                                                          week="2026-W48", channel="C1",
                                                          now=t(23))
            assert other_week is not None
        with session_scope(services.engine) as session:
            post = report_queries.digest_post(session=session, team="core", week="2026-W47")
            assert post is not None
            post.status = DigestPostStatus.failed.value
            session.add(post)
        with session_scope(services.engine) as session:  # a failed post may be retried once
            retry = report_queries.claim_digest_post(session=session, team="core",
                                                     week="2026-W47", channel="C1", now=t(23, 1))
            assert retry is not None and retry.attempts == 2
            assert retry.status == DigestPostStatus.posting.value
        with session_scope(services.engine) as session:  # a stale "posting" is taken over
            assert report_queries.claim_digest_post(session=session, team="core",
                                                    week="2026-W47", channel="C1",
                                                    now=t(23, 2), stale_before=t(23, 0, 30)
                                                    ) is None
            taken = report_queries.claim_digest_post(session=session, team="core",
                                                     week="2026-W47", channel="C1",
                                                     now=t(23, 3), stale_before=t(23, 2))
            assert taken is not None and taken.attempts == 3


def test_digest_is_posted_once_with_its_report(slack: SlackEmulator, sqlite_url: str,
                                                tmp_path: Path) -> None:
    slack.workspace.add_channel("core-reliability", channel_id="C0CORE0001")
    settings = slack_settings(slack, sqlite_url).model_dump(by_alias=True)
    with team_services(sqlite_url, **settings) as services:
        seed(services)
        first = post_digest(services, "core", WEEK, directory=tmp_path)
        assert first.posted and first.status == "posted"
        assert first.path == tmp_path / "digest-core-2026-W47.html"
        assert first.path.read_text().count("data:image/png;base64,") == 3
        again = post_digest(services, "core", WEEK, directory=tmp_path)
        assert not again.posted and again.status == "posted"
        assert again.message_ts == first.message_ts
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 1
    assert len(slack.calls_to("files.completeUploadExternal", ok=True)) == 1
    channel = slack.workspace.channels["C0CORE0001"]
    (message,) = channel.messages
    assert len(message.blocks) <= 50
    assert "Reliability digest · core · 2026-W47" in str(message.blocks)
    (uploaded,) = [f for f in slack.workspace.files.values() if f.get("complete")]
    assert uploaded["name"] == "digest-core-2026-W47.html"
    assert b"chart-burn-down" in uploaded["content"]


def test_digest_command_writes_the_report(sqlite_url: str, tmp_path: Path, monkeypatch,
                                          capsys) -> None:
    import yaml

    from bot.cli.main import main
    from tests.reports.fixtures import CATALOG

    with team_services(sqlite_url) as services:
        seed(services)
    catalog_file = tmp_path / "resilio.yml"
    catalog_file.write_text(yaml.safe_dump(CATALOG.model_dump()))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    out = tmp_path / "report.html"
    assert main(["--config", str(catalog_file), "digest", "--team", "core", "--week",
                 "2026-W47", "--out", str(out)]) == 0
    assert "core 2026-W47: 4 incidents, 1 SLOs" in capsys.readouterr().out
    assert out.read_text().count("data:image/png;base64,") == 3
    assert main(["--config", str(catalog_file), "digest", "--team", "nobody"]) == 2
    assert "unknown team 'nobody' (teams: core, quiet)" in capsys.readouterr().err
    assert main(["--config", str(catalog_file), "digest", "--team", "core", "--week",
                 "2026-47"]) == 2
