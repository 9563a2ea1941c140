"""``POST /slack/events``: events, slash commands and interactivity in one endpoint.

Slack wants an answer within 3 seconds; Resilio aims at p99 under 50 ms with 50
requests at once. Before anything else a request is checked for what would
otherwise crash or cost: a ``X-Slack-Request-Timestamp`` that is not whole
seconds (400), a body over the webhooks' limit (413, read as a stream so a huge
body is never held), a body that is not UTF-8 (400). Then its signature: a bad
one or one older than five minutes is 401 (Bolt), and one seen before in this
process is a replay: acked with an empty 200, nothing runs (:mod:`bot.slack.replay`).

A verified request is acked by Bolt's ``App.dispatch``, which costs well under a
millisecond: every ack function is I/O-free, the bot's own Slack ids come from
memory (:class:`bot.slack.app.BotIdentity`), and the work after the ack goes to
the background pool. So dispatch runs right here on the event loop: a hop to a
thread pool made each ack wait for the GIL behind other threads and the loop, and
sent a burst's answers out together instead of one by one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException

from bot.api.guards import read_body, utf8
from bot.core.services import Services
from bot.slack.acks import acks_first
from bot.slack.app import build_slack_app, learn_identity
from bot.slack.replay import ReplayCache, SignedRequest, current_request
from bot.slack.request_body import bolt_request
from bot.slack.verification import signature_is_valid

_TIMESTAMP_DIGITS = 12  # seconds since 1970 fit in 11 digits until the year 5138


def _timestamp(request: Request) -> int | None:
    """The signing timestamp, None when absent (Bolt answers 401); 400 when malformed."""
    raw = request.headers.get("x-slack-request-timestamp")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _TIMESTAMP_DIGITS):
        raise HTTPException(400, "X-Slack-Request-Timestamp must be whole seconds since 1970 "
                                 f"(digits only), got {raw[:40]!r}")
    return int(raw)


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["slack"])
    gate = acks_first(services)
    replays = ReplayCache()
    secret = services.settings.slack_signing_secret
    app = build_slack_app(services) if secret else None  # built now: none on the first ack
    if app is not None:
        services.submit(learn_identity, services)

    async def slack_events(request: Request) -> Response:
        if app is None or secret is None:
            return Response("Slack is not configured (SLACK_SIGNING_SECRET)", status_code=503)
        try:
            timestamp = _timestamp(request)
            raw = await read_body(request, services)
            body = utf8(raw)
        except HTTPException as error:
            return PlainTextResponse(str(error.detail), status_code=error.status_code)
        signature = request.headers.get("x-slack-signature", "")
        signed = None
        if timestamp is not None and signature_is_valid(secret, raw, str(timestamp), signature):
            if not replays.first_time(signature, timestamp):
                # Acked like the first (Slack sees a delivered request) but not dispatched.
                return Response(status_code=200, headers={"X-Resilio-Replay": "ignored"})
            signed = SignedRequest(signature, body=body)
        gate.request_seen()
        parsed = bolt_request(body, request.url.query, {k: v for k, v in request.headers.items()})
        token = current_request.set(signed)
        try:
            result = app.dispatch(parsed)
        finally:
            current_request.reset(token)
        gate.request_answered()
        headers = {k: v[0] for k, v in result.headers.items() if v and k != "content-length"}
        return Response(content=result.body, status_code=result.status, headers=headers)

    # A plain Starlette route: FastAPI's dependency and validation layer has nothing
    # to do for a raw signed body, and costs about as much as the dispatch itself.
    router.add_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
    return router
