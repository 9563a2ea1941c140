"""``POST /slack/events``: events, slash commands and interactivity in one endpoint.

Slack wants an answer within 3 seconds; Resilio aims at p99 under 50 ms with 50
requests at once. Each request is verified (bad signature or older than five
minutes: 401, nothing runs) and acked by Bolt's ``App.dispatch``, which costs
well under a millisecond: every ack function is I/O-free and the work after the
ack goes to the background pool. So dispatch runs right here on the event loop:
a hop to a thread pool made each ack wait for the GIL behind other threads and
the loop, and sent a burst's answers out together instead of one by one.

The exception is Bolt's one Web API call, ``auth.test``, made on the first
request that needs it: until its result is known (it is fetched at start-up),
dispatch runs on a small pool of its own so it never blocks the loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request, Response
from slack_bolt.request import BoltRequest

from bot.services import Services
from bot.slack_app import ack_path_is_io_free, acks_first, build_slack_app, learn_identity

DISPATCH_WORKERS = 2


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["slack"])
    state: dict[str, Any] = {"io_free": False}
    pool = ThreadPoolExecutor(max_workers=DISPATCH_WORKERS, thread_name_prefix="slack-ack")
    gate = acks_first(services)
    if services.settings.slack_signing_secret:  # built now: no registration on the first ack
        state["app"] = build_slack_app(services)
        services.submit(learn_identity, state["app"])

    async def slack_events(request: Request) -> Response:
        if not services.settings.slack_signing_secret:
            return Response("Slack is not configured (SLACK_SIGNING_SECRET)", status_code=503)
        gate.request_seen()
        body = (await request.body()).decode("utf-8")
        bolt_request = BoltRequest(body=body, query=request.url.query,
                                   headers={k: v for k, v in request.headers.items()})
        app = state["app"]
        if state["io_free"] or ack_path_is_io_free(app):
            state["io_free"] = True
            result = app.dispatch(bolt_request)
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(pool, app.dispatch, bolt_request)
        gate.request_answered()
        headers = {k: v[0] for k, v in result.headers.items() if v and k != "content-length"}
        return Response(content=result.body, status_code=result.status, headers=headers)

    # A plain Starlette route: FastAPI's dependency and validation layer has nothing
    # to do for a raw signed body, and costs about as much as the dispatch itself.
    router.add_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
    return router

