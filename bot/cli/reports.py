"""``resilio digest`` and ``resilio postmortem``: the weekly digest and incident postmortems."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.core.errors import UserError


def register(subparsers: Any) -> None:
    digest = subparsers.add_parser(
        "digest", help="a team's weekly reliability digest (HTML report, optionally posted)")
    digest.add_argument("--team", required=True, help="a team of the catalog")
    digest.add_argument("--week", help="ISO week like 2026-W47 (default: the last complete one)")
    digest.add_argument("--out", help="write the HTML report here "
                                      "(default: $RESILIO_REPORTS_DIR or ./reports)")
    digest.add_argument("--post", action="store_true",
                        help="post it to the team's Slack channel (once per team and week)")
    digest.set_defaults(func=run_digest)

    postmortem = subparsers.add_parser("postmortem", help="draft an incident's postmortem")
    postmortem.add_argument("incident_id", type=int, metavar="ID")
    postmortem.add_argument("--out", help="write the Markdown here instead of printing it")
    postmortem.set_defaults(func=run_postmortem)


def _week(text: str | None) -> Any:
    from bot.reports.weeks import IsoWeek

    if not text:
        return None
    try:
        return IsoWeek.parse(text)
    except ValueError as error:
        raise UserError(f"--week: {error}") from None


def run_digest(args: argparse.Namespace) -> int:
    from bot.cli.core import catalog_from, settings_from
    from bot.core.services import build_services
    from bot.reports.publish import post_digest, render_digest, reports_dir, write_report
    from bot.reports.weeks import IsoWeek

    week = _week(args.week)
    out = Path(args.out) if args.out else None
    settings = settings_from(args)
    services = build_services(settings, catalog_from(settings))
    try:
        if args.post:
            outcome = post_digest(services, args.team, week, path=out)
            if outcome.posted:
                print(f"digest for {outcome.team} {outcome.week} posted to {outcome.channel}; "
                      f"report: {outcome.path}")
            else:
                print(f"digest for {outcome.team} {outcome.week} was {outcome.status} already; "
                      "nothing posted")
            return 0
        week = week or IsoWeek.last_complete(services.clock())
        rendered = render_digest(services, args.team, week)
        path = write_report(rendered, reports_dir(services), path=out)
    finally:
        services.close()
    total = rendered.digest.total.this_week
    print(f"digest for {rendered.digest.team} {week}: {total.count} incidents, "
          f"{len(rendered.digest.slos)} SLOs; report written to {path}")
    return 0


def run_postmortem(args: argparse.Namespace) -> int:
    from bot.cli.core import catalog_from, settings_from
    from bot.core.services import build_services
    from bot.slack.postmortem import render_postmortem

    settings = settings_from(args)
    services = build_services(settings, catalog_from(settings))
    try:
        markdown = render_postmortem(services, args.incident_id)
    finally:
        services.close()
    if args.out:
        Path(args.out).write_text(markdown, encoding="utf-8")
        print(f"postmortem of incident {args.incident_id} written to {args.out}")
    else:
        print(markdown, end="")
    return 0
