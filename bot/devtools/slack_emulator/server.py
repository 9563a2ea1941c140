"""``SlackEmulator``: Slack on 127.0.0.1, both sides of the conversation.

Towards the bot it is the Web API (point ``SLACK_API_URL`` at ``emulator.url``):
every call is authenticated, checked against the published spec (method and
required arguments), run against the in-memory workspace and recorded. Towards
the people it plays Slack's client side: ``slash_command``, ``click``,
``submit_view`` and ``react`` send correctly signed requests to the app over HTTP,
or through the Socket Mode endpoint when ``transport == "socket"``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from bot.devtools.slack_emulator import markup, payloads
from bot.devtools.slack_emulator.limits import blocks_errors
from bot.devtools.slack_emulator.methods import METHODS
from bot.devtools.slack_emulator.socket_mode import SocketModeServer
from bot.devtools.slack_emulator.spec import MethodSpec, load_methods
from bot.devtools.slack_emulator.workspace import Message, SlackError, Workspace


@dataclass
class Call:
    """One Web API call as the emulator saw it."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class Delivery:
    """What the app answered to one request Slack sent it."""

    status: int
    body: Any
    latency: float
    payload: dict[str, Any] = field(default_factory=dict)


class SlackEmulator:
    def __init__(self, *, bot_token: str = "xoxb-emulator-bot-token",
                 app_token: str = "xapp-emulator-app-token",
                 signing_secret: str = "emulator-signing-secret",
                 spec_path: str | Path | None = None) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.methods: dict[str, MethodSpec] = load_methods(spec_path)
        self.workspace = Workspace()
        self.calls: list[Call] = []
        self.violations: list[str] = []  # calls that broke the spec: a bug in the caller
        self.unknown_arguments: list[str] = []  # arguments the spec does not list
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.acks: list[dict[str, Any]] = []  # what the app answered in its acks (the body)
        self.app_url: str | None = None
        self.transport = "http"
        self.socket = SocketModeServer()
        self._rate_limits: dict[str, list[float]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._response_ids = itertools.count(1)
        self._response_channels: dict[str, str] = {}
        self._http = httpx.Client(timeout=10)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> SlackEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                emulator._serve(self)

            def do_POST(self) -> None:  # noqa: N802
                emulator._serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="slack-emulator", daemon=True).start()
        self.socket.start()
        return self

    def stop(self) -> None:
        self.socket.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._http.close()

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the emulator first"
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # the socket module's type allows bytes; IPv4 gives str
            host = host.decode()
        return f"http://{host}:{port}/"

    @property
    def url(self) -> str:
        """The Web API base URL, the value for ``SLACK_API_URL``."""
        return self.base + "api/"

    # -- test controls -------------------------------------------------------------------
    def rate_limit(self, method: str, *, retry_after: float = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get HTTP 429 ``ratelimited``."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def channel_by_name(self, name: str) -> Any:
        return next((c for c in self.workspace.channels.values() if c.name == name), None)

    # -- markup checks -------------------------------------------------------------------
    def live_markup(self) -> list[markup.LiveToken]:
        """Every token Slack would act on in every text the app sent: messages, edits,
        ephemerals, topics, views, ``response_url`` replies and ack bodies."""
        with self._lock:
            calls = list(self.calls)
            responses = list(self.responses)
        found = [token for call in calls for token in markup.scan(call.method, call.args)]
        found += [token for body in responses for token in markup.scan("response_url", body)]
        with self._lock:
            acks = list(self.acks)
        found += [token for body in acks for token in markup.scan("ack", body)]
        return found

    def untrusted_markup(self, untrusted: Iterable[str]) -> list[markup.LiveToken]:
        """The live tokens the app let through from ``untrusted`` text (what an alert, a
        signal or a person sent it), plus any broadcast mention at all, plus calls that
        ask Slack to parse bare ``@mentions`` (``parse=full``, ``link_names``).

        A token the app itself makes (an owner's mention, its own link) is not in the
        untrusted text, so it is not reported; the same token typed into an alert is.
        """
        planted = {token for text in untrusted for token in markup.live_tokens(text)}
        found = [t for t in self.live_markup() if t.kind == "broadcast" or t.token in planted]
        with self._lock:
            calls = list(self.calls)
        found += [markup.LiveToken(c.method, "parse", "parse=full or link_names", "bare")
                  for c in calls if markup.parses_bare_mentions(c.args)]
        return found

    def assert_inert(self, untrusted: Iterable[str]) -> None:
        """Fail, saying where, if any text the app sent carries live markup from ``untrusted``."""
        found = self.untrusted_markup(list(untrusted))
        assert not found, "untrusted text reached Slack as live markup:\n" + "\n".join(
            f"  {t.method} {t.where}: {t.token} ({t.kind})" for t in found[:20])

    # -- the Web API ---------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if parsed.path.startswith("/api/"):
            status, body, headers = self._api(parsed.path[5:], parsed.query, raw,
                                              request.headers)
        elif parsed.path.startswith("/response/"):
            status, body, headers = self._response_url(parsed.path[10:], raw)
        elif parsed.path.startswith("/upload/"):
            status, body, headers = self._upload(parsed.path[8:], raw)
        else:
            status, body, headers = 404, {"ok": False, "error": "not_found"}, {}
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    def _arguments(self, query: str, raw: bytes, headers: Any) -> dict[str, Any]:
        args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        kind = headers.get("Content-Type", "")
        if raw and "application/json" in kind:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise SlackError("json_not_object")
            args.update(body)
        elif raw and "multipart/form-data" not in kind:
            args.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
        return args

    def _api(self, method: str, query: str, raw: bytes, headers: Any
             ) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            args = self._arguments(query, raw, headers)
        except (ValueError, SlackError):
            return (*self._record(method, {}, 200, {"ok": False, "error": "invalid_json"}), {})
        token = args.pop("token", None)
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        spec = self.methods.get(method)
        if spec is None or (method not in METHODS and method != "apps.connections.open"):
            self.violations.append(f"{method}: not a Web API method the emulator knows")
            return (*self._record(method, args, 404, {"ok": False, "error": "unknown_method"}), {})
        with self._lock:
            pending = self._rate_limits.get(method)
            retry_after = pending.pop(0) if pending else None
        if retry_after is not None:
            status, body = self._record(method, args, 429, {"ok": False, "error": "ratelimited"})
            return status, body, {"Retry-After": str(int(retry_after))}
        if not token:
            return (*self._record(method, args, 200, {"ok": False, "error": "not_authed"}), {})
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            error = "not_allowed_token_type" if token in (self.app_token, self.bot_token) \
                else "invalid_auth"
            return (*self._record(method, args, 200, {"ok": False, "error": error}), {})
        missing = sorted(name for name in spec.required if args.get(name) in (None, ""))
        if missing:
            self.violations.append(f"{method}: missing required {', '.join(missing)}")
            body = {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": [f"[ERROR] missing required field: {m}"
                                                       for m in missing]}}
            return (*self._record(method, args, 200, body), {})
        unknown = sorted(set(args) - spec.required - spec.optional)
        if unknown and spec.optional | spec.required:
            # Slack ignores extra arguments (slack_sdk adds team_id for org apps): note only.
            self.unknown_arguments.append(f"{method}: {', '.join(unknown)}")
        try:
            with self.workspace.lock:
                if method == "apps.connections.open":
                    result = {"url": self.socket.url}
                else:
                    result = METHODS[method](self.workspace, args, self.workspace.bot_user)
            body = {"ok": True, **result}
            if "upload_url" in body:
                body["upload_url"] = body["upload_url"].replace("{base}", self.base)
        except SlackError as error:
            body = {"ok": False, "error": error.code, **error.extra}
        return (*self._record(method, args, 200, body), {})

    def _record(self, method: str, args: dict[str, Any], status: int,
                body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, args, body.get("ok", False), body.get("error"),
                                   status))
        return status, body

    def _response_url(self, response_id: str, raw: bytes
                      ) -> tuple[int, Any, dict[str, str]]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, b"invalid_payload", {}
        errors = blocks_errors(body.get("blocks", []))
        if errors:
            return 400, b"invalid_blocks", {}
        with self._lock:
            self.responses.append(dict(body, response_id=response_id))
        channel = body.get("_channel") or self._response_channels.get(response_id)
        if channel:
            kind = "message" if body.get("response_type") == "in_channel" else "ephemeral"
            self.workspace.note(channel, self.workspace.bot_user, kind,
                                body.get("text", ""), blocks=body.get("blocks"))
        return 200, b"ok", {}

    def _upload(self, file_id: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        file = self.workspace.files.get(file_id)
        if file is None:
            return 404, b"not_found", {}
        file["content"] = raw
        return 200, b"OK - " + str(len(raw)).encode(), {}

    # -- the people's side: requests Slack sends to the app ------------------------------
    def _new_response_url(self, channel: str) -> str:
        response_id = str(next(self._response_ids))
        self._response_channels[response_id] = channel
        return f"{self.base}response/{response_id}"

    def deliver(self, kind: str, payload: dict[str, Any], *, signed: bool = True,
                timestamp: int | None = None) -> Delivery:
        """Send one request to the app the way Slack would; returns its answer."""
        if self.transport == "socket":
            ack, latency = self.socket.deliver(kind, payload)
            return Delivery(200 if ack else 0, (ack or {}).get("payload"), latency, payload)
        if self.app_url is None:
            raise RuntimeError("set emulator.app_url to the app's /slack/events URL")
        body, content_type = payloads.encode(kind, payload)
        headers = {"Content-Type": content_type}
        if signed:
            headers.update(payloads.sign(self.signing_secret, body, timestamp))
        started = time.perf_counter()
        reply = self._http.post(self.app_url, content=body, headers=headers)
        latency = time.perf_counter() - started
        try:
            answer: Any = reply.json() if reply.content else None
        except ValueError:
            answer = reply.text
        self._check_ack(kind, answer)
        return Delivery(reply.status_code, answer, latency, payload)

    def _check_ack(self, kind: str, answer: Any) -> None:
        """An ack with a body is a message (or view errors) Slack shows: keep it, check it."""
        if not isinstance(answer, dict):
            return
        with self._lock:
            self.acks.append(answer)
        if "blocks" in answer:
            errors = blocks_errors(answer["blocks"])
            if errors:
                self.violations.append(f"{kind} ack: invalid blocks: {'; '.join(errors)}")

    def slash_command(self, command: str, text: str = "", *, user: str,
                      channel: str) -> Delivery:
        channel_name = self.workspace.channels[channel].name \
            if channel in self.workspace.channels else "directmessage"
        payload = payloads.slash_command(
            command=command, text=text, user=user, channel=channel, channel_name=channel_name,
            trigger_id=self.workspace.issue_trigger(),
            response_url=self._new_response_url(channel))
        self.workspace.note(channel, user, "command", f"{command} {text}".strip())
        return self.deliver("slash_commands", payload)

    def click(self, channel: str, ts: str, action_id: str, *, user: str) -> Delivery:
        """Press the button ``action_id`` (or whose action_id starts with it) on a message."""
        target = self.workspace.channel(channel)
        message = target.message(ts)
        block_id, action = _find_action(message, action_id)
        label = action.get("text", {}).get("text", action_id)
        self.workspace.note(channel, user, "click", label, ts=ts)
        payload = payloads.block_actions(
            user=user, channel=channel, channel_name=target.name,
            message={"type": "message", "ts": message.ts, "user": message.user,
                     "text": message.text, "blocks": message.blocks},
            action=action, block_id=block_id, trigger_id=self.workspace.issue_trigger(),
            response_url=self._new_response_url(channel))
        return self.deliver("interactive", payload)

    def submit_view(self, view_id: str, values: dict[str, Any], *, user: str) -> Delivery:
        view = self.workspace.views[view_id]
        return self.deliver("interactive",
                            payloads.view_submission(user=user, view=view, values=values))

    def last_view(self) -> dict[str, Any]:
        return list(self.workspace.views.values())[-1]

    def post_as(self, user: str, channel: str, text: str) -> str:
        """A person writes in a channel; returns the message ts."""
        with self.workspace.lock:
            target = self.workspace.channel(channel)
            target.members.add(user)
            message = Message(self.workspace.next_ts(), user, text, [])
            target.messages.append(message)
            self.workspace.note(channel, user, "message", text, ts=message.ts)
        return message.ts

    def react(self, channel: str, ts: str, name: str, *, user: str) -> Delivery:
        with self.workspace.lock:
            message = self.workspace.react(user, channel, ts, name)
        event = {"type": "reaction_added", "user": user, "reaction": name,
                 "item_user": message.user, "item": {"type": "message", "channel": channel,
                                                     "ts": ts},
                 "event_ts": f"{time.time():.6f}"}
        return self.deliver("events_api", payloads.event_callback(event))


def _find_action(message: Message, action_id: str) -> tuple[str, dict[str, Any]]:
    for block in message.blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else \
            [block["accessory"]] if isinstance(block.get("accessory"), dict) else []
        for element in elements:
            if element.get("action_id", "").startswith(action_id):
                return block.get("block_id", ""), element
    raise KeyError(f"no button {action_id!r} on message {message.ts}")
