"""Last act: this week's digest for each team as HTML, and a postmortem of one incident."""

from __future__ import annotations

from bot.demo.context import DemoContext
from bot.reports.publish import render_digest, write_report
from bot.reports.weeks import IsoWeek
from bot.slack.postmortem import render_postmortem
from store import queries
from store.db import session_scope


def _incident_for_postmortem(ctx: DemoContext) -> int | None:
    """The most telling incident: diagnosed ones first, then resolved, then the latest."""
    with session_scope(ctx.services.engine) as session:
        incidents = queries.list_incidents(session=session, limit=1000)
        ranked = sorted(incidents, key=lambda i: (i.behavior is not None,
                                                  i.resolved_at is not None, i.id or 0))
        return ranked[-1].id if ranked else None


def act(ctx: DemoContext) -> None:
    ctx.heading("Weekly digest and a postmortem, from the record")
    services = ctx.services
    week = IsoWeek.containing(services.clock())
    digests: dict[str, str] = {}
    silent_degradations: dict[str, int] = {}
    written: dict[str, object] = {"week": str(week), "digests": digests,
                                  "silent_degradations": silent_degradations}
    for team in services.catalog.teams:
        rendered = render_digest(services, team.name, week)
        path = write_report(rendered, ctx.out)
        digests[team.name] = str(path)
        total = rendered.digest.total.this_week
        silent = rendered.digest.sources.silent
        silent_degradations[team.name] = silent
        ctx.say(f"  {team.name} {week}: {total.count} incident(s), "
                f"{silent} silent degradation{'' if silent == 1 else 's'} found by the detector, "
                f"{len(rendered.digest.slos)} SLO(s), "
                f"{len(rendered.message.blocks)} Slack blocks -> {path.name}")
    incident_id = _incident_for_postmortem(ctx)
    if incident_id is not None:
        path = ctx.out / f"postmortem-{incident_id}.md"
        path.write_text(render_postmortem(services, incident_id), encoding="utf-8")
        written["postmortem"] = str(path)
        ctx.say(f"  postmortem of incident #{incident_id} -> {path.name}")
    ctx.summary["reports"] = written
