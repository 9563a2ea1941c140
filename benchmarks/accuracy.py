"""Accuracy of the behaviour classifier on simulated incidents, and the watch's false alarms.

Run: ``python benchmarks/accuracy.py [--per-class 20] [--seed-base 7000000] [--jobs 2]``.
The default seeds were never used while tuning (tuning used seed bases below
100,000). Every fourth scenario has history (``--history-every``): an earlier
episode of another cause that was rolled back and recovered before this one began,
so the diagnosis must explain the episode in force at the alert, not the first one.
Prints the confusion matrix, per-label precision/recall, macro-F1, slice and culprit
top-1 accuracy (and separately for the scenarios with history), the
classify-with-``--at`` accuracy, then the watch's false incidents on healthy
service-days and its median onset-to-detection time.
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta

from bot.diagnosis.pipeline import diagnose
from bot.diagnosis.watch import judge, series_points
from bot.exchange import parse_objects
from bot.simulator.scenarios import LABELS, generate, healthy_day


def _classify(args: tuple[str, int, bool]) -> dict:
    label, seed, history = args
    scenario = generate(label, seed, history=history)
    records = parse_objects(scenario.records).records
    started = time.perf_counter()
    d = diagnose(records)
    elapsed = time.perf_counter() - started
    at = datetime.fromisoformat(scenario.truth["alert_at"].replace("Z", "+00:00"))
    d_at = diagnose(records, at=at)
    truth = scenario.truth
    return {"truth": label, "predicted": d.behavior, "predicted_at": d_at.behavior,
            "confidence": d.confidence, "seconds": elapsed,
            "slice_truth": truth["slice"], "slices": d.slices,
            "culprit": truth["culprit"],
            "suspect": d.suspect_changes[0]["ref"] if d.suspect_changes else None,
            "variant": truth["variant"] + ("+history" if history else ""), "seed": seed,
            "history": history}


def _watch_day(args: tuple[int, int]) -> list[int]:
    """Minutes (from the day's start) at which the watch would open an incident.

    The watch runs every ``every`` minutes on the points that arrived since its last
    run (``bot.diagnosis.watch.judge``, as ``run_watch`` does); from the third hour on
    an alarm opens an incident unless one opened in the last 180 minutes.
    """
    seed, every = args
    day = healthy_day(seed)
    records = sorted(parse_objects(day.records).records, key=lambda r: r.ts)
    stamps = [r.ts for r in records]
    start = records[0].ts
    opened, covered_until, states, lo = [], None, {}, 0
    for minute in range(0, 1440, every):
        now = start + timedelta(minutes=minute)
        hi = bisect.bisect_right(stamps, now)
        judgement = judge(states, series_points(records[lo:hi]),
                          since=(now - timedelta(minutes=every)).timestamp())
        states, lo = judgement.states, hi
        if minute < 180 or (covered_until is not None and now < covered_until):
            continue
        if judgement.degraded:
            opened.append(minute)
            covered_until = now + timedelta(minutes=180)
    return opened


def _detection_delay(args: tuple[str, int]) -> float | None:
    """Minutes from the true onset until the watch (run every minute) would fire.

    The points before the onset are the series' history (a first run catches up on
    them); from the onset on the watch runs each minute on the new points.
    """
    label, seed = args
    scenario = generate(label, seed)
    records = sorted(parse_objects(scenario.records).records, key=lambda r: r.ts)
    stamps = [r.ts for r in records]
    onset = datetime.fromisoformat(scenario.truth["onset"].replace("Z", "+00:00"))
    lo = bisect.bisect_left(stamps, onset)
    states = judge({}, series_points(records[:lo]), since=onset.timestamp()).states
    for minute in range(0, 31):
        now = onset + timedelta(minutes=minute)
        hi = bisect.bisect_right(stamps, now)
        judgement = judge(states, series_points(records[lo:hi]), since=onset.timestamp())
        states, lo = judgement.states, hi
        if judgement.degraded:
            return float(minute)
    return None


def _report(rows: list[dict]) -> float:
    labels = list(LABELS)
    matrix = {t: dict.fromkeys(labels, 0) for t in labels}
    for row in rows:
        matrix[row["truth"]][row["predicted"]] += 1
    width = max(len(x) for x in labels) + 2
    print("confusion matrix (rows: truth, columns: predicted)")
    print(" " * width + "".join(f"{x[:8]:>9}" for x in labels))
    for t in labels:
        print(f"{t:<{width}}" + "".join(f"{matrix[t][p]:>9}" for p in labels))
    f1s = []
    print(f"\n{'label':<{width}}{'precision':>10}{'recall':>8}{'f1':>7}")
    for label in labels:
        tp = matrix[label][label]
        predicted = sum(matrix[t][label] for t in labels)
        actual = sum(matrix[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        print(f"{label:<{width}}{precision:>10.3f}{recall:>8.3f}{f1:>7.3f}")
    macro = sum(f1s) / len(f1s)
    print(f"\nmacro-F1: {macro:.3f} (target >= 0.95)")
    at_ok = sum(r["truth"] == r["predicted_at"] for r in rows) / len(rows)
    print(f"accuracy with --at (alert time): {at_ok:.3f}")
    sliced = [r for r in rows if r["slice_truth"]]
    hits = sum(bool(r["slices"]) and r["slices"][0]["dimension"] == r["slice_truth"]["dimension"]
               and r["slices"][0]["value"] == r["slice_truth"]["value"] for r in sliced)
    global_rows = [r for r in rows if not r["slice_truth"] and r["truth"] != "none"]
    global_ok = sum(not r["slices"] for r in global_rows)
    slice_acc = (hits + global_ok) / max(len(sliced) + len(global_rows), 1)
    print(f"slice top-1: {slice_acc:.3f} (target >= 0.95): sliced {hits}/{len(sliced)}, "
          f"global reported no slice {global_ok}/{len(global_rows)}")
    with_culprit = [r for r in rows if r["culprit"]]
    culprit_ok = sum(r["suspect"] == r["culprit"] for r in with_culprit)
    print(f"culprit top-1: {culprit_ok / max(len(with_culprit), 1):.3f} (target >= 0.90): "
          f"{culprit_ok}/{len(with_culprit)}")
    past = [r for r in rows if r["history"]]
    if past:
        label_ok = sum(r["truth"] == r["predicted"] for r in past)
        culprits = [r for r in past if r["culprit"]]
        print(f"with a recovered earlier episode: label {label_ok}/{len(past)}, culprit "
              f"{sum(r['suspect'] == r['culprit'] for r in culprits)}/{len(culprits)}")
    ms = sorted(r["seconds"] * 1000 for r in rows)
    print(f"classify time per scenario: median {statistics.median(ms):.1f} ms")
    wrong = [r for r in rows if r["truth"] != r["predicted"]]
    for r in wrong[:15]:
        print(f"  miss: {r['truth']}/{r['variant']} seed {r['seed']} -> {r['predicted']} "
              f"({r['confidence']:.2f})")
    return macro


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--seed-base", type=int, default=7_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--healthy-days", type=int, default=30)
    parser.add_argument("--watch-every", type=int, default=10,
                        help="minutes between watch runs on healthy days")
    parser.add_argument("--history-every", type=int, default=4,
                        help="every n-th scenario has a recovered earlier episode (0: none)")
    parser.add_argument("--skip-watch", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true", help="only the watch")
    args = parser.parse_args(argv)
    every = args.history_every
    jobs = [(label, args.seed_base + i * 1000 + k, bool(every) and k % every == every - 1)
            for i, label in enumerate(LABELS) for k in range(args.per_class)]
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        if not args.skip_accuracy:
            for n, row in enumerate(pool.map(_classify, jobs, chunksize=2), start=1):
                rows.append(row)
                if n % 20 == 0:
                    print(f"  classified {n}/{len(jobs)}", file=sys.stderr, flush=True)
            print(f"{len(rows)} scenarios, seeds from {args.seed_base}\n")
            _report(rows)
        if args.skip_watch:
            return 0
        days = [(args.seed_base + 500_000 + d, args.watch_every)
                for d in range(args.healthy_days)]
        false = []
        for n, opened in enumerate(pool.map(_watch_day, days), start=1):
            false.append(len(opened))
            print(f"  healthy day {n}/{len(days)}: {len(opened)} incident(s)", file=sys.stderr,
                  flush=True)
        per_week = sum(false) / len(false) * 7
        print(f"\nwatch on {len(days)} healthy service-days (every {args.watch_every} min, "
              f"from the third hour): {sum(false)} false incidents = {per_week:.2f} per "
              "service-week (target <= 1)")
        delay_jobs = [(label, args.seed_base + 900_000 + i * 100 + k)
                      for i, label in enumerate(LABELS[:-1]) for k in range(5)]
        delays = list(pool.map(_detection_delay, delay_jobs))
    found = [d for d in delays if d is not None]
    median = statistics.median(found) if found else float("nan")
    print(f"watch onset-to-detection: median {median:.0f} min over {len(found)}/{len(delays)} "
          "detected within 30 min (target <= 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
