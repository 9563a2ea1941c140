"""Calling the Slack Web API from background work: retry what Slack asks us to retry,
name what failed, and put failures on the incident's timeline.

A side effect that fails (a channel that could not be created, an invite refused)
must leave a trace the responders can see, not a log line nobody reads and not a
half-made incident: ``bot.incidents.service.record_failure`` writes it as a timeline event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.config.oncall_schedule import Target

log = logging.getLogger(__name__)

MAX_RETRIES = 3
MAX_WAIT_SECONDS = 60.0


class SlackCallFailed(Exception):
    """A Web API call failed for good; ``code`` is Slack's error string."""

    def __init__(self, method: str, code: str, response: Any = None) -> None:
        super().__init__(f"{method}: {code}")
        self.method = method
        self.code = code
        self.response = response


def call(client: Any, method: str, *, sleep: Callable[[float], None] = time.sleep,
         retries: int = MAX_RETRIES, **arguments: Any) -> Any:
    """``client.<method>(**arguments)``, waiting out ``ratelimited`` as ``Retry-After`` says.

    Raises :class:`SlackCallFailed` with Slack's error code for every other error,
    so callers branch on ``name_taken`` or ``already_in_channel`` without touching
    slack_sdk's exception.
    """
    for attempt in range(retries + 1):
        try:
            return getattr(client, method)(**arguments)
        except SlackApiError as error:
            response = error.response
            code = response.get("error", "unknown_error") if response is not None else "unknown"
            if code == "ratelimited" or getattr(response, "status_code", 0) == 429:
                if attempt == retries:
                    raise SlackCallFailed(method, "ratelimited", response) from None
                wait = float(response.headers.get("Retry-After", 1) or 1)
                log.info("Slack %s rate-limited; retrying in %.0f s", method, wait)
                sleep(min(wait, MAX_WAIT_SECONDS))
                continue
            raise SlackCallFailed(method, code, response) from None
    raise AssertionError("unreachable")


def expand(services: Any, targets: Sequence[Target]) -> list[str]:
    """The users a page plan's targets name: a group stands for its members, once each."""
    users: list[str] = []
    for target in targets:
        if target.kind == "user":
            users.append(target.id)
        else:
            response = call(services.slack, "usergroups_users_list", usergroup=target.id)
            users.extend(response.get("users", []))
    return list(dict.fromkeys(users))
