"""The emulator itself: it must refuse what Slack refuses, or the other tests prove nothing."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.devtools.slack_emulator import SlackEmulator, render_transcript
from bot.devtools.slack_emulator.spec import BUNDLED, extract_methods, load_methods
from tests.slack.conftest import SPEC


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.url)


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


def test_bundled_extract_matches_the_reference_spec() -> None:
    from importlib import resources

    if SPEC is None:
        pytest.skip("Slack's reference spec is not on this machine")
    bundled = yaml.safe_load(resources.files("bot.devtools.slack_emulator")
                             .joinpath(BUNDLED).read_text())
    assert bundled == extract_methods(json.loads(SPEC.read_text()))
    methods = load_methods(SPEC)
    assert "channel" in methods["chat.postMessage"].required  # from the spec
    assert "name" in methods["conversations.create"].required  # a documented gap
    assert "files.completeUploadExternal" in methods  # missing from the 2020 spec


def test_channel_names_follow_slacks_rules(client: WebClient) -> None:
    for name, error in [("Inc-1", "invalid_name_specials"), ("inc 1", "invalid_name_specials"),
                        ("inc.1", "invalid_name_specials"), ("x" * 81, "invalid_name_maxlength"),
                        ("--", "invalid_name_punctuation")]:
        assert error_of(lambda n=name: client.conversations_create(name=n)) == error
    assert client.conversations_create(name="x" * 80)["ok"]
    assert error_of(lambda: client.conversations_create(name="x" * 80)) == "name_taken"


def test_auth_and_missing_arguments(slack: SlackEmulator, client: WebClient) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=slack.url)
    assert error_of(bad.auth_test) == "invalid_auth"
    assert error_of(lambda: client.api_call("chat.postMessage", json={"text": "hi"})) \
        == "invalid_arguments"
    assert slack.violations == ["chat.postMessage: missing required channel"]
    assert error_of(lambda: client.api_call("chat.fly", json={})) == "unknown_method"
    slack.violations.clear()


def test_channel_membership_errors(slack: SlackEmulator, client: WebClient) -> None:
    slack.workspace.add_user("U1")
    assert error_of(lambda: client.chat_postMessage(channel="C404", text="x")) \
        == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C0ALERTS01", text="x")) \
        == "not_in_channel"
    channel = client.conversations_create(name="room")["channel"]["id"]
    client.conversations_invite(channel=channel, users="U1")
    assert error_of(lambda: client.conversations_invite(channel=channel, users="U1")) \
        == "already_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="x" * 40_001)) \
        == "msg_too_long"


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(**overrides: str) -> dict:
    return {"type": "actions", "elements": [dict(
        {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go",
         "value": "1"}, **{k: v for k, v in overrides.items() if k != "label"},
        **({"text": {"type": "plain_text", "text": overrides["label"]}}
           if "label" in overrides else {}))]}


@pytest.mark.parametrize("blocks", [
    [section("ok")] * 51,
    [section("x" * 3001)],
    [button(label="x" * 76)],
    [button(value="v" * 2001)],
    [button(action_id="a" * 256)],
    [{"type": "no_such_block"}],
])
def test_block_limits(client: WebClient, blocks: list) -> None:
    channel = client.conversations_create(name="limits")["channel"]["id"]
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="t", blocks=blocks)) \
        == "invalid_blocks"


def select(options: int = 1, value: str = "v", label: str = "Pick",
           placeholder: str = "choose") -> dict:
    return {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": label},
            "element": {"type": "static_select", "action_id": "a",
                        "placeholder": {"type": "plain_text", "text": placeholder},
                        "options": [{"text": {"type": "plain_text", "text": f"o{i}"},
                                     "value": value} for i in range(options)]}}


@pytest.mark.parametrize("blocks", [
    [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
    [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}],
])
def test_more_block_limits(client: WebClient, blocks: list) -> None:
    """Slack's other documented limits: 10 fields, text objects of 1 to 3,000 characters."""
    channel = client.conversations_create(name="more-limits")["channel"]["id"]
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="t", blocks=blocks)) \
        == "invalid_blocks"


@pytest.mark.parametrize("block", [
    select(options=101), select(value="v" * 151), select(label="l" * 2001),
    select(placeholder="p" * 151),
    {"type": "input", "label": {"type": "plain_text", "text": "x"},
     "element": {"type": "plain_text_input", "action_id": "a", "max_length": 10,
                 "initial_value": "x" * 11}},
])
def test_view_input_limits(client: WebClient, block: dict) -> None:
    view = {"type": "home", "blocks": [block]}
    assert error_of(lambda: client.views_publish(user_id="U0SRE0001", view=view)) \
        == "invalid_arguments"
    assert client.views_publish(user_id="U0SRE0001",
                                view={"type": "home", "blocks": [select(options=100)]})["ok"]


def test_limits_at_the_edge_are_accepted(client: WebClient) -> None:
    channel = client.conversations_create(name="edges")["channel"]["id"]
    blocks = [section("x" * 3000), button(label="x" * 75, value="v" * 2000, action_id="a" * 255)]
    assert client.chat_postMessage(channel=channel, text="t", blocks=blocks * 25)["ok"]


def test_ratelimited_carries_retry_after(slack: SlackEmulator) -> None:
    slack.rate_limit("chat.postMessage", retry_after=7)
    reply = httpx.post(slack.url + "chat.postMessage", json={"channel": "C0GENERAL1",
                                                             "text": "hi"},
                       headers={"Authorization": f"Bearer {slack.bot_token}"})
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"
    assert reply.json() == {"ok": False, "error": "ratelimited"}
    assert slack.calls_to("chat.postMessage")[-1].status == 429


def test_files_upload_v2_and_transcript(slack: SlackEmulator, client: WebClient) -> None:
    channel = client.conversations_create(name="files")["channel"]["id"]
    client.files_upload_v2(channel=channel, content="postmortem text", filename="pm.md",
                           title="Postmortem")
    assert [c.method for c in slack.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal", "files.completeUploadExternal"]
    posted = client.chat_postMessage(channel=channel, text="hello", blocks=[section("*hi*")])
    client.pins_add(channel=channel, timestamp=posted["ts"])
    text = render_transcript(slack, channel)
    assert "created the channel #files" in text and "Postmortem (15 bytes)" in text
    assert "[pinned]: hello" in text and "*hi*" in text
