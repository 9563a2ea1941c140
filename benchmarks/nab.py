"""The silent-degradation watch on real metric streams: NAB's development series.

Run: ``python benchmarks/nab.py [--jobs 2] [--false-alarms-per-week 1]``.

Each series of ``benchmarks/data/nab-dev`` (36 of NAB's 58, see its README) is
replayed point by point through :func:`bot.diagnosis.watch.judge`, the decision
``run_watch`` makes each run, with the model kept between points as production
keeps it between runs. An alarm opens an incident unless one is open; an incident
stays open until its series has been quiet for the watch window (180 min), so
consecutive alarms are one incident. Printed: NAB's normalised score under its
three profiles (standard, reward low FP, reward low FN; null 0, perfect 100),
windows hit, median delay from the window's start, false incidents per
series-week (outside windows, after probation), on all series and on the two
halves of a fixed split (``tune``: the series the rules were looked at on;
``held``: the others, reported as such). Beside them, in the same run, a
windowed-Gaussian detector like NAB's (z of each point against the mean and SD of
the previous 6,400 points), at the best of a sweep of thresholds on these same
series, which flatters it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.nab_score import (  # noqa: E402
    PROFILES,
    normalised,
    probation,
    score_file,
    window_rows,
)
from bot.diagnosis.watch import SeriesPoints, judge  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "nab-dev"
KEY = ("runtime", "value", "")
QUIET_SECONDS = 180 * 60.0   # the watch window: alarms closer than this are one incident
GAUSS_WINDOW = 6400
GAUSS_THRESHOLDS = (3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 8.0, 10.0)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.split(".")[0]).replace(tzinfo=UTC).timestamp()


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    times, values = [], []
    with (DATA / "data" / name).open() as handle:
        for row in csv.DictReader(handle):
            times.append(_epoch(row["timestamp"]))
            values.append(float(row["value"]))
    return np.array(times), np.array(values)


def half(name: str, names: list[str]) -> str:
    """The fixed split: alternate series of each group (sorted by name)."""
    group = name.split("/")[0]
    members = sorted(n for n in names if n.split("/")[0] == group)
    return "tune" if members.index(name) % 2 == 0 else "held"


def episodes(times: np.ndarray, alarmed: np.ndarray) -> list[int]:
    """Rows where an incident opens: an alarm with no alarm in the quiet time before."""
    opened, last = [], -math.inf
    for i in np.flatnonzero(alarmed):
        if times[i] - last > QUIET_SECONDS:
            opened.append(int(i))
        last = times[i]
    return opened


def replay_watch(times: np.ndarray, values: np.ndarray, budget: float) -> np.ndarray:
    """Which rows the watch's decision alarms on, fed one point per run."""
    states: dict = {}
    alarmed = np.zeros(times.size, dtype=bool)
    for i in range(times.size):
        judgement = judge(states, {KEY: SeriesPoints(times[i:i + 1], values[i:i + 1])},
                          since=float(times[i]), false_alarms_per_week=budget)
        states = judgement.states
        alarmed[i] = judgement.degraded
    return alarmed


def windowed_gaussian(values: np.ndarray) -> np.ndarray:
    """|z| of each point against the mean and SD of up to 6,400 points before it."""
    c1 = np.concatenate([[0.0], np.cumsum(values)])
    c2 = np.concatenate([[0.0], np.cumsum(values * values)])
    i = np.arange(values.size)
    lo = np.maximum(0, i - GAUSS_WINDOW)
    n = (i - lo).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c1[i] - c1[lo]) / n
        var = (c2[i] - c2[lo]) / n - mean * mean
        z = np.abs(values - mean) / np.sqrt(np.maximum(var, 0.0))
    z[n < 10] = 0.0
    return np.nan_to_num(z, nan=0.0, posinf=1e9)


@dataclass(frozen=True)
class FileResult:
    name: str
    half: str
    rows: int
    windows: list[tuple[int, int]]
    times: np.ndarray
    watch: list[int]
    alarmed: list[int]   # every row the watch alarmed on (``watch``: those opening one)
    gauss: dict[float, list[int]]
    seconds: float


def run_file(args: tuple[str, str, float]) -> FileResult:
    name, which, budget = args
    times, values = load(name)
    limits = json.loads((DATA / "windows.json").read_text())[name]
    windows = window_rows(times, [(_epoch(a), _epoch(b)) for a, b in limits])
    started = time.perf_counter()
    alarmed = replay_watch(times, values, budget)
    seconds = time.perf_counter() - started
    watch = episodes(times, alarmed)
    z = windowed_gaussian(values)
    gauss = {k: episodes(times, z >= k) for k in GAUSS_THRESHOLDS}
    return FileResult(name, which, times.size, windows, times, watch,
                      np.flatnonzero(alarmed).tolist(), gauss, seconds)


@dataclass(frozen=True)
class Summary:
    scores: dict[str, float]
    hit: int
    windows: int
    delay_hours: float
    false_per_week: float


