"""Block Kit for ``/slo`` and ``/budget``, and text lines for summaries, from SLO statuses.

Pure builders: statuses (``SLOStatus`` or their ``to_dict()`` form) in, plain
dicts out, so the Slack listeners, the CLI and the tests share one rendering and
nothing here touches Slack. Names are escaped where they enter Slack text
(``bot.views.markup``); ``status_row`` stays plain for the CLI. Messages stay
within Slack's limits (50 blocks, 3,000 characters per section text): one section
per service holds a compact table of its objectives, and what does not fit is
counted, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.views.markup import escape
from bot.views.text import cut

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
STATUS_MARK = {"ok": ":large_green_circle: ok", "ticket": ":large_yellow_circle: ticket",
               "page": ":red_circle: page", "exhausted": ":black_circle: exhausted",
               "no_data": ":white_circle: no data"}


def _as_dict(status: Any) -> dict[str, Any]:
    return status if isinstance(status, dict) else status.to_dict()


def percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def burn(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}x"


def duration(seconds: float | None) -> str:
    """``3d 4h``, ``5h 10m``, ``12m``; ``—`` when the budget never runs out at this rate."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def status_row(status: dict[str, Any]) -> str:
    """One objective as one line of the table."""
    return (f"{status['slo'][:24]:<24} {percent(status['attainment']):>8} "
            f"{percent(status['budget_remaining'], 1):>8} {burn(status['burn_rate']):>7} "
            f"{duration(status['time_to_exhaustion_seconds']):>8}  {status['status']}")


HEADER_ROW = f"{'objective':<24} {'attain':>8} {'left':>8} {'burn':>7} {'exhausts':>8}  status"


def _service_section(service: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    title = f"*{escape(service)}*\n"
    fence = "```"
    lines = [HEADER_ROW]
    budget = MAX_SECTION_TEXT - len(title) - 2 * len(fence) - 40
    shown = 0
    for row in rows:
        line = escape(status_row(row))
        if sum(len(x) + 1 for x in lines) + len(line) > budget:
            break
        lines.append(line)
        shown += 1
    more = f"\n_and {len(rows) - shown} more objectives_" if shown < len(rows) else ""
    return {"type": "section",
            "text": {"type": "mrkdwn", "text": f"{title}{fence}{chr(10).join(lines)}{fence}{more}"}}


def slo_table_blocks(statuses: Sequence[Any], *, title: str = "Service levels") -> list[dict]:
    """A header, then one table section per service, then a legend; at most 50 blocks."""
    rows = [_as_dict(status) for status in statuses]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": cut(escape(title), 150) or "Service levels"}}]
    if not rows:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": "No SLOs are defined for this service in `resilio.yml`."}})
        return blocks
    services: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        services.setdefault(row["service"], []).append(row)
    names = list(services)
    room = MAX_BLOCKS - len(blocks) - 1  # keep one block for the legend or "more"
    for name in names[:room]:
        blocks.append(_service_section(name, services[name]))
    alarming = [r for r in rows if r["status"] in ("page", "ticket", "exhausted")]
    footer = "attain: attainment over the window · left: error budget left · burn: last hour"
    if alarming:
        footer = (f"{len(alarming)} objective(s) need attention: "
                  + ", ".join(f"{escape(r['service'])}/{escape(r['slo'])} "
                              f"{STATUS_MARK[r['status']]}" for r in alarming[:8])
                  + " · " + footer)
    if len(names) > room:
        footer = f"{len(names) - room} more services not shown · " + footer
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": cut(footer, 2000)}]})
    return blocks


def impact_lines(budget_impact: dict[str, Any], *, limit: int = 10) -> list[str]:
    """Lines for an incident summary or postmortem: each SLO's share of its window budget."""
    slos = budget_impact.get("slos") or {}
    ranked = sorted(slos.items(), key=lambda item: -(item[1].get("share") or 0.0))
    lines = []
    for name, value in ranked[:limit]:
        share = value.get("share")
        text = (f"{name}: {percent(share, 1)} of the {value.get('window', '')} budget "
                f"({value.get('excess_bad', 0):.4g} bad {value.get('unit', 'units')} "
                f"beyond baseline)")
        top = sorted((value.get("slices") or {}).items(),
                     key=lambda item: -(item[1].get("share") or 0.0))[:3]
        spent = [f"{key} {percent(v.get('share'), 1)}" for key, v in top if v.get("share")]
        if spent:
            text += "; by slice: " + ", ".join(spent)
        lines.append(text)
    return lines


def render_table(rows: list[dict[str, Any]]) -> str:
    """One block per service: the same columns as the Slack table."""
    if not rows:
        return "no SLOs defined (add `slos:` to a service in resilio.yml)"
    out: list[str] = []
    for service in dict.fromkeys(row["service"] for row in rows):
        out += [service, "  " + HEADER_ROW]
        out += ["  " + status_row(row) for row in rows if row["service"] == service]
        out.append("")
    return "\n".join(out).rstrip()
