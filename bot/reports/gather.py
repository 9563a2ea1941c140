"""Reads what one team's digest needs from the store into ``DigestInputs``.

The only part of the digest that does I/O: signal records through a
``RecordLoader`` (the store by default, so tests and benchmarks can hand records
in), incidents and runbook runs through ``store.report_queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config.slo_spec import SLO
from bot.core.errors import NotFound
from bot.reports.inputs import DigestInputs, IncidentFact, PageFact, RunFact, ServiceData
from bot.reports.weeks import IsoWeek
from bot.slo.compute import RecordLoader, store_loader
from store import report_queries
from store.db import session_scope

if TYPE_CHECKING:
    from bot.config.catalog import Team
    from bot.core.services import Services

HISTORY_WEEKS = 6


def find_team(services: Services, name: str) -> Team:
    for team in services.catalog.teams:
        if team.name == name:
            return team
    known = ", ".join(team.name for team in services.catalog.teams) or "none in the catalog"
    raise NotFound(f"unknown team {name!r} (teams: {known})")


def records_start(slos: Sequence[SLO], week: IsoWeek) -> datetime:
    """The earliest record a digest of ``week`` reads: the previous week's SLO windows."""
    before = week.previous()
    starts = [slo.window_bounds(before.start)[0] for slo in slos]
    return min([before.start, *starts])


def gather_inputs(services: Services, team_name: str, week: IsoWeek, *,
                  loader: RecordLoader | None = None,
                  history_weeks: int = HISTORY_WEEKS) -> DigestInputs:
    team = find_team(services, team_name)
    load = loader or store_loader(services)
    data = []
    for name in team.services:
        entry = services.catalog.service(name)
        slos = tuple(entry.slos) if entry is not None else ()
        records = load(name, records_start(slos, week), week.end)
        data.append(ServiceData(name=name, slos=slos, records=records))
    since = week.previous(max(2, history_weeks) - 1).start
    with session_scope(services.engine) as session:
        incidents = report_queries.incidents_of_services(session=session,
                                                         services=list(team.services),
                                                         since=since, until=week.end)
        facts = [IncidentFact.of(incident) for incident in incidents]
        runs = report_queries.runs_of_incidents(
            session=session, incident_ids=[i.id for i in incidents if i.id is not None])
        run_facts = [RunFact.of(run) for run in runs]
        pages = [PageFact(incident_id, user, at) for incident_id, user, at in
                 report_queries.pages_of_incidents(
                     session=session, incident_ids=[f.id for f in facts])]
        silenced = report_queries.silenced_alerts(session=session, services=list(team.services),
                                                  since=week.start, until=week.end)
    return DigestInputs(team=team.name, channel=team.channel, week=week, services=tuple(data),
                        incidents=tuple(facts), runs=tuple(run_facts),
                        history_weeks=history_weeks, pages=tuple(pages), silenced=silenced,
                        timezone=team.digest.timezone)
