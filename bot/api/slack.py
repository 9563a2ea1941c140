"""``POST /slack/events``: events, slash commands and interactivity in one endpoint.

The body is read asynchronously and ``App.dispatch`` runs on a small thread pool of
its own, so a listener never blocks the event loop. Small on purpose: under the
GIL, 40 threads sharing the CPU finish 50 simultaneous acks all at once and late;
two workers finish them first-come first-served, most in a few
milliseconds. Bolt verifies the signature and timestamp (bad or older than five
minutes: 401, nothing runs).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request, Response
from slack_bolt.request import BoltRequest

from bot.services import Services

DISPATCH_WORKERS = 2


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["slack"])
    state: dict[str, Any] = {}
    pool = ThreadPoolExecutor(max_workers=DISPATCH_WORKERS, thread_name_prefix="slack-ack")
    if services.settings.slack_signing_secret:  # built now: no registration on the first ack
        from bot.slack_app import build_slack_app

        state["app"] = build_slack_app(services)

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        if not services.settings.slack_signing_secret:
            return Response("Slack is not configured (SLACK_SIGNING_SECRET)", status_code=503)
        body = (await request.body()).decode("utf-8")
        bolt_request = BoltRequest(body=body, query=request.url.query,
                                   headers={k: v for k, v in request.headers.items()})
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(pool, state["app"].dispatch, bolt_request)
        headers = {k: v[0] for k, v in result.headers.items() if v and k != "content-length"}
        return Response(content=result.body, status_code=result.status, headers=headers)

    return router
