"""Speed of ``resilio classify`` end to end, and of one classification from arrays.

Run: ``python benchmarks/classify_speed.py [--repeats 25] [--runs 5]``.

1. ``resilio classify FILE --json`` as a user runs it (a new process: start-up,
   imports, reading and validating, the diagnosis, the JSON out) on a 20,000-record,
   ~3.5 MB exchange file, beside the reference: a new process of the same Python that
   only ``json.loads`` the same lines. Then, in this process, where the time goes:
   imports, ``json.loads`` of the lines, reading them into records (the validated fast
   path and the pydantic models alone), the diagnosis.
2. One incident from arrays: 60 signals over 24 h at 1-minute resolution, 10 of them
   also broken down over 5 slice dimensions (3 values each), 4 distributions of 10k
   values per hourly record. Timed from assembled arrays (the statistics alone), beside
   the reference of a median and a MAD of every series (the least a robust test
   reads); end to end from exchange records; and from the store (a 3 h window saved on
   SQLite, loaded and classified: the path an incident takes in production).

Drift tests (ours, scipy's ``ks_2samp`` and Evidently) are in ``benchmarks/drift.py``.
The last lines are the verdicts: our figure, the reference's, the ratio, the target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.core.clock import format_ts
from bot.core.exchange_records import DistributionRecord, SignalRecord
from bot.diagnosis import pipeline
from bot.diagnosis.assemble import assemble

LAYERS = ("infra", "runtime", "data", "freshness", "model", "quality", "eval", "cost", "control")
T0 = datetime(2026, 11, 25, tzinfo=UTC)


def incident_records(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    minutes = 1440
    times = [T0 + timedelta(minutes=m) for m in range(minutes)]
    records: list = []
    dims = {f"dim{d}": [f"v{k}" for k in range(3)] for d in range(5)}
    for i in range(60):
        layer = LAYERS[i % len(LAYERS)]
        level = rng.uniform(10, 100)
        values = level + rng.normal(0, level * 0.03, minutes)
        if i == 0:
            values[1300:] *= 1.8
        slices = [{}] + ([{d: v} for d, vs in dims.items() for v in vs] if i < 10 else [])
        for slice_ in slices:
            noise = rng.normal(0, level * 0.03, minutes) if slice_ else 0
            for m in range(minutes):
                records.append(SignalRecord.model_construct(
                    type="signal", ts=times[m], service="bench", layer=layer, name=f"s{i}",
                    value=float(values[m] + (noise[m] if slice_ else 0)), count=None,
                    kind="gauge", bad="up", slice=slice_))
    for j in range(4):
        for h in range(24):
            shift = 0.3 if (j == 0 and h >= 21) else 0.0
            records.append(DistributionRecord.model_construct(
                type="distribution", ts=T0 + timedelta(hours=h), service="bench",
                layer="data", name=f"d{j}", values=list(rng.normal(shift, 1, 10_000)),
                counts=None, slice={}))
    return records


def _times_ms(fn, repeats: int, cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds of ``repeats`` calls, sorted; their CPU milliseconds into ``cpu``.

    On a shared machine a call's wall time includes waits for a core; its CPU time
    (this process's) does not, so the ratio of CPU medians moves less between runs.
    """
    samples = []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return sorted(samples)


