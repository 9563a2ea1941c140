"""The one escaping function, the bot's own tokens, and text coming back from Slack."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.views import markup
from bot.views.text import cut
from tests.views.hostile import ISSUE_14_SUMMARY, foreign_tokens, hostile_text


def test_the_issue_14_summary_becomes_inert_text() -> None:
    escaped = markup.escape(ISSUE_14_SUMMARY)
    assert escaped == ("&lt;!channel&gt; &lt;!here&gt; &lt;@U0EVIL001&gt; "
                       "&lt;!subteam^S0EVIL01&gt; "
                       "&lt;https://evil.example|Click to re-authenticate&gt;")
    assert foreign_tokens(escaped) == []


def test_escape_is_slacks_three_entities_and_nothing_more() -> None:
    # Slack: replace &, < and > only; other entities would be shown as typed.
    assert markup.escape("a & b < c > d \"e\" 'f' *g* _h_") == \
        "a &amp; b &lt; c &gt; d \"e\" 'f' *g* _h_"
    assert markup.escape("&lt;already&gt;") == "&amp;lt;already&amp;gt;"  # shown as typed
    assert markup.escape(None) == "" and markup.escape(42) == "42"
    assert markup.escape("bell\x07 nul\x00 tab\t nl\n") == "bell nul tab\t nl\n"


@given(hostile_text())
def test_escaped_text_has_no_tokens_and_round_trips(text: str) -> None:
    escaped = markup.escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert markup.plain_from_slack(escaped) == markup.escape(text).replace(
        "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_code_spans_cannot_be_closed_by_the_data() -> None:
    assert markup.code("v8") == "`v8`"
    assert markup.code("a`*b*`<!here>\nc") == "`aˋ*b*ˋ&lt;!here&gt; c`"
    assert markup.code("") == "` `"


def test_mentions_and_links_only_from_ids_and_urls() -> None:
    assert markup.user("U0SRE0001") == "<@U0SRE0001>"
    assert markup.user("U1><!channel") == "@U1&gt;&lt;!channel"
    assert markup.user("bob") == "@bob"
    assert markup.group("S0MLTEAM1") == "<!subteam^S0MLTEAM1>"
    assert markup.group("S1|x>") == "@S1|x&gt;"
    assert markup.channel("C0ALERTS01") == "<#C0ALERTS01>"
    assert markup.channel("#general") == "##general"
    assert markup.actor("slack:U0SRE0001") == "<@U0SRE0001>"
    assert markup.actor("alert:<!here>") == "alert:&lt;!here&gt;"
    assert markup.link("https://bot.example/v1/incidents/7", "record <7>") == \
        "<https://bot.example/v1/incidents/7|record &lt;7&gt;>"
    assert markup.link("https://x.example/a|<!here>", "label") == "label"
    assert markup.link("javascript:alert(1)", "label") == "label"
    assert markup.link("https://x.example", "a|b") == "<https://x.example|a∣b>"


def test_date_tokens_show_each_reader_their_zone_with_a_utc_fallback() -> None:
    moment = datetime(2026, 12, 1, 4, 9, 58, 360151, tzinfo=UTC)
    assert markup.date(moment) == \
        "<!date^1796098198^{date_short_pretty} {time}|2026-12-01 04:09 UTC>"
    naive = datetime(2026, 12, 1, 4, 9, 58)  # stored naive: UTC by the store's convention
    assert markup.date(naive) == markup.date(moment)
    assert markup.date(moment, "{time}", fallback="<x>").endswith("|&lt;x&gt;>")


def test_text_from_slack_becomes_plain_text() -> None:
    typed = ("see <@U0SRE0002|bob> and <@U0SRE0003> in <#C0ALERTS01|ai-alerts>, "
             "<!here> <!subteam^S0ML|@ml-team> <https://x.example|docs> <https://y.example> "
             "a &lt; b &amp;&amp; c &gt; d, &amp;lt; literally")
    assert markup.plain_from_slack(typed) == (
        "see @bob and @U0SRE0003 in #ai-alerts, @here @ml-team docs (https://x.example) "
        "https://y.example a < b && c > d, &lt; literally")
    assert markup.plain_from_slack(None) == ""


@given(st.text(max_size=40), st.integers(min_value=1, max_value=60))
def test_a_cut_never_splits_an_entity_or_a_token(text: str, limit: int) -> None:
    escaped = markup.escape(text) + " " + markup.user("U0SRE0001")
    shortened = cut(escaped, limit)
    assert len(shortened) <= max(limit, 1)
    assert shortened.count("<") == shortened.count(">")
    for piece in shortened.split("&")[1:]:
        assert piece.startswith(("amp;", "lt;", "gt;")), shortened
