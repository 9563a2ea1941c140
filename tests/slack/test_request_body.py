"""The ack path parses Slack bodies itself (``bot.slack.request_body``): the result must
be Bolt's own, byte for byte, for real payloads and for hostile or malformed bodies."""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.devtools.slack_emulator import payloads
from bot.slack.request_body import bolt_request, form_fields, parse_body

MESSAGE = {"type": "message", "ts": "1700000000.000100", "user": "U0BOT",
           "text": "Incident #12 \u2014 *RAG* <b>=&+%</b> caf\u00e9 \U0001f525",
           "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a=b&c+d %41"}}]}


def _real_bodies() -> list[tuple[str, str]]:
    click = payloads.block_actions(
        user="U0SRE0001", channel="C0INC00001", channel_name="inc", message=MESSAGE,
        action={"action_id": "incident.ack", "text": {"type": "plain_text", "text": "Ack"},
                "value": "12"}, block_id="summary.actions", trigger_id="t1",
        response_url="http://127.0.0.1:1/response/x")
    note = payloads.slash_command(
        command="/incident", text="note caf\u00e9 50% done & more = less + \"quoted\"",
        user="U0SRE0001", channel="C0INC00001", channel_name="inc", trigger_id="t2",
        response_url="http://127.0.0.1:1/response/y")
    return [payloads.encode("interactive", click), payloads.encode("slash_commands", note)]


def _random_text(rng: random.Random) -> str:
    alphabet = ["%", "%4", "%41", "%e2%80%99", "%E2%82%AC", "%zz", "%ff", "=", "&", "+",
                "\r", "\n", "\t", " ", "a", "Z", "0", "\u00e9", "\U0001f525", "\x00",
                "payload", "%3D", "%26", "%2B", "%25", "%0A"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def test_form_fields_match_parse_qsl_on_random_bodies() -> None:
    rng = random.Random(18)
    for _ in range(5000):
        body = _random_text(rng)
        assert form_fields(body) == dict(parse_qsl(body, keep_blank_values=True)), repr(body)


def test_percent_escapes_decode_as_unquote_plus_does() -> None:
    """The C decoding is taken only when every ``%`` begins an escape: broken ones
    (``%``, ``%4``, ``%%41``, ``%zz``, a last ``%``) among valid ones go to ``unquote``."""
    rng = random.Random(1818)
    alphabet = ["%", "%4", "%41", "%%41", "%e2%80%99", "%E2%82", "%zz", "%ff", "%C3%A9",
                "%3D", "%26", "%25", "%0A", "%0d", "+", "a", "Z", "0", " ", "\u00e9", "_"]
    for _ in range(5000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        assert form_fields(f"payload={value}") == {"payload": unquote_plus(value)}, value


@pytest.mark.parametrize("index", [0, 1])
def test_real_payloads_parse_as_bolt_parses_them(index: int) -> None:
    body, content_type = _real_bodies()[index]
    assert parse_body(body, content_type) == bolt_parse_body(body, content_type)
    headers = {"content-type": content_type, "x-slack-signature": "v0=abc",
               "x-slack-request-timestamp": "1700000000"}
    ours, bolts = bolt_request(body, "a=1", headers), BoltRequest(body=body, query="a=1",
                                                                   headers=headers)
    for name in ("raw_body", "body", "query", "headers", "content_type", "lazy_only",
                 "lazy_function_name", "mode"):
        assert getattr(ours, name) == getattr(bolts, name), name
    assert dict(ours.context) == dict(bolts.context)


def test_odd_bodies_parse_as_bolt_parses_them() -> None:
    payload = json.dumps({"type": "block_actions", "text": "x=y%zz\r\n"})
    for body in ["", "{}", "payload=", "payload", "a=1&&b=&c", "payload=" + quote(payload),
                 "payload=" + payload.replace('"', "%22"), "x=%E2%28%A1",
                 urlencode({"payload": payload, "payload2": "="})]:
        content_type = "application/x-www-form-urlencoded"
        try:
            expected = bolt_parse_body(body, content_type)
        except json.JSONDecodeError:
            with pytest.raises(json.JSONDecodeError):
                parse_body(body, content_type)
            continue
        assert parse_body(body, content_type) == expected, body
