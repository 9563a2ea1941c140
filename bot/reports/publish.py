"""Builds a team's digest for a week, writes the HTML report, and posts it to Slack once.

Posting is idempotent per team and ISO week: the ``digest_posts`` row with the
unique ``(team, week)`` key is claimed (and committed) before Slack is called, so
a second run, a second replica or a retried scheduler job finds it and does
nothing. A post that failed is marked so and may be claimed again; one left
``posting`` by a crashed poster is taken over after ``STALE_CLAIM``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.errors import UserError
from bot.core.slack_api import SlackCallFailed, call
from bot.reports.content import Digest, build_digest
from bot.reports.gather import find_team, gather_inputs
from bot.reports.render import SlackMessage, render_html, render_message, report_name
from bot.reports.weeks import IsoWeek
from bot.slo.compute import RecordLoader
from store import report_queries
from store.db import session_scope
from store.report_models import DigestPost, DigestPostStatus

if TYPE_CHECKING:
    from bot.core.services import Services

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=30)
REPORTS_DIR_ENV = "RESILIO_REPORTS_DIR"


@dataclass(frozen=True)
class RenderedDigest:
    digest: Digest
    html: str
    message: SlackMessage

    @property
    def name(self) -> str:
        return report_name(self.digest)


@dataclass(frozen=True)
class PostOutcome:
    team: str
    week: str
    posted: bool  # False: this digest had been posted (or is being posted) already
    status: str
    path: Path | None = None
    channel: str | None = None
    message_ts: str | None = None
    file_id: str | None = None


def reports_dir(services: Services) -> Path:
    """Where reports are written: ``RESILIO_REPORTS_DIR``, else ``./reports``."""
    configured = getattr(services.settings, "reports_dir", None) or os.environ.get(
        REPORTS_DIR_ENV)
    return Path(configured or "reports")


def render_digest(services: Services, team: str, week: IsoWeek, *,
                  loader: RecordLoader | None = None) -> RenderedDigest:
    digest = build_digest(gather_inputs(services, team, week, loader=loader))
    html = render_html(digest, generated_at=services.clock(), catalog=services.catalog)
    return RenderedDigest(digest, html, render_message(digest, catalog=services.catalog))


def write_report(rendered: RenderedDigest, directory: Path, *,
                 path: Path | None = None) -> Path:
    """Write the HTML to ``path``, else to ``directory`` under its own name."""
    path = path or directory / rendered.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered.html, encoding="utf-8")
    return path


def _post_message(slack: Any, channel: str, message: SlackMessage) -> Any:
    try:
        return call(slack, "chat_postMessage", channel=channel, text=message.text,
                    blocks=message.blocks)
    except SlackCallFailed as error:
        if error.code != "not_in_channel":
            raise
        call(slack, "conversations_join", channel=channel)  # a public channel not joined yet
        return call(slack, "chat_postMessage", channel=channel, text=message.text,
                    blocks=message.blocks)


def _settle(services: Services, post_id: int, **values: Any) -> None:
    with session_scope(services.engine) as session:
        post = session.get(DigestPost, post_id)
        if post is None:
            return
        for key, value in values.items():
            setattr(post, key, value)
        session.add(post)


def post_digest(services: Services, team_name: str, week: IsoWeek | None = None, *,
                loader: RecordLoader | None = None, directory: Path | None = None,
                path: Path | None = None) -> PostOutcome:
    """Post the team's digest for ``week`` (default: the last complete week) once.

    The message goes to the team's channel and the HTML report is uploaded into
    its thread (``files_upload_v2``) and written to ``path`` (else into ``directory``,
    else ``reports_dir``).
    """
    if services.slack is None:
        raise UserError("posting a digest needs Slack: set SLACK_BOT_TOKEN")
    team = find_team(services, team_name)
    week = week or IsoWeek.last_complete(services.clock())
    with session_scope(services.engine) as session:
        existing = report_queries.digest_post(session=session, team=team.name, week=str(week))
        if existing is not None and existing.status == DigestPostStatus.posted.value:
            return PostOutcome(team.name, str(week), False, existing.status,
                               Path(existing.path) if existing.path else None, existing.channel,
                               existing.message_ts, existing.file_id)
    rendered = render_digest(services, team.name, week, loader=loader)
    path = write_report(rendered, directory or reports_dir(services), path=path)
    now = services.clock()
    with session_scope(services.engine) as session:
        claim = report_queries.claim_digest_post(session=session, team=team.name,
                                                 week=str(week), channel=team.channel, now=now,
                                                 stale_before=now - STALE_CLAIM)
        if claim is None:
            current = report_queries.digest_post(session=session, team=team.name,
                                                 week=str(week))
            status = current.status if current is not None else "unknown"
            log.info("digest %s %s: already %s, not posting again", team.name, week, status)
            return PostOutcome(team.name, str(week), False, status, path, team.channel)
        post_id = claim.id
    assert post_id is not None
    try:
        reply = _post_message(services.slack, team.channel, rendered.message)
        upload = call(
            services.slack, "files_upload_v2", channel=team.channel, thread_ts=reply["ts"],
            filename=rendered.name, title=f"Reliability digest {team.name} {week}",
            content=rendered.html.encode("utf-8"))
    except Exception as error:
        _settle(services, post_id, status=DigestPostStatus.failed.value, path=str(path),
                error=str(error)[:2000])
        raise
    files = upload.get("files") or [upload.get("file") or {}]
    file_id = (files[0] or {}).get("id")
    _settle(services, post_id, status=DigestPostStatus.posted.value, path=str(path),
            message_ts=reply["ts"], file_id=file_id, posted_at=services.clock())
    log.info("digest %s %s posted to %s", team.name, week, team.channel)
    return PostOutcome(team.name, str(week), True, DigestPostStatus.posted.value, path,
                       team.channel, reply["ts"], file_id)
