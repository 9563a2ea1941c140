"""Slack's signature checked once a request: by the HTTP route, or else by Bolt.

The route verifies every signature before dispatch (it needs the verdict to turn
replays away, :mod:`bot.slack.replay`), and Bolt's ``RequestVerification`` then
computed the same HMAC over the same body again. This middleware takes Bolt's
place, at the same point of Bolt's chain (before authorization), and skips the
check only for the very body the route verified: the one it handed to
``App.dispatch`` with its signature (``current_request``). Any other request, from
any other caller, is verified as Bolt verifies it, and refused with Bolt's 401.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.replay import current_request


class VerifiedOnce(RequestVerification):
    """Bolt's signature check, skipped for the request the route has just verified."""

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        signed = current_request.get()
        if (signed is not None and signed.body is not None and signed.body is req.raw_body
                and req.headers.get("x-slack-signature", [""])[0] == signed.signature):
            return next()
        return super().process(req=req, resp=resp, next=next)
