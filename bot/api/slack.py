"""``POST /slack/events``: events, slash commands and interactivity in one endpoint.

Slack wants an answer within 3 seconds; Resilio aims at p99 under 50 ms with 50
requests at once. Before anything else a request is checked for what would
otherwise crash or cost: a ``X-Slack-Request-Timestamp`` that is not whole
seconds (400), a body over the webhooks' limit (413, read as a stream so a huge
body is never held), a body that is not UTF-8 (400). Then its signature: a bad
one or one older than five minutes is 401 (Bolt), and one seen before in this
process is a replay: acked with an empty 200, nothing runs (:mod:`bot.slack.replay`).

A verified slash command or button click whose ack the route can give itself
(:mod:`bot.slack.fast_ack`: the listener's own ack function, picked as Bolt picks
it) is answered at once, and the request is handed to Bolt's ``App.dispatch``
after its burst, in its sender's turn (the ack gate, :mod:`bot.slack.acks`): Bolt
runs every middleware and listener then, and the work its listeners queue runs
in that same turn. Anything else is acked by ``App.dispatch`` right here on the
event loop, as before: every ack function is I/O-free, the bot's own Slack ids
come from memory (:class:`bot.slack.app.BotIdentity`), and the work after the ack
goes to the background pool.

This is a raw ASGI app, answered before FastAPI's middleware and router
(``bot.app.http``): for a raw signed body they have nothing to do, and on a burst
of 50 their per-request cost showed in every ack.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.request.internals import extract_user_id
from slack_bolt.response import BoltResponse
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from bot.api.guards import receive_body, utf8
from bot.core.services import Services
from bot.slack.acks import acks_first
from bot.slack.app import build_slack_app, learn_identity
from bot.slack.fast_ack import FastAcks
from bot.slack.replay import ReplayCache, SignedRequest, current_request
from bot.slack.request_body import bolt_request, content_type, parse_body
from bot.slack.verification import SigningKey

log = logging.getLogger(__name__)

_TIMESTAMP_DIGITS = 12  # seconds since 1970 fit in 11 digits until the year 5138
_TEXT = (b"content-type", b"text/plain; charset=utf-8")

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body


def _timestamp(raw: str | None) -> int | None:
    """The signing timestamp, None when absent (Bolt answers 401); 400 when malformed."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _TIMESTAMP_DIGITS):
        raise HTTPException(400, "X-Slack-Request-Timestamp must be whole seconds since 1970 "
                                 f"(digits only), got {raw[:40]!r}")
    return int(raw)


def _plain(status: int, text: str, *extra: tuple[bytes, bytes]) -> Answer:
    return status, [_TEXT, *extra], text.encode()


def _from_bolt(result: BoltResponse) -> Answer:
    headers = [(name.encode("latin-1"), values[0].encode("latin-1"))
               for name, values in result.headers.items() if values and name != "content-length"]
    return result.status, headers, str(result.body).encode()


class SlackEvents:
    """The ASGI app answering ``POST /slack/events`` for one bot."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.gate = acks_first(services)
        self.replays = ReplayCache()
        self.secret = services.settings.slack_signing_secret
        self.key = SigningKey(self.secret) if self.secret else None
        # built now: none on the first ack
        self.app: App | None = build_slack_app(services) if self.secret else None
        self.fast = FastAcks(self.app) if self.app is not None else None
        if self.app is not None:
            services.submit(learn_identity, services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer: Answer | None = _plain(405, "Method Not Allowed", (b"allow", b"POST"))
        if scope["method"] == "POST":
            try:
                answer = await self._answer(scope, receive)
            except Exception:  # what FastAPI's error middleware did for this route
                log.exception("Slack request failed")
                answer = _plain(500, "Internal Server Error")
        if answer is None:
            return  # the client left before its body arrived
        status, headers, body = answer
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive) -> Answer | None:
        if self.app is None or self.key is None:
            return _plain(503, "Slack is not configured (SLACK_SIGNING_SECRET)")
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"]}
        try:
            timestamp = _timestamp(headers.get("x-slack-request-timestamp"))
            raw = await receive_body(receive, headers.get("content-length"),
                                     self.services.settings.max_body_bytes)
            if raw is None:
                return None
            body = utf8(raw)
        except HTTPException as error:
            return _plain(error.status_code, str(error.detail))
        signature = headers.get("x-slack-signature", "")
        signed = None
        if timestamp is not None and self.key.is_valid(raw, str(timestamp), signature):
            if not self.replays.first_time(signature, timestamp):
                # Acked like the first (Slack sees a delivered request) but not dispatched.
                return 200, [(b"x-resilio-replay", b"ignored")], b""
            signed = SignedRequest(signature, body=body)
        query = scope.get("query_string", b"").decode("latin-1")
        self.gate.request_seen()
        try:
            return self._acked(body, query, headers, signed)
        finally:
            self.gate.request_answered()

    def _acked(self, body: str, query: str, headers: dict[str, str],
               signed: SignedRequest | None) -> Answer:
        """The ack: given here and dispatched after the burst, or by Bolt now."""
        assert self.app is not None and self.fast is not None
        try:
            parsed = parse_body(body, content_type(headers))
            if not isinstance(parsed, dict):
                raise ValueError("its JSON is not an object")
        except ValueError as error:  # Bolt would fail on it with a 500
            if signed is not None:
                return _plain(400, f"body is not a Slack request: {error}")
            parsed = {}  # Bolt refuses it on its signature (401) before reading it
        if signed is not None:
            answer = self.fast.answer(parsed, headers)
            if answer is not None:
                self.gate.defer(self.services, self._dispatch_acked, after=extract_user_id(parsed),
                                body=body, query=query, headers=headers, signed=signed,
                                sent=answer)
                return _from_bolt(answer)
        request = bolt_request(body, query, headers, parsed)
        token = current_request.set(signed)
        try:
            return _from_bolt(self.app.dispatch(request))
        finally:
            current_request.reset(token)

    def _dispatch_acked(self, *, body: str, query: str, headers: dict[str, str],
                        signed: SignedRequest, sent: BoltResponse) -> Any:
        """Bolt's dispatch of a request the route acked: every listener runs as always,
        and the ack it gives (to nobody now) is only compared with the one sent."""
        assert self.app is not None
        token = current_request.set(signed)
        try:
            with self.gate.in_turn():
                result = self.app.dispatch(bolt_request(body, query, headers))
        finally:
            current_request.reset(token)
        if (result.status, str(result.body)) != (sent.status, str(sent.body)):
            log.error("Slack request acked with %s %r, but Bolt answered it %s %r",
                      sent.status, str(sent.body)[:200], result.status, str(result.body)[:200])
        return result


def build_route(services: Services) -> SlackEvents:
    return SlackEvents(services)
