"""The ack Bolt would answer, computed by the route itself when it is sure of it.

On a burst of 50 requests the p99 of the acks is the server's CPU for the whole
burst, and Bolt's ``App.dispatch`` was most of what the bot adds to each request
(~0.3 ms: its middleware chain, listener matching, and its keyword injection, which
builds every argument any listener could ask for, twice a request). Yet the answer
of a slash command or a button click is decided by one I/O-free ack function
(:func:`bot.slack.listeners.common.acked`) from the request body alone.

So :meth:`FastAcks.answer` finds the listener Bolt would run, the way Bolt finds it
(the app's listeners in their order, each one's own matcher functions), calls that
listener's ack function with a real Bolt ``Ack`` and the parts Bolt would give it,
and returns the ``BoltResponse`` Bolt would have returned. The route sends it and
hands the request to ``App.dispatch`` once the burst is answered
(:mod:`bot.api.slack`): Bolt then runs every middleware and listener as always, and
its ack, given after the HTTP answer left, is only compared with what was sent.
This is Bolt's own ``process_before_response`` split (the ack inline, the rest
after), moved one step earlier.

Anything it is not sure of gets ``None`` and goes through Bolt at once, as before:
a request kind other than a slash command or a block action; an app whose
middleware chain holds anything but Bolt's defaults and our signature check; a
listener with its own middleware, lazy functions, or a matcher that needs more than
the body; an ack function that asks for more than the body, raises, returns
something, or does not ack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.listener import Listener
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.request.payload_utils import (
    is_block_actions,
    is_slash_command,
    to_action,
    to_command,
)
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

# Bolt's default chain for this app (bot.slack.app), each known to let a signed slash
# command or block action through untouched: the SSL check and URL verification answer
# other kinds, the authorization always finds our single bot (BotIdentity), self events
# are events, and the function token is for workflow functions.
PASSING_MIDDLEWARE = frozenset({
    "SslCheck", "VerifiedOnce", "MultiTeamsAuthorization", "IgnoringSelfEvents",
    "UrlVerification", "AttachingFunctionToken",
})
# Headers that change what Bolt runs (its own lazy-listener re-entry); not signed.
BOLT_HEADERS = ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name")

# The request parts an ack function may ask for here, each built as Bolt builds it.
_PARTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "body": lambda body: body,
    "command": to_command,
    "action": to_action,
}


@dataclass(frozen=True)
class AckStep:
    """The I/O-free ack of one listener and the parts of the request it asks for by name
    (set on the listener by :func:`bot.slack.listeners.common.acked`)."""

    function: Callable[..., Any]
    wants: tuple[str, ...]


ACK_STEP = "resilio_ack_step"  # the attribute of a listener function holding its AckStep


@dataclass(frozen=True)
class _Candidate:
    """One of the app's listeners, in Bolt's order: its matchers, and its ack when the
    route may give it (None: a request this listener matches goes through Bolt)."""

    matches: tuple[Callable[[dict[str, Any]], bool], ...] | None
    step: AckStep | None


def _candidate(listener: Listener) -> _Candidate:
    matchers = listener.matchers
    readable = all(isinstance(m, BuiltinListenerMatcher) and m.arg_names == ["body"]
                   for m in matchers)
    matches = tuple(m.func for m in matchers) if readable else None  # type: ignore[attr-defined]
    step = getattr(listener.ack_function, ACK_STEP, None)
    if (listener.middleware or listener.lazy_functions or listener.auto_acknowledgement
            or not isinstance(step, AckStep) or not set(step.wants) <= {"ack", *_PARTS}):
        step = None
    return _Candidate(matches, step)


class FastAcks:
    """``answer(body, headers)``: the response Bolt's dispatch would return, or None."""

    def __init__(self, app: App) -> None:
        chain = [type(m).__name__ for m in app._middleware_list]  # noqa: SLF001 - Bolt's chain
        self.enabled = set(chain) <= PASSING_MIDDLEWARE
        if not self.enabled:
            log.info("Slack acks go through Bolt: its middleware holds %s",
                     sorted(set(chain) - PASSING_MIDDLEWARE))
        self._candidates = [_candidate(listener) for listener in app._listeners]  # noqa: SLF001

    def answer(self, body: dict[str, Any],
               headers: Mapping[str, object]) -> BoltResponse | None:
        if not self.enabled or any(name in headers for name in BOLT_HEADERS):
            return None
        try:
            if not (is_slash_command(body) or is_block_actions(body)) or "ssl_check" in body \
                    or body.get("event") is not None or body.get("type") == "url_verification":
                return None
            step = self._first_match(body)
            return None if step is None else _ack(step, body)
        except Exception:  # noqa: BLE001 - whatever it is, Bolt answers it as it would
            return None

    def _first_match(self, body: dict[str, Any]) -> AckStep | None:
        """The ack of the first listener whose matchers all match, as Bolt picks it."""
        for candidate in self._candidates:
            if candidate.matches is None:
                return None  # a matcher that needs more than the body: ask Bolt
            if all(match(body) for match in candidate.matches):
                return candidate.step
        return None  # none matches: Bolt's answer for that (404) is its own


def _ack(step: AckStep, body: dict[str, Any]) -> BoltResponse | None:
    ack = Ack()
    parts = {name: ack if name == "ack" else _PARTS[name](body) for name in step.wants}
    if step.function(**parts) is not None:
        return None  # Bolt would answer with what it returned: not ours to guess
    return ack.response
