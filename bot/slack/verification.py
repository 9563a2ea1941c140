"""Slack's signature checked once a request: by the HTTP route, or else by Bolt.

The route verifies every signature before dispatch (it needs the verdict to turn
replays away, :mod:`bot.slack.replay`), and Bolt's ``RequestVerification`` then
computed the same HMAC over the same body again. This middleware takes Bolt's
place, at the same point of Bolt's chain (before authorization), and skips the
check only for the very body the route verified: the one it handed to
``App.dispatch`` with its signature (``current_request``). Any other request, from
any other caller, is verified as Bolt verifies it, and refused with Bolt's 401.

The route's own check (:class:`SigningKey`) is ``SignatureVerifier.is_valid``
hashing the body in pieces under 2 KB: hashlib lets go of the GIL for a larger
buffer, and on the event loop that let a waiting thread in before the next ack.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.replay import current_request

WINDOW_SECONDS = 5 * 60  # Slack's (and slack_sdk's) limit on a signature's age
_PIECE = 2047  # hashlib releases the GIL for 2048 bytes or more


class SigningKey:
    """Slack's v0 signature check (``slack_sdk.signature.SignatureVerifier.is_valid``) with
    one secret, whose HMAC key is prepared once: ``hmac.new`` pads the key and hashes
    two blocks with it on every call, a twentieth of an ack's own work."""

    def __init__(self, secret: str) -> None:
        self._keyed = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def is_valid(self, body: bytes, timestamp: str, signature: str,
                 now: float | None = None) -> bool:
        try:
            if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_SECONDS:
                return False
        except ValueError:
            return False
        digest = self._keyed.copy()
        digest.update(f"v0:{timestamp}:".encode())
        for start in range(0, len(body), _PIECE):
            digest.update(body[start:start + _PIECE])
        return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


def signature_is_valid(secret: str, body: bytes, timestamp: str, signature: str,
                       now: float | None = None) -> bool:
    """Slack's v0 signature check (``slack_sdk.signature.SignatureVerifier.is_valid``)."""
    return SigningKey(secret).is_valid(body, timestamp, signature, now)


class VerifiedOnce(RequestVerification):
    """Bolt's signature check, skipped for the request the route has just verified."""

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        signed = current_request.get()
        if (signed is not None and signed.body is not None and signed.body is req.raw_body
                and req.headers.get("x-slack-signature", [""])[0] == signed.signature):
            return next()
        return super().process(req=req, resp=resp, next=next)
