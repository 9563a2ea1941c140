"""The route's own acks (bot.slack.fast_ack) are Bolt's, to the byte, or not given at all.

Each request is answered twice: by ``FastAcks.answer`` and by the real Bolt app's
``dispatch`` (which verifies the signature itself here); both must be the same
status, headers and body. What the fast path is not sure of must get None, and then
go through Bolt as before.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from slack_bolt import App

from bot.devtools.slack_emulator import payloads
from bot.slack.app import build_slack_app
from bot.slack.fast_ack import FastAcks
from bot.slack.request_body import bolt_request, content_type, parse_body
from tests.slack.conftest import GENERAL, SRE, Bot
from tests.slack.test_commands import declare

SUMMARY_ACTIONS = ("incident.ack", "incident.mitigate", "incident.resolve", "incident.relabel")


def signed(bot: Bot, kind: str, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    body, media = payloads.encode(kind, payload)
    headers = {"content-type": media, **{k.lower(): v for k, v in
                                         payloads.sign(bot.slack.signing_secret, body).items()}}
    return body, headers


def command(bot: Bot, name: str, text: str) -> tuple[str, dict[str, str]]:
    return signed(bot, "slash_commands", payloads.slash_command(
        command=name, text=text, user=SRE, channel=GENERAL, channel_name="general",
        trigger_id=bot.slack.workspace.issue_trigger(),
        response_url=bot.slack._new_response_url(GENERAL)))


def click(bot: Bot, message: dict[str, Any], action_id: str) -> tuple[str, dict[str, str]]:
    action = next(e for b in message["blocks"] if b.get("type") == "actions"
                  for e in b["elements"] if e["action_id"] == action_id)
    return signed(bot, "interactive", payloads.block_actions(
        user=SRE, channel=message["channel"], channel_name="inc", message=message,
        action=action, block_id="summary.actions",
        trigger_id=bot.slack.workspace.issue_trigger(),
        response_url=bot.slack._new_response_url(message["channel"])))


def both(app: App, body: str, headers: dict[str, str]) -> tuple[Any, Any]:
    fast = FastAcks(app).answer(parse_body(body, content_type(headers)), headers)
    bolts = app.dispatch(bolt_request(body, "", headers))
    return fast, bolts


def summary_message(bot: Bot) -> dict[str, Any]:
    incident = declare(bot)
    message = bot.slack.workspace.channel(incident.slack_channel_id).message(
        incident.slack_summary_ts)
    return {"type": "message", "ts": message.ts, "user": message.user, "text": message.text,
            "blocks": message.blocks, "channel": incident.slack_channel_id}


@pytest.mark.parametrize("name, text", [
    ("/incident", "note rolled back"), ("/incident", "ack"), ("/incident", "frobnicate"),
    ("/incident", "help"), ("/incident", ""), ("/incident", "note <!channel> *bold*"),
    ("/runbook", "explode"), ("/runbook", "list"), ("/oncall", "help"),
    ("/oncall", "swap tomorrow"), ("/silence", "nonsense here"), ("/slo", ""),
])
def test_a_commands_ack_is_bolts_ack(bot: Bot, name: str, text: str) -> None:
    app = build_slack_app(bot.services)
    fast, bolts = both(app, *command(bot, name, text))
    assert fast is not None, "a known command is acked by the route"
    assert (fast.status, fast.headers, fast.body) == (bolts.status, bolts.headers, bolts.body)
    bot.settle()


def test_a_clicks_ack_is_bolts_ack(bot: Bot) -> None:
    message = summary_message(bot)
    app = build_slack_app(bot.services)
    for action_id in SUMMARY_ACTIONS:
        fast, bolts = both(app, *click(bot, message, action_id))
        assert fast is not None, action_id
        assert (fast.status, fast.headers, fast.body) == (bolts.status, bolts.headers, bolts.body)
    bot.settle()


def test_what_the_route_is_not_sure_of_goes_to_bolt(bot: Bot) -> None:
    app = build_slack_app(bot.services)
    fast = FastAcks(app)
    body, headers = command(bot, "/incident", "note x")
    parsed = parse_body(body, content_type(headers))
    assert fast.answer(parsed, headers) is not None
    for header in ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name"):
        assert fast.answer(parsed, {**headers, header: "1"}) is None  # Bolt's lazy re-entry
    assert fast.answer({**parsed, "command": "/no-such-command"}, headers) is None
    assert fast.answer({**parsed, "ssl_check": "1"}, headers) is None
    view = payloads.view_submission(user=SRE, view={"id": "V1", "callback_id": "incident.declare",
                                                    "blocks": []}, values={})
    assert fast.answer(view, headers) is None  # a view's ack may read the catalog
    event = payloads.event_callback({"type": "app_mention", "user": SRE, "text": "hi",
                                     "channel": GENERAL, "ts": "1.2"})
    assert fast.answer(event, headers) is None
    broken = {"type": "block_actions", "actions": [], "user": {"id": SRE}}
    assert fast.answer(broken, headers) is None  # Bolt fails on it in its own way
    bot.settle()


def test_an_app_with_middleware_or_matchers_it_cannot_read_is_left_to_bolt(bot: Bot) -> None:
    app = build_slack_app(bot.services)
    body, headers = command(bot, "/incident", "note x")
    parsed = parse_body(body, content_type(headers))

    @app.middleware
    def extra(next: Any) -> Any:  # noqa: A002 - Bolt's name
        return next()

    assert not FastAcks(app).enabled and FastAcks(app).answer(parsed, headers) is None
    other = build_slack_app(bot.services)
    assert FastAcks(other).answer(parsed, headers) is not None
    matcher = other._listeners[0].matchers[0]  # noqa: SLF001 - the first listener's
    matcher.arg_names = ["body", "context"]  # a matcher that needs more than the body
    assert FastAcks(other).answer(parsed, headers) is None
    bot.settle()


def test_the_route_acks_then_bolt_runs_every_listener(bot: Bot,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Over HTTP: the ack is the listener's, the work runs, Bolt agrees with what was sent."""
    incident = declare(bot)
    with caplog.at_level(logging.ERROR, logger="bot.api.slack"):
        bad = bot.slack.slash_command("/incident", "severity apocalyptic", user=SRE,
                                      channel=incident.slack_channel_id)
        noted = bot.slack.slash_command("/incident", "note rolled back <!here>", user=SRE,
                                        channel=incident.slack_channel_id)
        bot.settle()
    assert bad.status == 200 and "not a severity" in bad.body["text"]
    assert noted.status == 200 and noted.body is None
    reply = bot.slack.responses[-1]
    assert "rolled back" in reply["text"] and "<!here>" not in reply["text"]
    assert not [r for r in caplog.records if "Bolt answered" in r.getMessage()]


