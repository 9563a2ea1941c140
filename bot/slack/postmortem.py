"""Postmortems where the Slack app and the CLI look for them.

``/incident postmortem`` calls ``postmortem_for_slack`` (through
``bot.slack.listeners.commands``); the drafting itself lives in ``bot.reports.postmortem``.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.services import Services
from bot.core.slack_api import SlackCallFailed, call
from bot.incidents import lifecycle
from bot.reports.postmortem import render_postmortem as _render
from bot.views.markup import escape
from store import queries
from store.db import session_scope

log = logging.getLogger(__name__)

PREVIEW_CHARS = 2_800  # a preview that fits one Slack section with its code fence


def render_postmortem(services: Services, incident_id: int) -> str:
    """The incident's postmortem draft as Markdown."""
    return _render(services, incident_id)


def postmortem_for_slack(services: Services, *, incident_id: int, actor: str) -> dict[str, Any]:
    """Draft the postmortem, upload it to the incident's channel, and say so.

    The upload is the whole document (``postmortem-<id>.md``); without a channel or
    a Slack client the reply carries a preview instead. Either way the timeline
    records that a draft was made.
    """
    markdown = render_postmortem(services, incident_id)
    with session_scope(services.engine) as session:
        incident = queries.get_incident(session=session, incident_id=incident_id)
        channel = incident.slack_channel_id if incident is not None else None
    uploaded = False
    if services.slack is not None and channel:
        try:
            call(services.slack, "files_upload_v2", channel=channel,
                 filename=f"postmortem-{incident_id}.md",
                 title=f"Postmortem draft for incident #{incident_id}",
                 content=markdown.encode("utf-8"))
            uploaded = True
        except SlackCallFailed as error:
            log.warning("postmortem of #%s: upload failed: %s", incident_id, error)
    with session_scope(services.engine) as session:
        lifecycle.record(session=session, incident_id=incident_id, actor=actor,
                         kind="postmortem", now=services.clock(),
                         message="postmortem draft " + ("uploaded to the channel" if uploaded
                                                        else "generated"))
    if uploaded:
        return {"response_type": "in_channel",
                "text": f"Postmortem draft for #{incident_id} is attached above as "
                        f"`postmortem-{incident_id}.md`."}
    preview = markdown if len(markdown) <= PREVIEW_CHARS else \
        markdown[:PREVIEW_CHARS].rstrip() + "\n…"
    return {"response_type": "ephemeral",
            "text": f"Postmortem draft for #{incident_id} (the full text: "
                    f"`resilio postmortem {incident_id}`):\n```{escape(preview)}```"}
