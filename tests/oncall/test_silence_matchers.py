"""Alertmanager matcher syntax and silence windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.silences.matchers import Matcher, MatcherError, parse_matchers
from bot.silences.silence import Silence, silencing

RAG = {"service": "rag-assistant", "alertname": "GroundednessLow", "severity": "page"}
CHECKOUT = {"service": "checkout", "alertname": "HighLatency"}


@pytest.mark.parametrize(("text", "rag", "checkout"), [
    ('service="rag-assistant"', True, False),
    ('{service="rag-assistant", alertname=~"Ground.*"}', True, False),
    ('alertname=~"Ground"', False, False),           # anchored: the whole value
    ('service!="checkout", severity="page"', True, False),
    ('alertname!~"High.*", severity="page"', True, False),
    ("service=checkout", False, True),               # bare value
    ('service=~"rag-.*|checkout"', True, True),
    ('team!="ml", service="checkout"', False, True),  # missing label reads as ""
])
def test_matchers(text: str, rag: bool, checkout: bool) -> None:
    matchers = parse_matchers(text)
    assert all(m.matches(RAG) for m in matchers) is rag
    assert all(m.matches(CHECKOUT) for m in matchers) is checkout


def test_quoted_values_keep_commas_quotes_and_braces() -> None:
    [matcher] = parse_matchers(r'summary="a, \"b\" {c}"')
    assert matcher == Matcher("summary", "=", 'a, "b" {c}')
    assert parse_matchers(str(matcher)) == [matcher]  # str() reads back as itself


@pytest.mark.parametrize(("text", "says"), [
    ("", "no matchers"),
    ("{}", "no matchers"),
    ('team!="ml"', "match every alert"),
    ('alertname=~".*"', "match every alert"),
    ('service="x" alertname="y"', "expected ','"),
    ('service=="x"', "expected a value"),
    ('service~"x"', "expected one of"),
    ('service="x', "unclosed quote"),
    ('alertname=~"(unclosed"', "bad regular expression"),
    ('{service="x"', "expected '}'"),
    ('1service="x"', "expected a label name"),
])
def test_bad_matchers_say_where(text: str, says: str) -> None:
    with pytest.raises(MatcherError, match=says):
        parse_matchers(text)


def test_silence_window_expiry_and_early_end() -> None:
    start = datetime(2026, 12, 1, 3, tzinfo=UTC)
    silence = Silence(id=1, matchers=tuple(parse_matchers('service="rag-assistant"')),
                      starts_at=start, ends_at=start + timedelta(hours=2),
                      created_by="U0ALICE01", comment="re-indexing")
    assert silence.state(start - timedelta(minutes=1)) == "pending"
    assert silencing([silence], RAG, start + timedelta(minutes=30)) is silence
    assert silencing([silence], CHECKOUT, start + timedelta(minutes=30)) is None
    assert silencing([silence], RAG, start + timedelta(hours=2)) is None  # expired
    assert silence.state(start + timedelta(hours=2)) == "expired"
    ended = Silence(**{**silence.__dict__, "ended_at": start + timedelta(minutes=10)})
    assert silencing([ended], RAG, start + timedelta(minutes=30)) is None
