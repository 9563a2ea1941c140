"""``resilio oncall who | export | import``: schedules from the catalog, and calendars in.

``import`` turns an ``.ics`` file (PagerDuty's, Opsgenie's, any calendar's) into a
``schedules:`` entry to paste into the catalog, so what the bot pages stays reviewed
like the rest of the catalog.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.cli.core import catalog_from, settings_from
from bot.core.clock import format_ts, utcnow
from bot.core.errors import NotFound, UserError


def register(subparsers: Any) -> None:
    oncall = subparsers.add_parser("oncall", help="on-call schedules: who, export, import")
    actions = oncall.add_subparsers(dest="oncall_command", metavar="ACTION", required=True)

    who = actions.add_parser("who", help="who is on call now and next (catalog rotations)")
    who.add_argument("schedule", nargs="?", help="one schedule (default: every one)")
    who.set_defaults(func=run_who)

    export = actions.add_parser("export", help="a schedule as iCalendar on stdout")
    export.add_argument("schedule")
    export.add_argument("--days", type=int, default=28, help="how far ahead (default 28)")
    export.set_defaults(func=run_export)

    imported = actions.add_parser("import", help="an .ics file as a catalog schedule (YAML)")
    imported.add_argument("file", help=".ics file ('-' for stdin)")
    imported.add_argument("--name", required=True, help="the schedule's name")
    imported.add_argument("--timezone", default="UTC", help="zone of floating times")
    imported.add_argument("--users", help="YAML mapping of e-mail or name to Slack user id")
    imported.set_defaults(func=run_import)


def _schedule(args: argparse.Namespace, name: str) -> Any:
    catalog = catalog_from(settings_from(args))
    schedule = catalog.schedule(name)
    if schedule is None:
        known = ", ".join(s.name for s in catalog.schedules) or "none"
        raise NotFound(f"no schedule {name!r} in the catalog (schedules: {known})")
    return schedule


def run_who(args: argparse.Namespace) -> int:
    from bot.config.oncall_schedule import next_shift, on_call

    catalog = catalog_from(settings_from(args))
    names = [args.schedule] if args.schedule else [s.name for s in catalog.schedules]
    now = utcnow()
    for name in names:
        schedule = _schedule(args, name)
        current, upcoming = on_call(schedule, now), next_shift(schedule, now)
        held = f"{current.user} until {format_ts(current.end)}" if current else "nobody"
        after = f"{upcoming.user} from {format_ts(upcoming.start)}" if upcoming else "nobody"
        print(f"{name}: {held}; next {after}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from bot.config.oncall_schedule import shifts
    from bot.oncall.ical import to_ics

    schedule = _schedule(args, args.schedule)
    now = utcnow()
    timeline = shifts(schedule, now - timedelta(days=7), now + timedelta(days=args.days))
    sys.stdout.write(to_ics(schedule, timeline, now))
    return 0


def run_import(args: argparse.Namespace) -> int:
    import yaml  # here, not at the top: every resilio command would load it

    from bot.oncall.ical import CalendarError, from_ics

    try:
        text = sys.stdin.read() if args.file == "-" else \
            Path(args.file).read_text(encoding="utf-8")
        users = yaml.safe_load(Path(args.users).read_text(encoding="utf-8")) \
            if args.users else {}
    except OSError as error:
        raise UserError(f"cannot read: {error}") from None
    except UnicodeDecodeError:
        raise UserError(f"{args.file}: not UTF-8 text") from None
    if not isinstance(users, dict):
        raise UserError(f"{args.users}: expected a mapping of e-mail or name to a Slack id")
    try:
        schedule = from_ics(text, name=args.name, timezone_name=args.timezone,
                            users={str(k): str(v) for k, v in users.items()})
    except CalendarError as error:
        raise UserError(f"{args.file}: {error}") from None
    data = schedule.model_dump(mode="json", exclude_defaults=True)
    data["timezone"] = schedule.timezone
    print("# paste under `schedules:` in the catalog")
    print(yaml.safe_dump([data], sort_keys=False, allow_unicode=True), end="")
    return 0
