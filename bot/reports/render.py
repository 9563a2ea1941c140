"""A digest as a self-contained HTML report and as a Slack Block Kit message.

The HTML carries its charts as ``data:image/png;base64`` images, so the one file
is the whole report wherever it is opened. The Slack message keeps to Slack's
limits (at most ``MESSAGE_BLOCKS`` blocks, ``SECTION_TEXT`` characters a section)
by listing the first few of each kind and pointing at the attached report for
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config.catalog import Catalog
from bot.reports.charts import data_uri, digest_charts
from bot.reports.content import Digest
from bot.reports.templates import template
from bot.views.markup import code, escape
from bot.views.text import HEADER_TEXT, MESSAGE_BLOCKS, context, cut, fit_blocks, section

SLACK_SLOS = 12
SLACK_ITEMS = 5


def report_name(digest: Digest) -> str:
    return f"digest-{digest.team}-{digest.week}.html"


def render_html(digest: Digest, *, generated_at: datetime, catalog: Catalog | None = None,
                charts: dict[str, bytes | None] | None = None) -> str:
    charts = digest_charts(digest) if charts is None else charts
    uris = {name: data_uri(png) if png else None for name, png in charts.items()}
    return template("digest_html", catalog).render(digest=digest, charts=uris,
                                                   generated_at=generated_at)


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the notification and fallback text
    blocks: list[dict[str, Any]]


def render_message(digest: Digest, *, catalog: Catalog | None = None) -> SlackMessage:
    parts = template("digest_slack", catalog).module
    # the template's macros, looked up by name (a template module's attributes are its own)
    macros: list[tuple[str, tuple[int, ...]]] = [
        ("headline", ()), ("changes", (SLACK_ITEMS,)), ("slos", (SLACK_SLOS,)),
        ("classes", ()), ("budgets", (SLACK_ITEMS,)), ("cost", (SLACK_ITEMS,)),
        ("suspects", ()), ("oncall", (SLACK_ITEMS,))]
    sections = [str(getattr(parts, name)(digest, *args)) for name, args in macros]
    title = f"Reliability digest · {digest.team} · {digest.week}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": cut(escape(title), HEADER_TEXT)}},
        context(escape(f"{digest.week.span} against {digest.previous_week} · "
                       f"{len(digest.services)} service(s)")),
    ]
    for index, text in enumerate(sections):
        if text.strip():
            blocks.append(section(text.strip()))
        if index in (0, 1):
            blocks.append({"type": "divider"})
    blocks.append(context(f"Charts and every table: the attached report "
                          f"{code(report_name(digest))}"))
    blocks = fit_blocks(blocks, MESSAGE_BLOCKS)
    text = escape(f"Reliability digest for {digest.team}, {digest.week}: "
                  f"{digest.total.this_week.count} incidents")
    return SlackMessage(text, blocks)