def test_a_signed_body_that_is_not_a_slack_request_is_a_400(bot: Bot) -> None:
    url = f"{bot.server.url}/slack/events"
    for body in ("payload=%7Bnot-json", "payload=12"):
        headers = {"content-type": "application/x-www-form-urlencoded",
                   **payloads.sign(bot.slack.signing_secret, body)}
        answer = httpx.post(url, content=body, headers=headers, timeout=10)
        assert answer.status_code == 400 and "not a Slack request" in answer.text
    unsigned = httpx.post(url, content="payload=%7Bnot-json", timeout=10,
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401  # Bolt's refusal, before anything reads the body
    assert httpx.get(url, timeout=10).status_code == 405
    assert httpx.get(f"{bot.server.url}/healthz", timeout=10).status_code == 200  # FastAPI's


def test_the_route_answers_its_path_with_a_trailing_slash(bot: Bot) -> None:
    """A Request URL typed as ``.../slack/events/`` is the same route: Slack follows no
    redirect, and a 404 would be a Slack app that silently never answers."""
    incident = declare(bot)
    bot.slack.app_url = f"{bot.server.url}/slack/events/"
    noted = bot.slack.slash_command("/incident", "note through the slash", user=SRE,
                                    channel=incident.slack_channel_id)
    bot.settle()
    assert noted.status == 200 and "through the slash" in bot.slack.responses[-1]["text"]
    body, headers = command(bot, "/incident", "note unsigned")
    unsigned = httpx.post(f"{bot.server.url}/slack/events/", content=body, timeout=10,
                          headers={"content-type": headers["content-type"]})
    assert unsigned.status_code == 401  # the same signature check
    for path in ("/slack/events//", "/slack/event/", "/slack/"):
        assert httpx.post(f"{bot.server.url}{path}", content=body, headers=headers,
                          timeout=10).status_code == 404, path
