"""The ``resilio`` command line.

Each part of the bot keeps its commands beside its code in a module with a
``register(subparsers)`` function; this file only wires them together, so adding
a command never means editing another part's code.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

# Modules that add subcommands; each has register(subparsers) and sets func=handler(args) -> int.
COMMAND_MODULES = [
    "bot.cli.core",
    "bot.cli.slo",
    "bot.cli.runbooks",
    "bot.cli.sources",
    "bot.cli.signals",
    "bot.cli.reports",
    "bot.cli.oncall",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resilio",
        description="Incident-response ChatOps for AI systems.",
    )
    parser.add_argument("--config", help="catalog file (default: $RESILIO_CONFIG or the example)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def run() -> None:
    """The process's entry point (``resilio``, ``python -m bot``): :func:`main`, then exit.

    Interpreter shutdown runs the cycle collector over every object still alive (the
    modules, numpy's and pydantic's tables, a command's records): ~0.07 s of CPU
    after ``resilio classify``, a tenth of it. Objects frozen first are skipped, and
    the memory goes back to the system all the same. Only here, when the process
    ends: frozen objects are never collected, so :func:`main`, which tests call in
    their own process, does not freeze.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one clear line, not a traceback, for expected failures
        from bot.core.errors import UserError

        if isinstance(error, UserError):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    run()
