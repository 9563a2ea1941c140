"""``resilio signals check``: run every Prometheus query of the catalog once and say what came back.

The question at set-up (and at 3 a.m.) is "does the bot see my metrics?", so the
table shows per signal the series returned, the points, the latest value and the
error in Prometheus' own words. Exit status 1 when any signal failed.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.core.clock import utcnow
from bot.core.errors import UserError

if TYPE_CHECKING:  # the sources (httpx, the Prometheus client) load when a command runs
    from bot.config.catalog import Catalog
    from bot.sources.pull import PullResult

COLUMNS = ("service", "signal", "layer", "series", "points", "latest", "error")


def register(subparsers: Any) -> None:
    signals = subparsers.add_parser("signals", help="where signals come from (Prometheus sources)")
    actions = signals.add_subparsers(dest="signals_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="run every configured query once and print a table")
    check.add_argument("--service", help="only this service")
    check.add_argument("--window", default="15m",
                       help="how far back each range query looks (default 15m)")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.set_defaults(func=run_check)


def check_signals(catalog: Catalog, *, service: str | None, window: timedelta) -> list[PullResult]:
    """One pull per Prometheus signal of ``service`` (or of every service)."""
    from bot.sources.pull import SourceState, pull_signal, pulled_specs

    names = [service] if service else [entry.name for entry in catalog.services]
    state = SourceState(catalog)
    end = utcnow()
    results: list[PullResult] = []
    down: dict[str, str] = {}
    try:
        for name in names:
            for spec in pulled_specs(catalog, name):
                results.append(pull_signal(state, name, spec, start=end - window, end=end,
                                           down=down))
    finally:
        state.close()
    return results


def row(result: PullResult) -> dict[str, Any]:
    from bot.sources.pull import signal_label

    latest = result.latest
    if isinstance(latest, float):
        latest = round(latest, 6)
    error = result.error or ("; ".join(result.notes) if result.notes else "")
    return {"service": result.service, "signal": signal_label(result.spec),
            "layer": result.spec.layer, "series": result.series, "points": result.points,
            "latest": latest,
            "error": error, "ok": result.error is None}


def render(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no Prometheus signals configured (add `signals:` with `source: {type: prometheus}`)"
    text = [[str(r[c]) if r[c] is not None else "-" for c in COLUMNS] for r in rows]
    widths = [min(60, max(len(c), *(len(t[i]) for t in text))) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    for cells in text:
        head = "  ".join(cell[:w].ljust(w) for cell, w in zip(cells[:-1], widths, strict=False))
        lines.append(f"{head}  {cells[-1]}".rstrip())
    return "\n".join(lines)


def run_check(args: argparse.Namespace) -> int:
    from bot.cli.core import catalog_from, settings_from
    from bot.config.source_spec import step_seconds

    catalog = catalog_from(settings_from(args))
    if args.service and catalog.service(args.service) is None:
        raise UserError(f"unknown service {args.service!r}")
    try:
        window = timedelta(seconds=step_seconds(args.window))
    except ValueError as error:
        raise UserError(f"--window: {error}") from None
    rows = [row(r) for r in check_signals(catalog, service=args.service, window=window)]
    if args.json:
        print(json.dumps({"data": rows, "count": len(rows)}, indent=2))
    else:
        print(render(rows))
    return 1 if any(not r["ok"] for r in rows) else 0
