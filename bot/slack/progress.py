"""A runbook run's progress in Slack: one message per run, kept up to date, and a thread
under it with every step's news (the ``runbook.progress`` event)."""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from slack_sdk import WebClient

from bot import runbook_runs
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.views import runbooks as views
from bot.views.markup import escape
from bot.views.text import cut


class ProgressPoster:
    """Posts ``runbook.progress`` in a thread under one message per run, kept up to date."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.threads: dict[int, tuple[str, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, services: Services, run_id: int, incident_id: int, text: str) -> None:
        incident = incident_service.get_incident(services, incident_id)
        channel = incident.slack_channel_id
        if not channel:
            return
        with self.lock:  # one parent per run; the state is read under the lock, so a late
            # event never rolls the parent message back to an older status
            view = runbook_runs.run_view(services, run_id=run_id)
            blocks = views.run_message(view)
            summary = escape(f"Runbook {view['runbook']} (run {run_id}): {view['status']}")
            known = self.threads.get(run_id)
            if known is None:
                posted = self.client.chat_postMessage(channel=channel, text=summary,
                                                      blocks=blocks)
                known = self.threads[run_id] = (channel, posted["ts"])
            else:
                self.client.chat_update(channel=known[0], ts=known[1], text=summary,
                                        blocks=blocks)
            self.client.chat_postMessage(channel=known[0], thread_ts=known[1],
                                         text=cut(escape(text), 3000))


_POSTERS: WeakKeyDictionary[Services, ProgressPoster] = WeakKeyDictionary()


def post_progress_to(services: Services, client: WebClient) -> None:
    """Subscribe one :class:`ProgressPoster` to ``runbook.progress`` (once per ``services``:
    every Slack app built on them shares it, so a run never gets two parent messages)."""
    if services in _POSTERS:
        return
    poster = _POSTERS[services] = ProgressPoster(client)
    services.events.subscribe("runbook.progress", poster)
