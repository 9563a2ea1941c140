"""``resilio slo status``: each objective's attainment, budget left, burn rate and status."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from bot.core.clock import checked_utc
from bot.core.errors import UserError


def register(subparsers: Any) -> None:
    slo = subparsers.add_parser("slo", help="service level objectives and error budgets")
    actions = slo.add_subparsers(dest="slo_command", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="attainment, budget left and burn rate per SLO")
    status.add_argument("--service", help="only this service")
    status.add_argument("--at", help="evaluate at this RFC 3339 time instead of now")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(func=run_status)


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return checked_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise UserError(f"--at: {text!r} is not an RFC 3339 time") from None


def run_status(args: argparse.Namespace) -> int:
    from bot.cli.core import catalog_from, settings_from
    from bot.core.services import build_services
    from bot.slo.compute import all_statuses, service_status

    settings = settings_from(args)
    services = build_services(settings, catalog_from(settings))
    try:
        now = _at(args.at)
        if args.service:
            statuses = service_status(services, args.service, now=now)
        else:
            statuses = all_statuses(services, now=now)
    finally:
        services.close()
    rows = [status.to_dict() for status in statuses]
    if args.json:
        print(json.dumps({"data": rows, "count": len(rows)}, indent=2))
        return 0
    from bot.views.slo import render_table

    print(render_table(rows))
    return 0


