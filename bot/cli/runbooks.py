"""``resilio runbook list | validate [FILE] | run NAME --incident ID | approve | reject``.

``run`` executes in this process and prints each step as it happens, which is
what an operator wants from a terminal; the bot's own runs go through the same
:mod:`bot.runbook_runs` functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.core.errors import UserError


def register(subparsers: Any) -> None:
    runbook = subparsers.add_parser("runbook", help="list, validate and run runbooks")
    sub = runbook.add_subparsers(dest="runbook_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="the runbooks the bot knows (shipped and catalog)")
    listing.add_argument("--incident", type=int, metavar="ID",
                         help="the ones the library suggests for this incident first, with why")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    validate = sub.add_parser("validate", help="check runbook files (default: all known)")
    validate.add_argument("files", nargs="*", metavar="FILE")
    validate.set_defaults(func=run_validate)

    run = sub.add_parser("run", help="run a runbook on an incident")
    run.add_argument("name")
    run.add_argument("--incident", type=int, required=True, metavar="ID")
    run.add_argument("--dry-run", action="store_true", help="render every step, run nothing")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--actor", default=None, help="who is running it (default: cli:$USER)")
    run.add_argument("--group", action="append", default=[], metavar="S...",
                     help="Slack user group the actor belongs to (for allow lists)")
    run.add_argument("--key", default=None, help="idempotency key (a retry reuses the run)")
    run.set_defaults(func=run_run)

    for verb in ("approve", "reject"):
        decide = sub.add_parser(verb, help=f"{verb} a run that waits for approval")
        decide.add_argument("run_id", type=int, metavar="RUN")
        decide.add_argument("--actor", required=True, help="Slack user id of the approver")
        decide.add_argument("--group", action="append", default=[], metavar="S...")
        if verb == "reject":
            decide.add_argument("--reason")
        decide.set_defaults(func=run_decide, verb=verb)


def _services(args: argparse.Namespace) -> Any:
    from bot.cli.core import catalog_from, settings_from
    from bot.core.services import build_services

    settings = settings_from(args)
    return build_services(settings, catalog_from(settings))


def _library(args: argparse.Namespace) -> dict[str, Any]:
    from bot.cli.core import catalog_from, settings_from
    from bot.runbook_runs import load_library

    catalog = catalog_from(settings_from(args))
    return _checked(lambda: load_library(catalog))


def _checked(load: Any) -> Any:
    from runbooks.loader import RunbookError

    try:
        return load()
    except RunbookError as error:
        raise UserError("invalid runbooks:\n" + str(error)) from None


def run_list(args: argparse.Namespace) -> int:
    runbooks = _library(args)
    reasons = _suggested(args) if args.incident is not None else {}
    if args.json:
        print(json.dumps([{"name": r.name, "title": r.title, "approval": r.approval.required,
                           "applies_to": r.applies_to.model_dump(),
                           "parameters": [p.name for p in r.parameters], "source": r.source,
                           **({"suggested": reasons.get(r.name)} if args.incident else {})}
                          for r in runbooks.values()], indent=2))
        return 0
    width = max((len(name) for name in runbooks), default=4)
    if args.incident is not None:
        print(f"suggested for incident #{args.incident}: "
              + (", ".join(reasons) if reasons else "none"))
    for name in [*reasons, *sorted(set(runbooks) - set(reasons))]:
        runbook = runbooks[name]
        flags = " [approval]" if runbook.approval.required else ""
        classes = ",".join(runbook.applies_to.classes) or "any"
        why = f"  * suggested: {reasons[name]}" if name in reasons else ""
        print(f"{name:<{width}}  {runbook.title}{flags}  (classes: {classes}){why}")
    return 0


def _suggested(args: argparse.Namespace) -> dict[str, str]:
    """Name -> why, for the incident, best first (``bot.runbook_runs.suggest``)."""
    from bot import runbook_runs

    services = _services(args)
    try:
        return {s.name: s.reason for s in runbook_runs.suggest(services,
                                                               incident_id=args.incident)}
    finally:
        services.close()


def run_validate(args: argparse.Namespace) -> int:
    """Every problem of the named files (or of the whole library), then exit 1 if any."""
    from bot.cli.core import catalog_from, settings_from
    from bot.config.check import reported_signals, runbook_problems, runbook_scope
    from runbooks.loader import RunbookError, load_file, verify_signal_problems

    catalog = catalog_from(settings_from(args))
    if not args.files:
        problems = runbook_problems(catalog)
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"ok: {len(_library(args))} runbooks valid")
        return 1 if problems else 0
    failed = 0
    for file in args.files:
        try:
            runbook = load_file(file, shell_allowlist=catalog.runbooks.shell_allowlist)
            scope = {s.name: reported_signals(s) for s in runbook_scope(catalog, runbook)}
            problems = verify_signal_problems(
                runbook, {name: names for name, names in scope.items() if names},
                services={s.name for s in catalog.services})
            if problems:
                raise RunbookError(problems)
            print(f"ok: {file}: {runbook.name} ({len(runbook.steps)} steps)")
        except RunbookError as error:
            failed += 1
            for problem in error.problems:
                print(problem, file=sys.stderr)
    return 1 if failed else 0


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--param {pair!r}: expected KEY=VALUE")
        params[key.strip()] = value
    return params


def run_run(args: argparse.Namespace) -> int:
    import getpass

    from bot import runbook_runs

    actor = args.actor or f"cli:{getpass.getuser()}"
    params = _params(args.param)
    services = _services(args)
    services.events.subscribe("runbook.progress",
                              lambda services, run_id, incident_id, text: print(text,
                                                                                flush=True))
    try:
        _checked(lambda: runbook_runs.library(services))
        if args.dry_run:
            plan = runbook_runs.dry_run(services, incident_id=args.incident, name=args.name,
                                        params=params, actor=actor)
            print(json.dumps({"runbook": plan.runbook, "params": plan.params,
                              "steps": [{"path": s.path, "step": s.step_id, "kind": s.kind,
                                         "rendered": s.rendered, "error": s.error}
                                        for s in plan.steps]}, indent=2, default=str))
            return 1 if plan.problems else 0
        started = runbook_runs.start(services, incident_id=args.incident, name=args.name,
                                     params=params, actor=actor, groups=args.group,
                                     idempotency_key=args.key, wait=True)
        services.drain(30)
        view = runbook_runs.run_view(services, run_id=started.run.id or 0)
        if not started.created:
            print(f"run {view['id']} already exists for this key (status {view['status']})")
        elif view["status"] == "pending_approval":
            print(f"run {view['id']} is waiting for approval: "
                  f"resilio runbook approve {view['id']} --actor U...")
        else:
            print(f"run {view['id']}: {view['status']}"
                  + (f", verification {view['verdict']}" if view["verdict"] else ""))
        return 0 if view["status"] in ("succeeded", "pending_approval") else 1
    finally:
        services.drain(30)
        services.close()


def run_decide(args: argparse.Namespace) -> int:
    from bot import runbook_runs

    services = _services(args)
    services.events.subscribe("runbook.progress",
                              lambda services, run_id, incident_id, text: print(text,
                                                                                flush=True))
    try:
        if args.verb == "approve":
            run = runbook_runs.approve(services, run_id=args.run_id, actor=args.actor,
                                       groups=args.group, wait=True)
        else:
            run = runbook_runs.reject(services, run_id=args.run_id, actor=args.actor,
                                      groups=args.group, reason=args.reason)
        services.drain(30)
        view = runbook_runs.run_view(services, run_id=run.id or 0)
        print(f"run {view['id']}: {view['status']}")
        return 0 if view["status"] in ("succeeded", "cancelled") else 1
    finally:
        services.drain(30)
        services.close()
