"""``/oncall`` and ``/silence`` sent signed over HTTP to the running bot and the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources

import pytest
import yaml

from bot.config.catalog import Catalog, parse_catalog
from bot.devtools.slack_emulator import SlackEmulator
from bot.oncall import service as oncall
from bot.silences import service as silences
from tests.slack.conftest import GENERAL, Bot, running_bot

ALICE, BOB, CAROL = "U0ALICE01", "U0BOB0002", "U0CAROL03"
WED_3AM_BERLIN = datetime(2026, 12, 2, 2, tzinfo=UTC)


def catalog_with_schedules() -> Catalog:
    data = yaml.safe_load(resources.files("bot.defaults").joinpath("resilio.yml").read_text())
    data["schedules"] = [{"name": "ml-primary", "timezone": "Europe/Berlin", "layers": [
        {"name": "week", "rotation": {"members": [ALICE, BOB], "start": "2026-11-30T09:00",
                                      "length": "1w"}}]}]
    return parse_catalog(data, "<test catalog>")


@pytest.fixture
def bot(slack: SlackEmulator, sqlite_url: str) -> Iterator[Bot]:
    for user, tz in ((ALICE, "Europe/Berlin"), (BOB, "America/New_York"), (CAROL, "UTC")):
        slack.workspace.add_user(user, tz=tz)
    with running_bot(slack, sqlite_url, catalog_with_schedules()) as running:
        running.services.clock = lambda: WED_3AM_BERLIN
        yield running


def command(bot: Bot, name: str, text: str, user: str = CAROL) -> dict[str, object]:
    before = len(bot.slack.responses)
    reply = bot.slack.slash_command(name, text, user=user, channel=GENERAL)
    assert reply.status == 200
    bot.settle()
    if reply.body:  # answered in the ack (usage)
        return dict(reply.body)
    assert len(bot.slack.responses) == before + 1
    return bot.slack.responses[-1]


def text_of(reply: dict[str, object]) -> str:
    return f"{reply.get('text', '')} {reply.get('blocks') or ''}"


def test_oncall_says_who_now_and_next_with_date_tokens(bot: Bot) -> None:
    reply = command(bot, "/oncall", "")
    body = text_of(reply)
    assert f"<@{ALICE}>" in body and f"next <@{BOB}>" in body
    # Alice hands over on Monday 7 December 09:00 CET = 08:00Z, shown in each reader's zone
    assert f"<!date^{int(datetime(2026, 12, 7, 8, tzinfo=UTC).timestamp())}^" in body
    assert reply["response_type"] == "ephemeral"


def test_override_takes_effect_and_is_said_in_the_channel(bot: Bot) -> None:
    reply = command(bot, "/oncall", f"override <@{CAROL}> until 12:00 dentist", user=ALICE)
    assert reply["response_type"] == "in_channel"
    now, _ = oncall.now_and_next(bot.services, "ml-primary")
    assert now is not None and now.user == CAROL and now.source == "override"
    # "12:00" in Alice's zone (Berlin, UTC+1) is 11:00Z the same day
    assert now.end == datetime(2026, 12, 2, 11, tzinfo=UTC)


def test_swap_trades_the_current_shift_for_the_next(bot: Bot) -> None:
    command(bot, "/oncall", f"swap <@{BOB}>", user=ALICE)
    now, upcoming = oncall.now_and_next(bot.services, "ml-primary")
    assert now is not None and now.user == BOB
    assert upcoming is not None and upcoming.user == ALICE  # Alice covers Bob's week


def test_swap_is_said_in_the_channel_and_refused_with_the_holder(bot: Bot) -> None:
    refused = command(bot, "/oncall", f"swap <@{ALICE}>", user=ALICE)
    assert refused["response_type"] == "ephemeral"
    assert f"<@{ALICE}> is already on call for ml-primary" in text_of(refused)
    reply = command(bot, "/oncall", f"swap <@{BOB}>", user=ALICE)
    assert reply["response_type"] == "in_channel"
    said = text_of(reply)
    assert f"<@{ALICE}> swapped ml-primary: <@{BOB}> is on call until <!date^" in said
    assert f"<@{ALICE}> takes their shift from <!date^" in said


def test_bad_oncall_gets_usage_at_once(bot: Bot) -> None:
    reply = command(bot, "/oncall", "override nobody until 12:00")
    assert "needs a person" in text_of(reply)


def test_a_bad_command_quoted_in_its_usage_is_inert(bot: Bot) -> None:
    reply = command(bot, "/oncall", f"override <@{CAROL}> for <!channel>")
    assert "is not a duration" in str(reply["text"])
    assert "<!channel>" not in text_of(reply) and "&lt;!channel&gt;" in str(reply["text"])


def test_silence_from_slack(bot: Bot) -> None:
    reply = command(bot, "/silence", 'service="rag-assistant", alertname=~"Ground.*" for 2h '
                                     "re-indexing the store")
    assert "Silence #1 set" in text_of(reply)
    [made] = silences.list_silences(bot.services)
    assert made.comment == "re-indexing the store" and made.created_by == f"slack:{CAROL}"
    assert "rag-assistant" in text_of(command(bot, "/silence", "list"))
    command(bot, "/silence", "end 1")
    assert silences.list_silences(bot.services)[0].state(WED_3AM_BERLIN) == "expired"


def test_long_lists_stay_within_block_kit_limits() -> None:
    from datetime import timedelta

    from bot.config.oncall_schedule import Shift
    from bot.devtools.slack_emulator.limits import blocks_errors
    from bot.silences.matchers import parse_matchers
    from bot.silences.silence import Silence
    from bot.views.oncall import OnCallRow, oncall_blocks, silence_blocks

    shift = Shift(ALICE, WED_3AM_BERLIN, WED_3AM_BERLIN + timedelta(hours=8), "week")
    rows = [OnCallRow(f"schedule-{i}" * 8, shift, shift) for i in range(120)]
    assert blocks_errors(oncall_blocks(rows)) == []
    hostile = Silence(id=1, matchers=tuple(parse_matchers('service="<!channel>"')),
                      starts_at=WED_3AM_BERLIN, ends_at=WED_3AM_BERLIN + timedelta(hours=1),
                      created_by="<@U0EVIL001>", comment="<!here> " + "x" * 4000)
    blocks = silence_blocks([hostile] * 80, WED_3AM_BERLIN)
    assert blocks_errors(blocks) == []
    assert "<!channel>" not in str(blocks) and "<!here>" not in str(blocks)
    assert "<@U0EVIL001>" not in str(blocks)
