"""Whether a speed change left every diagnosis as it was: save a snapshot, then compare.

Run: ``python benchmarks/identity.py save FILE [--per-class 20] [--jobs 2]`` on the code
before a change, ``python benchmarks/identity.py compare FILE`` after it.

Every incident of the accuracy sources (``benchmarks/accuracy.py``: simulator,
independent, handwritten, holdout, built the same way) is diagnosed, and the snapshot
keeps, per incident, what a user reads (label, confidence, scores, onset, slices,
suspect changes and their order, the evidence rows) and, one level down, every test
the detectors ran (``bot.diagnosis.detect.run_tests``: detector, statistic, p-value,
effect, onset, levels). ``compare`` asks for equal strings and integers and floats
within ``--tolerance`` (relative, default 1e-9), and prints each difference.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.accuracy import SOURCES, jobs_for, labelled  # noqa: E402
from bot.core.exchange import parse_objects  # noqa: E402
from bot.diagnosis.assemble import assemble  # noqa: E402
from bot.diagnosis.detect import run_tests  # noqa: E402
from bot.diagnosis.pipeline import diagnose  # noqa: E402


def _plain(value: Any) -> Any:
    """JSON-safe: tuples to lists, NaN and infinities as strings (JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot_one(job: tuple[str, tuple]) -> dict[str, Any]:
    """What one incident's diagnosis and detector tests came to."""
    source, key = job
    raw, _truth = labelled(source, key)
    records = parse_objects(raw).records
    d = diagnose(records)
    tests, switches = run_tests(assemble(records))  # other record types are ignored
    return _plain({
        "job": f"{source}:{key}", "behavior": d.behavior, "confidence": d.confidence,
        "scores": d.scores, "onset": d.onset, "slices": d.slices, "pattern": d.pattern,
        "suspects": d.suspect_changes, "evidence": d.evidence, "layers": d.layers,
        "tests": [[t.layer, t.name, list(t.slice), t.detector, t.statistic, t.p_value,
                   t.effect, t.onset, t.relative, t.worse, t.practical, t.strength_hint,
                   t.recovered, t.before, t.after] for t in tests],
        "switches": switches})


def _differences(a: Any, b: Any, where: str, tolerance: float) -> list[str]:
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        close = a == b or abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-300)
        return [] if close else [f"{where}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} != {sorted(b)}"]
        return [x for k in a for x in _differences(a[k], b[k], f"{where}.{k}", tolerance)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [x for i, (u, v) in enumerate(zip(a, b, strict=True))
                for x in _differences(u, v, f"{where}[{i}]", tolerance)]
    if isinstance(a, int) and isinstance(b, float) and not isinstance(a, bool):
        return _differences(b, a, where, tolerance)
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--seed-base", type=int, default=7_000_000)
    parser.add_argument("--history-every", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args(argv)
    jobs = [job for source in SOURCES
            for job in jobs_for(source, args.per_class, args.seed_base, args.history_every)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(snapshot_one, jobs, chunksize=4))
    if args.action == "save":
        args.file.write_text(json.dumps(rows))
        tests = sum(len(r["tests"]) for r in rows)
        print(f"saved {len(rows)} incidents ({tests:,} detector tests) to {args.file}")
        return 0
    saved = json.loads(args.file.read_text())
    if [r["job"] for r in saved] != [r["job"] for r in rows]:
        print("the snapshot holds other incidents: save it again with the same options")
        return 2
    found = [x for old, new in zip(saved, rows, strict=True)
             for x in _differences(old, new, old["job"], args.tolerance)]
    for line in found[:200]:
        print(line)
    same = sum(not _differences(o, n, "", args.tolerance) for o, n in zip(saved, rows,
                                                                        strict=True))
    print(f"{same}/{len(rows)} incidents identical (floats within {args.tolerance:g} "
          f"relative); {len(found)} differences")
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
