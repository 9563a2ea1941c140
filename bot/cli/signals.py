"""``resilio ingest``, ``resilio classify`` and ``resilio simulate``.

``classify`` is a public contract (DESIGN.md): it reads a file, touches no
database, and with ``--json`` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.clock import checked_utc
from bot.core.errors import UserError
from bot.core.exchange import ParsedBatch, parse_lines
from bot.core.exchange_columns import ColumnBatch, read_columns


def register(subparsers: Any) -> None:
    ingest = subparsers.add_parser("ingest", help="store exchange-format records from a file")
    ingest.add_argument("file", help="JSON Lines file ('-' for stdin)")
    ingest.set_defaults(func=run_ingest)

    classify = subparsers.add_parser("classify", help="diagnose a JSON Lines file (no database)")
    classify.add_argument("file", help="JSON Lines file ('-' for stdin)")
    classify.add_argument("--service", help="the service to diagnose (default: the only one, "
                                            "the one alerts name, or the most anomalous)")
    classify.add_argument("--at", help="alert time (RFC 3339): use only records up to it")
    classify.add_argument("--json", action="store_true", help="print one JSON object")
    classify.set_defaults(func=run_classify)

    simulate = subparsers.add_parser("simulate", help="write labelled simulated scenarios")
    simulate.add_argument("--out", required=True, help="directory to write into")
    simulate.add_argument("--per-class", type=int, default=3, help="scenarios per label")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.set_defaults(func=run_simulate)


def _text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None


def _read(path: str) -> ParsedBatch:
    return parse_lines(_text(path))


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return checked_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise UserError(f"--at: {text!r} is not an RFC 3339 time") from None


def _warn(batch: ParsedBatch | ColumnBatch, path: str) -> None:
    for error in batch.errors[:20]:
        print(f"{path}: {error}", file=sys.stderr)
    if len(batch.errors) > 20:
        print(f"{path}: ... {len(batch.errors) - 20} more refused lines", file=sys.stderr)


def run_ingest(args: argparse.Namespace) -> int:
    from bot.cli.core import catalog_from, settings_from
    from bot.core.services import build_services
    from store.db import session_scope
    from store.signal_queries import save_records

    batch = _read(args.file)
    _warn(batch, args.file)
    if not batch.records:
        raise UserError(f"{args.file}: no valid record")
    settings = settings_from(args)
    services = build_services(settings, catalog_from(settings))
    try:
        with session_scope(services.engine) as session:
            stored, alerts = save_records(session=session, records=batch.records)
        if alerts:
            from bot.intake.ingest import ingest_alert_records

            ingest_alert_records(services, alerts)
    finally:
        services.close()
    print(f"stored {stored} records, {len(alerts)} alerts, refused {len(batch.errors)} lines")
    return 0 if not batch.errors else 1


def _report(d: Any) -> str:
    lines = [f"service:    {d.service}", f"behavior:   {d.behavior} ({d.confidence:.2f})",
             f"onset:      {d.onset or '-'}", "scores:     " + ", ".join(
                 f"{k} {v:.2f}" for k, v in sorted(d.scores.items(), key=lambda kv: -kv[1])
                 if v >= 0.01)]
    if d.slices:
        lines.append("slices:     " + ", ".join(f"{s['dimension']}={s['value']}"
                                                for s in d.slices))
    if d.suspect_changes:
        lines.append("suspects:")
        for c in d.suspect_changes[:3]:
            lines.append(f"  {c['ts']}  {c['kind']:<9} {c['ref']:<16} score {c['score']:.3f} "
                         f"({c['minutes_before_onset']:.0f} min before onset)")
    if d.suggested_runbooks:
        lines.append("runbooks:   " + ", ".join(d.suggested_runbooks))
    if d.evidence:
        lines.append("evidence:")
        for e in d.evidence[:12]:
            where = ",".join(f"{k}={v}" for k, v in e["slice"].items())
            lines.append(f"  {e['onset']}  {e['layer']:<9} {e['name']}"
                         f"{'[' + where + ']' if where else ''}  {e['detector']} "
                         f"effect {e['effect']:.3g} p {e['p_value']:.2g}")
    lines.append("")
    lines.append(d.explanation)
    return "\n".join(lines)


def run_classify(args: argparse.Namespace) -> int:
    """``resilio classify``: with the cyclic garbage collector paused meanwhile.

    Its collections walk every object the imports (numpy, the detectors) and the
    file's columns create, again and again, for garbage that reference counting frees
    here anyway: ~20 ms of CPU, 5 % of the command. Paused for this command only and
    restored after (tests run it inside their own process); a one-shot process then
    exits (``bot.cli.main.run``).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _classify(args)
    finally:
        if was_enabled:
            gc.enable()


def _classify(args: argparse.Namespace) -> int:
    import os

    from bot.diagnosis.columns import select_and_diagnose

    # Well-formed signals, changes and alerts need no pydantic here; the first line left
    # to the models (a distribution, a state, an odd record) would make pydantic look
    # for plugins among every installed package's entry points: ~40 ms, for monitoring
    # hooks a one-shot command has no use for. A value the user set is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # signals as columns, not a record each: the same records taken and lines refused
    batch = read_columns(_text(args.file))
    if not args.json:
        _warn(batch, args.file)
    at = _at(args.at)
    service, diagnosis = select_and_diagnose(batch, args.service, at)
    if args.json:
        payload = diagnosis.to_json()
        payload["service"] = service
        payload["refused_lines"] = [{"line": e.line, "reason": e.reason} for e in batch.errors]
        print(json.dumps(payload, separators=(",", ":")))
    else:
        print(_report(diagnosis))
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from bot.simulator import write_scenarios

    if args.per_class < 1:
        raise UserError(f"--per-class must be >= 1, got {args.per_class}")
    files = write_scenarios(Path(args.out), per_class=args.per_class, seed=args.seed)
    print(f"wrote {len(files)} scenarios (and their .truth.json) to {args.out}")
    return 0
