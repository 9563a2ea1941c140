"""Usage text for the slash commands: what ``help`` shows and what a wrong command gets."""

from __future__ import annotations

from typing import Any

from bot.views.markup import escape
from bot.views.text import cut, section

INCIDENT_USAGE = """*`/incident`* — inside an incident channel, or with the incident id elsewhere \
(`/incident ack 12`).
• `declare` — open a new incident (a form asks for title, service, severity)
• `ack` · `mitigate` · `resolve` · `reopen` — change its status (resolve asks for a summary)
• `status` — the current summary · `timeline` — everything that happened
• `assign <commander|scribe|liaison> @user` — give someone a role
• `severity <critical|page|high|warning|low|info>` — change the severity
• `note <text>` — add a note to the timeline
• `relabel <label>` — correct the diagnosis (infrastructure, data, control_plane, model, \
eval_policy, cost, none)
• `followup <text>` — record a follow-up action · `postmortem` — draft the postmortem
• `list` — open incidents · `help` — this message"""

RUNBOOK_USAGE = """*`/runbook`*
• `list` — the runbooks this bot knows (in an incident channel, suggested ones first)
• `run <name> [key=value ...]` — start a runbook on the channel's incident"""

SLO_USAGE = "*`/slo [service]`* — service levels and burn rates; *`/budget [service]`* — error \
budgets left"


def usage_blocks(usage: str, problem: str | None = None) -> list[dict[str, Any]]:
    blocks = []
    if problem:
        blocks.append(section(cut(f":warning: {escape(problem)}", 2900)))
    blocks.append(section(escape(usage)))  # its <placeholders> would parse as links
    return blocks
