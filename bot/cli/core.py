"""Core commands: serve, db upgrade, check-config, demo."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.core.errors import UserError

if TYPE_CHECKING:
    from bot.config.settings import Settings

# The catalog and settings are imported where a command needs them: every command
# (``resilio classify`` too) builds the whole parser, and start-up time counts.


def settings_from(args: argparse.Namespace) -> Settings:
    from bot.config.settings import Settings

    settings = Settings()
    if getattr(args, "config", None):
        settings = settings.model_copy(update={"config_path": args.config})
    return settings


def catalog_from(settings: Settings) -> Any:
    from bot.config.catalog import CatalogError, load_catalog

    try:
        return load_catalog(settings.config_path)
    except CatalogError as error:
        raise UserError(f"invalid catalog ({_count(error.problems)}):\n{error}") from None


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def checked_catalog(settings: Settings) -> Any:
    """The catalog, refused unless :func:`bot.config.check.check_config` finds nothing."""
    from bot.config.check import check_config

    catalog = catalog_from(settings)
    problems = check_config(catalog)
    if problems:
        raise UserError(f"invalid configuration ({_count(problems)}):\n"
                        + "\n".join(problems))
    return catalog


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the bot (HTTP server, scheduler, Slack)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--socket-mode", action="store_true",
                       help="also connect to Slack over Socket Mode (needs SLACK_APP_TOKEN)")
    serve.add_argument("--no-migrate", action="store_true", help="skip `db upgrade` at start")
    serve.set_defaults(func=run_serve)

    db = subparsers.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations (alembic) up to head")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(func=run_db_upgrade)

    check = subparsers.add_parser("check-config", help="validate the catalog and summarise it")
    check.set_defaults(func=run_check_config)

    demo = subparsers.add_parser("demo", help="run the whole loop locally, no Slack needed")
    demo.add_argument("--out", help="keep the output (database, reports) in this folder")
    demo.add_argument("--prometheus", action="store_true",
                      help="also read signals from a local Prometheus (needs the binary)")
    demo.add_argument("--mlflow", action="store_true",
                      help="also roll a model back on a local mlflow server (needs the dev extra)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=run_demo)


def run_serve(args: argparse.Namespace) -> int:
    import logging

    from bot.app.http import create_app
    from bot.app.server import serve
    from bot.app.wiring import wire
    from bot.core.services import build_services
    from store.db import upgrade

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings_from(args)
    from bot.config.settings import exposure_problem

    problem = exposure_problem(settings, args.host)
    if problem:
        print(f"resilio serve: {problem}", file=sys.stderr)
        return 2
    catalog = checked_catalog(settings)
    if not args.no_migrate:
        upgrade(settings.database_url)
    services = wire(build_services(settings, catalog))
    if args.socket_mode:
        from bot.slack.socket import start_socket_mode

        start_socket_mode(services)
    serve(create_app(services), host=args.host, port=args.port)
    return 0


def run_db_upgrade(args: argparse.Namespace) -> int:
    from store.db import current_revision, upgrade

    settings = settings_from(args)
    upgrade(settings.database_url, args.revision)
    print(f"database at revision {current_revision(settings.database_url)}")
    return 0


def run_check_config(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    catalog = checked_catalog(settings)
    print(f"catalog {catalog.source}: OK")
    print(f"  {len(catalog.services)} services, {len(catalog.teams)} teams, "
          f"grouping window {catalog.grouping.window_minutes:g} min "
          f"by [{', '.join(catalog.grouping.group_by)}]")
    for service in catalog.services:
        classes = ", ".join(sorted(service.owners)) or "no owners"
        print(f"  - {service.name}: owners for {classes}; slices {', '.join(service.slices)}; "
              f"{len(service.slos)} SLOs; "
              f"ack timeout {service.escalation.ack_timeout_minutes:g} min")
    for team in catalog.teams:
        print(f"  team {team.name}: {', '.join(team.services)} -> {team.channel}, digest "
              f"{team.digest.weekday} {team.digest.time} {team.digest.timezone}")
    secrets = {"SLACK_BOT_TOKEN": settings.slack_bot_token,
               "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
               "RESILIO_WEBHOOK_TOKEN": settings.webhook_token}
    missing = [name for name, value in secrets.items() if not value]
    if missing:
        print(f"  not set in the environment: {', '.join(missing)}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import run

    return run(out=args.out, prometheus=args.prometheus, quiet=args.quiet,
               mlflow=getattr(args, "mlflow", False))