def summarise(results: list[FileResult], detections: dict[str, list[int]]) -> Summary:
    scores = {}
    for profile in PROFILES:
        raw = windows = 0.0
        for r in results:
            s = score_file(r.rows, r.windows, detections[r.name], profile)
            raw += s.raw
            windows += s.windows
        scores[profile.name] = normalised(raw, int(windows), profile)
    hit = windows = false = 0
    weeks = 0.0
    delays = []
    for r in results:
        s = score_file(r.rows, r.windows, detections[r.name], PROFILES[0])
        hit, windows, false = hit + s.hit, windows + s.windows, false + s.false_positives
        start = probation(r.rows)
        weeks += (r.times[-1] - r.times[min(start, r.rows - 1)]) / (7 * 86400.0)
        scored = [w for w in r.windows if w[1] >= start]
        for row in s.first_hits:
            first = next(a for a, b in scored if a <= row <= b)
            delays.append((r.times[row] - r.times[first]) / 3600.0)
    return Summary(scores, hit, windows, statistics.median(delays) if delays else math.nan,
                   false / weeks if weeks else math.nan)


def _line(label: str, s: Summary) -> str:
    return (f"  {label:<34} standard {s.scores['standard']:6.1f}  low-FP "
            f"{s.scores['reward_low_FP_rate']:6.1f}  low-FN {s.scores['reward_low_FN_rate']:6.1f}"
            f"  windows {s.hit:3d}/{s.windows:<3d} median delay {s.delay_hours:5.1f} h"
            f"  false incidents {s.false_per_week:5.2f}/series-week")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--false-alarms-per-week", type=float, default=1.0,
                        help="the watch's budget (catalog watch.false_alarms_per_week)")
    parser.add_argument("--only", default="", help="only series whose name contains this")
    parser.add_argument("--half", choices=("tune", "held"), default=None,
                        help="only the series of one half of the fixed split")
    parser.add_argument("--detections", type=Path, default=None,
                        help="write each series' alarmed and incident-opening rows here "
                             "(JSON), to compare two versions of the watch point by point")
    args = parser.parse_args(argv)
    windows = json.loads((DATA / "windows.json").read_text())
    names = sorted(windows)
    chosen = [n for n in names if args.only in n and args.half in (None, half(n, names))]
    jobs = sorted(((n, half(n, names), args.false_alarms_per_week) for n in chosen),
                  key=lambda j: -(DATA / "data" / j[0]).stat().st_size)
    started = time.perf_counter()
    results: list[FileResult] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, r in enumerate(pool.map(run_file, jobs), start=1):
            results.append(r)
            s = score_file(r.rows, r.windows, r.watch, PROFILES[0])
            print(f"  [{done:2d}/{len(jobs)} {time.perf_counter() - started:5.0f}s] {r.name:<58}"
                  f" {r.half}  hit {s.hit}/{s.windows}  false {s.false_positives}"
                  f"  ({r.rows} points, {r.seconds / r.rows * 1e6:.0f} us/point)",
                  file=sys.stderr, flush=True)
    results.sort(key=lambda r: r.name)
    points = sum(r.rows for r in results)
    print(f"NAB development series: {len(results)} series, {points} points, replayed one "
          f"point per watch run (budget {args.false_alarms_per_week:g} false alarm(s) per "
          f"series-week)")
    watch = {r.name: r.watch for r in results}
    if args.detections is not None:
        args.detections.write_text(json.dumps(
            {r.name: {"alarmed": r.alarmed, "opened": r.watch} for r in results}, indent=1))
    best = max(GAUSS_THRESHOLDS, key=lambda k: summarise(
        results, {r.name: r.gauss[k] for r in results}).scores["standard"])
    gauss = {r.name: r.gauss[best] for r in results}
    for label, subset in (("all", results), ("tune half", [r for r in results
                                                            if r.half == "tune"]),
                          ("held half", [r for r in results if r.half == "held"])):
        if not subset:
            continue
        print(f"{label} ({len(subset)} series)")
        print(_line("watch (bot.diagnosis.watch.judge)", summarise(subset, watch)))
        print(_line(f"windowed Gaussian (|z| >= {best:g})", summarise(subset, gauss)))
    budget = args.false_alarms_per_week
    for label, subset in (("all", results), ("held half", [r for r in results
                                                            if r.half == "held"])):
        if subset:
            s = summarise(subset, watch)
            verdict = "PASS" if s.false_per_week <= budget else "FAIL"
            print(f"{verdict}: false incidents on {label} {s.false_per_week:.2f} per "
                  f"series-week against the budget of {budget:g} (standard score "
                  f"{s.scores['standard']:.1f})")
    seconds = sum(r.seconds for r in results)
    print(f"watch decision time: {seconds / points * 1e6:.0f} us per point "
          f"({seconds:.1f} s over {points} points, in {args.jobs} processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