def bench_classify(repeats: int) -> tuple[float, float]:
    """Median ms of the diagnosis on ready arrays, and of the reference on the same arrays."""
    records = incident_records()
    data = assemble(records)
    series = [s.values for s in data.series.values()]

    def robust_summary() -> None:  # the reference: a median and a MAD of every series
        for values in series:
            median = np.median(values)
            np.median(np.abs(values - median))

    original = pipeline.assemble
    pipeline.assemble = lambda _records: data  # time the statistics on ready arrays
    try:
        pipeline.diagnose([])  # warm-up: first-call caches (the daily-cycle design)
        robust_summary()
        arrays, reference, arrays_cpu, reference_cpu = [], [], [], []
        for _ in range(repeats):  # interleaved, so both see the same machine
            arrays += _times_ms(lambda: pipeline.diagnose([]), 1, arrays_cpu)
            reference += _times_ms(robust_summary, 1, reference_cpu)
        arrays.sort()
        label = pipeline.diagnose([]).behavior
    finally:
        pipeline.assemble = original
    end_to_end = _times_ms(lambda: pipeline.diagnose(records), max(1, repeats // 5))
    p90 = arrays[min(len(arrays) - 1, int(0.9 * len(arrays)))]
    print(f"classify one incident ({len(data.series)} series incl. slices, 1440 points each, "
          f"4 x 24 x 10k distribution values): median {statistics.median(arrays):.1f} ms "
          f"from arrays (min {arrays[0]:.1f}, p90 {p90:.1f}, {repeats} runs; reference, a "
          f"median and MAD of every series: {statistics.median(reference):.1f} ms); "
          f"{statistics.median(end_to_end):.0f} ms end to end from {len(records):,} records; "
          f"label {label}")
    cpu, cpu_reference = statistics.median(arrays_cpu), statistics.median(reference_cpu)
    print(f"  the same in CPU time (waits for a core left out): median {cpu:.1f} ms, "
          f"reference {cpu_reference:.1f} ms, CPU ratio {cpu / cpu_reference:.2f}x")
    return statistics.median(arrays), statistics.median(reference)


def bench_stored_window(hours: float = 3.0) -> None:
    """The production path: the incident's last hours stored, then loaded and classified.

    An incident is classified from the store over the watch window (3 to 6 h), not from
    a day of records in memory; this times that read plus the diagnosis on SQLite.
    """
    from bot.sources.pushed import load_records
    from store.db import make_engine, session_scope, upgrade
    from store.signal_queries import save_records

    end = T0 + timedelta(days=1)
    kept = [type(r).model_validate(r.model_dump()) for r in incident_records()
            if r.ts >= end - timedelta(hours=hours)]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/signals.db"
        upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        with session_scope(engine) as session:
            save_records(session=session, records=kept)
        saved = time.perf_counter() - started

        def classify() -> None:
            with session_scope(engine) as session:
                records = load_records(session=session, service="bench",
                                       start=end - timedelta(hours=hours), end=end)
            pipeline.diagnose(records)

        took = _times_ms(classify, 3)
        engine.dispose()
    print(f"from the store ({hours:.0f} h window, {len(kept):,} records on SQLite): stored in "
          f"{saved:.1f} s; load and classify median {statistics.median(took):.0f} ms")


# -- resilio classify FILE, end to end -----------------------------------------------------
FILE_RECORDS = 20_000
_GLOBAL = [("infra", "gpu_util", 60.0), ("infra", "gpu_memory_used_gb", 40.0),
           ("runtime", "p99_latency_ms", 800.0), ("runtime", "error_rate", 0.01),
           ("data", "input_length_mean", 90.0), ("data", "feature_null_rate", 0.01),
           ("freshness", "index_lag_seconds", 120.0), ("freshness", "feature_age_seconds", 300.0),
           ("model", "mean_confidence", 0.8), ("quality", "retrieval_relevance", 0.75),
           ("eval", "judge_score", 0.8), ("eval", "refusal_rate", 0.02),
           ("cost", "cost_per_1k_requests", 2.0), ("control", "fallback_route_share", 0.03),
           ("quality", "groundedness", 0.9)]
_SLICED = [("quality", "groundedness", 0.9), ("quality", "thumbs_down_rate", 0.05),
           ("cost", "tokens_per_request", 900.0), ("eval", "refusal_rate", 0.02),
           ("data", "feature_null_rate", 0.01)]
_SLICES = ([{"tenant": t} for t in ("acme", "globex", "initech", "umbrella")]
           + [{"segment": s} for s in ("short_prompt", "long_prompt", "code", "other")])


def exchange_file(path: Path, records: int = FILE_RECORDS, seed: int = 0) -> int:
    """A service's signals as a user would export them: 55 records a minute (15 for all
    traffic, 5 signals over 8 slices), the groundedness and thumbs-down of tenant acme
    degrading after a model change in the last hour. Returns the size in bytes."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 11, 25, 6, tzinfo=UTC)
    lines: list[str] = [json.dumps({
        "type": "change", "ts": format_ts(start + timedelta(minutes=296)),
        "service": "rag-assistant", "kind": "model", "ref": "answer-v12",
        "previous": "answer-v11", "author": "mia", "description": "new answer model"})]
    minute = 0
    while len(lines) < records:
        ts = format_ts(start + timedelta(minutes=minute))
        rows = [(layer, name, level, {}) for layer, name, level in _GLOBAL]
        rows += [(layer, name, level, where) for layer, name, level in _SLICED
                 for where in _SLICES]
        for layer, name, level, where in rows:
            bad = minute > 300 and where.get("tenant") == "acme"
            moved = {"thumbs_down_rate": 2.5, "groundedness": 0.8}.get(name, 1.0) if bad else 1.0
            value = level * moved * (1 + rng.normal(0, 0.02))
            record = {"type": "signal", "ts": ts, "service": "rag-assistant", "layer": layer,
                      "name": name, "value": round(min(value, 1.0) if level < 1 else value, 6)}
            if name.endswith(("_rate", "_share")) or where:
                record["count"] = 1200 if not where else 300
            if name.endswith(("_rate", "_share")):
                record["kind"] = "ratio"
            if where:
                record["slice"] = where
            lines.append(json.dumps(record, separators=(",", ":")))
        minute += 1
    text = "\n".join(lines[:records]) + "\n"
    path.write_text(text)
    return len(text.encode())


_REFERENCE = "import json, sys\nfor line in open(sys.argv[1]):\n    json.loads(line)\n"
# Both processes run as a user's do: Python caches the bytecode of what it imports
# (the standard library's and numpy's was compiled at install). This machine's
# environment sets PYTHONDONTWRITEBYTECODE, which would compile the project's ~40
# modules from source on every run (~0.1 s of CPU), a cost no installed copy pays;
# the warm-up run writes their cache, as a first run does.
_USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run_seconds(command: list[str]) -> tuple[float, float]:
    """Wall seconds of a new process, and the CPU seconds it used (user + system).

    On a shared machine the CPU time moves less than the wall time (waiting for a
    core is not counted), so both are printed; the verdict reads the wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=_USER_ENV)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@dataclass(frozen=True)
class FileFigures:
    ours: float
    reference: float
    label: str
    ours_cpu: float
    reference_cpu: float


def bench_file(runs: int) -> FileFigures:
    """``resilio classify FILE --json`` in a new process beside ``json.loads`` in one."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signals.jsonl"
        size = exchange_file(path)
        ours_cmd = [sys.executable, "-m", "bot", "classify", str(path), "--json"]
        reference_cmd = [sys.executable, "-c", _REFERENCE, str(path)]
        _run_seconds(ours_cmd)  # warm the disk cache and write the bytecode, for both
        _run_seconds(reference_cmd)
        ours, reference = [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            ours.append(_run_seconds(ours_cmd))
            reference.append(_run_seconds(reference_cmd))
        output = subprocess.run(ours_cmd, capture_output=True, text=True, check=True).stdout
        label = json.loads(output)["behavior"]
        figures = FileFigures(statistics.median(w for w, _ in ours),
                              statistics.median(w for w, _ in reference), label,
                              statistics.median(c for _, c in ours),
                              statistics.median(c for _, c in reference))
        print(f"resilio classify FILE --json on {FILE_RECORDS:,} records ({size / 1e6:.1f} MB):"
              f" median {figures.ours:.2f} s end to end over {runs} runs (min "
              f"{min(w for w, _ in ours):.2f}; CPU {figures.ours_cpu:.2f} s); a new process "
              f"that only json.loads the lines: {figures.reference:.2f} s (CPU "
              f"{figures.reference_cpu:.2f} s; CPU ratio "
              f"{figures.ours_cpu / figures.reference_cpu:.2f}x); label {label}")
        _breakdown(path)
    return figures


def _breakdown(path: Path) -> None:
    """Where the time of ``resilio classify`` goes, measured in a fresh process."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import bot.cli.main, bot.cli.signals, bot.diagnosis.pipeline as pipeline\n"
        "import bot.diagnosis.columns as columns\n"
        "from bot.core.exchange import parse_lines, parse_objects\n"
        "from bot.core.exchange_columns import read_columns\n"
        "t1 = time.perf_counter()\n"
        "text = open(sys.argv[1]).read()\n"
        "lines = text.splitlines()\n"
        "objects = [json.loads(line) for line in lines]\n"
        "t2 = time.perf_counter()\n"
        "column_batch = read_columns(text)\n"
        "c1 = time.perf_counter()\n"
        "columns.select_and_diagnose(column_batch)\n"
        "c2 = time.perf_counter()\n"
        "pyd = any(m.split('.')[0] == 'pydantic' for m in sys.modules)\n"
        "batch = parse_lines(text)\n"
        "t3 = time.perf_counter()\n"
        "parse_objects(objects, fast=False)\n"
        "t4 = time.perf_counter()\n"
        "parse_objects(objects, fast=True)\n"
        "t5 = time.perf_counter()\n"
        "pipeline.diagnose(batch.records)\n"
        "t6 = time.perf_counter()\n"
        "print(json.dumps({'imports': t1 - t0, 'json': t2 - t1, 'read': t3 - c2,"
        " 'columns': c1 - t2, 'from_columns': c2 - c1,"
        " 'models': t4 - t3, 'fast': t5 - t4, 'diagnose': t6 - t5,"
        " 'pydantic': pyd, 'scipy': any(m.split('.')[0] == 'scipy' for m in sys.modules)}))\n")
    # (the records path below imports pydantic: it validates with the models too)
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, check=True, env=_USER_ENV)
    parts = json.loads(done.stdout)
    print(f"  where it goes (one fresh process): imports {parts['imports'] * 1000:.0f} ms "
          f"(scipy {'loaded' if parts['scipy'] else 'not loaded'}; pydantic on the classify "
          f"path {'loaded' if parts['pydantic'] else 'not loaded'}); "
          f"json.loads of the lines {parts['json'] * 1000:.0f} ms; the classify path: "
          f"reading them into columns {parts['columns'] * 1000:.0f} ms (the change record "
          f"by the plain reader included: no pydantic), assembling and diagnosing from them "
          f"{parts['from_columns'] * 1000:.0f} ms; the records path: reading into records "
          f"(orjson, the fast path) {parts['read'] * 1000:.0f} ms (validation alone: fast path "
          f"{parts['fast'] * 1000:.0f} ms, the pydantic models alone "
          f"{parts['models'] * 1000:.0f} ms); diagnosis {parts['diagnose'] * 1000:.0f} ms")


def verdict(what: str, ours: float, reference: float, unit: str, target: str,
            passed: bool, reference_name: str) -> str:
    return (f"{what}: ours {ours:.3g} {unit} | reference ({reference_name}) "
            f"{reference:.3g} {unit} | ratio {ours / reference:.2f}x | target {target} | "
            f"{'PASS' if passed else 'FAIL'}")

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25, help="runs of the from-arrays timing")
    parser.add_argument("--runs", type=int, default=5, help="runs of resilio classify FILE")
    args = parser.parse_args(argv)
    figures = bench_file(args.runs)
    print("building the incident ...", file=sys.stderr, flush=True)
    arrays, reference = bench_classify(args.repeats)
    bench_stored_window()
    print()
    print(verdict("resilio classify FILE end to end", figures.ours, figures.reference, "s",
                  "< 0.5 s", figures.ours < 0.5, "a process that json.loads the lines"))
    print(verdict("classify one incident from arrays, median", arrays, reference, "ms",
                  "< 30 ms", arrays < 30, "a median and MAD of every series"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
