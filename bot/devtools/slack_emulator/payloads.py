"""What Slack sends to an app: slash commands, interactions, events, and their signature.

Shapes follow Slack's documentation of each payload; only the fields an app reads
are filled in. ``sign`` is the v0 scheme: HMAC-SHA256 of ``v0:{timestamp}:{body}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

TEAM = {"id": "T0RESILIO", "domain": "resilio-emulated"}
APP_ID = "A0RESILIO1"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command(*, command: str, text: str, user: str, channel: str, channel_name: str,
                  trigger_id: str, response_url: str) -> dict[str, str]:
    return {"token": "legacy-verification-token", "team_id": TEAM["id"],
            "team_domain": TEAM["domain"], "channel_id": channel, "channel_name": channel_name,
            "user_id": user, "user_name": user.lower(), "command": command, "text": text,
            "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id}


def block_actions(*, user: str, channel: str, channel_name: str, message: dict[str, Any],
                  action: dict[str, Any], block_id: str, trigger_id: str,
                  response_url: str) -> dict[str, Any]:
    clicked = {"type": action.get("type", "button"), "action_id": action["action_id"],
               "block_id": block_id, "action_ts": f"{time.time():.6f}"}
    if "text" in action:
        clicked["text"] = action["text"]
    if "value" in action:
        clicked["value"] = action["value"]
    return {"type": "block_actions", "user": {"id": user, "username": user.lower(),
                                              "team_id": TEAM["id"]},
            "api_app_id": APP_ID, "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": message["ts"],
                          "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id, "team": TEAM,
            "channel": {"id": channel, "name": channel_name}, "message": message,
            "response_url": response_url, "actions": [clicked]}


def _state_entry(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")
    if kind in ("static_select", "external_select"):
        for option in element.get("options", []):
            if option["value"] == value:
                return {"type": kind, "selected_option": option}
        return {"type": kind, "selected_option": {"value": value,
                                                  "text": {"type": "plain_text", "text": value}}}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    return {"type": kind, "value": value}


def view_submission(*, user: str, view: dict[str, Any], values: dict[str, Any]
                    ) -> dict[str, Any]:
    """``values`` maps an input block's block_id to what the person entered."""
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input" or block.get("block_id") not in values:
            continue
        element = block["element"]
        state[block["block_id"]] = {element["action_id"]:
                                    _state_entry(element, values[block["block_id"]])}
    unknown = set(values) - set(state)
    if unknown:
        raise KeyError(f"no input block with block_id {sorted(unknown)} in the view")
    submitted = dict(view, state={"values": state})
    return {"type": "view_submission", "team": TEAM,
            "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
            "api_app_id": APP_ID, "token": "legacy-verification-token",
            "trigger_id": f"{uuid.uuid4().int % 10**10}.trigger", "view": submitted,
            "response_urls": []}


def event_callback(event: dict[str, Any]) -> dict[str, Any]:
    return {"token": "legacy-verification-token", "team_id": TEAM["id"], "api_app_id": APP_ID,
            "event": event, "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM["id"], "user_id": "U0BOT00001",
                                "is_bot": True}]}


def encode(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """The HTTP body and content type Slack uses for each kind of request."""
    if kind == "slash_commands":
        return urlencode(payload), "application/x-www-form-urlencoded"
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    return json.dumps(payload), "application/json"
