"""How long the watch takes over 100 services per minute of data (target: under 1 s).

Run: ``python benchmarks/watch_speed.py [--services 100] [--minutes 10] [--no-store]``.

Each service is a simulated healthy service (every signal and slice of
``bot.simulator.healthy_day``, one point a minute). Its models are warmed on three
hours of points and stored in a throwaway SQLite store (migrated to head, in a
temporary directory); then each measured minute does what ``run_watch`` does per
service apart from reading the new points and opening incidents: load the
stored models of every service through the run's
:class:`bot.diagnosis.watch_cache.ModelCache` (one SELECT of all the services'
bundle rows and their write tokens; the bytes are read and decoded only where a
token is not the one the cache wrote, so the first minute decodes all); per
service turn the minute's records into series, :func:`bot.diagnosis.watch.judge`
them, encode the models that moved and pack the service's bundles
(:meth:`bot.diagnosis.watch_cache.ModelCache.to_save`: the recent parts every
minute, the histories when a half-hour closed); then save every service's
(:func:`bot.diagnosis.watch_cache.save_all`: one executemany UPDATE of the
bundle rows, each requiring the token read, and one commit). The decision alone
(series, judge, encode, pack) is timed apart from the store; ``--no-store`` leaves
the store out (the states are kept in memory; the first minute decodes them).

The reference, measured in the same run, is the pipeline the watch ran before
(``diagnose`` over the 180-minute window), per service per minute, on a sample of
the services: the ratio says what the new decision costs against it. Both are
timed by the wall clock and by this process's CPU time (SQLite runs in it); the
PASS/FAIL lines are on CPU time, which other processes sharing the machine do
not inflate as much. Minutes are summarised by their median; the mean is shown
too (every 32nd point of a series refreshes its thresholds, every half-hour
closes a bucket, so some minutes cost more).
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.exchange import parse_objects  # noqa: E402
from bot.diagnosis.pipeline import diagnose  # noqa: E402
from bot.diagnosis.watch import judge, series_points  # noqa: E402
from bot.diagnosis.watch_cache import (  # noqa: E402
    ModelCache,
    PendingSave,
    StoredModels,
    save_all,
    save_models,
)  # noqa: E402
from bot.simulator.scenarios import healthy_day  # noqa: E402
from classifiers.watch_codec import decode, encode  # noqa: E402
from store.db import make_engine, session_scope, upgrade  # noqa: E402
from store.watch_queries import HISTORY, RECENT, StoredModel  # noqa: E402

WARM_MINUTES = 180
TARGET_SECONDS = 1.0


@dataclass
class Timer:
    """Wall and CPU seconds of a stretch of work, per measured minute."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    _started: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def stop(self) -> tuple[float, float]:
        return (time.perf_counter() - self._started[0], time.process_time() - self._started[1])


Day = tuple[list[Any], list[datetime]]


def build(services: int, minutes: int) -> list[Day]:
    days = []
    for k in range(services):
        records = sorted(parse_objects(healthy_day(9_000_000 + k, minutes=WARM_MINUTES
                                                   + minutes + 1).records).records,
                         key=lambda r: r.ts)
        days.append((records, [r.ts for r in records]))
        if (k + 1) % 20 == 0:
            print(f"  built {k + 1}/{services} services", file=sys.stderr, flush=True)
    return days


def warm(days: list[Day]) -> list[dict[Any, bytes]]:
    models = []
    for records, stamps in days:
        start = records[0].ts
        warmed = records[:bisect.bisect_right(stamps, start + timedelta(minutes=WARM_MINUTES))]
        states = judge({}, series_points(warmed), since=0.0).states
        models.append({key: encode(state) for key, state in states.items()})
    return models


def measure(days: list[Day], models: list[dict[Any, bytes]], minutes: int,
            engine: Any | None) -> tuple[Timer, Timer]:
    """Per minute: the decision's CPU/wall time and the whole (decision and store)."""
    decision, whole = Timer(), Timer()
    cache = ModelCache()  # as run_watch keeps one: the first minute decodes every model
    held: list[dict[Any, Any] | None] = [None] * len(days)  # without a store: the states
    for minute in range(minutes):
        spent = [0.0, 0.0]
        whole.start()
        pending: list[PendingSave] = []
        if engine is not None:
            with session_scope(engine) as session:
                found = cache.load_many(session, [f"service-{k}" for k in range(len(days))])
        for k, (records, stamps) in enumerate(days):
            lo_t = records[0].ts + timedelta(minutes=WARM_MINUTES + minute)
            new = records[bisect.bisect_right(stamps, lo_t):
                          bisect.bisect_right(stamps, lo_t + timedelta(minutes=1))]
            service = f"service-{k}"
            if engine is None:
                decision.start()  # the states the last minute left, as the cache holds them
                states = held[k] if held[k] is not None else {
                    key: decode(blob) for key, blob in models[k].items()}
                judgement = judge(states, series_points(new), since=lo_t.timestamp())
                cache.to_save(service, StoredModels(states, _IN_MEMORY), judgement.states,
                              judgement.changed)
                held[k] = judgement.states
                spent = _add(spent, decision.stop())
                continue
            stored = found[service]
            decision.start()
            judgement = judge(stored.states, series_points(new), since=lo_t.timestamp())
            written = cache.to_save(service, stored, judgement.states, judgement.changed)
            spent = _add(spent, decision.stop())
            pending.append(PendingSave(service, stored, written))
        if engine is not None:
            save_all(engine, pending, lo_t)
        wall, cpu = whole.stop()
        whole.wall.append(wall)
        whole.cpu.append(cpu)
        decision.wall.append(spent[0])
        decision.cpu.append(spent[1])
        print(f"  minute {minute + 1}/{minutes}: {wall:.3f} s ({cpu:.3f} s CPU), decision "
              f"{spent[1]:.3f} s CPU", file=sys.stderr, flush=True)
    return decision, whole


# without a store: rows as if both bundles were stored (the histories are packed only
# when one moved, as with the store)
_IN_MEMORY = {RECENT: StoredModel(0, 0), HISTORY: StoredModel(0, 0)}


def _add(spent: list[float], more: tuple[float, float]) -> list[float]:
    return [spent[0] + more[0], spent[1] + more[1]]


def store_engine(folder: Path, models: list[dict[Any, bytes]]) -> Any:
    """A migrated SQLite store holding every warmed model."""
    url = f"sqlite:///{folder / 'watch.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    writer = ModelCache()  # another process's: the measured cache reads every bundle once
    for k, blobs in enumerate(models):
        service = f"service-{k}"
        states = {key: decode(blob) for key, blob in blobs.items()}
        with session_scope(engine) as session:
            stored = writer.load(session, service)
            save_models(session=session, service=service, stored=stored, now=now,
                        models=writer.to_save(service, stored, states, frozenset(states)))
    return engine


def reference(days: list[Day], sample: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for records, stamps in days[:sample]:
        now = records[0].ts + timedelta(minutes=WARM_MINUTES)
        window = records[bisect.bisect_left(stamps, now - timedelta(minutes=180)):
                         bisect.bisect_right(stamps, now)]
        started, cpu_started = time.perf_counter(), time.process_time()
        diagnose(window)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--reference-services", type=int, default=5)
    parser.add_argument("--no-store", action="store_true",
                        help="leave the SQLite store out (the decision alone)")
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.services < 1 or args.reference_services < 1:
        parser.error("--services, --minutes and --reference-services must be at least 1")
    days = build(args.services, args.minutes)
    models = warm(days)
    series = sum(len(m) for m in models)
    with tempfile.TemporaryDirectory(prefix="watch-speed-") as folder:
        engine = None if args.no_store else store_engine(Path(folder), models)
        decision, whole = measure(days, models, args.minutes, engine)
        if engine is not None:
            engine.dispose()
    ref_wall, ref_cpu = reference(days, args.reference_services)
    before_wall = statistics.median(ref_wall) * args.services
    before_cpu = statistics.median(ref_cpu) * args.services
    size = statistics.median(len(b) for m in models for b in m.values())
    print(f"watch over {args.services} services ({series} series, one point a minute each, "
          f"models {size / 1024:.1f} KiB per series), per minute of data, median (mean) "
          f"of {args.minutes} minutes:")
    print(f"  decision (decode, series, judge, encode): {_figures(decision)}")
    if engine is not None:
        print(f"  with the store (SQLite: one load, save and commit for all services): "
              f"{_figures(whole)}")
    print(f"  reference, the 180-minute diagnose the watch ran before, for {args.services} "
          f"services: {before_cpu:.3f} s CPU ({before_wall:.3f} s wall), from "
          f"{len(ref_cpu)} of them", flush=True)
    _verdict(f"watch decision over {args.services} services, s CPU per minute of data",
             statistics.median(decision.cpu), before_cpu, args.services)
    if engine is not None:
        _verdict(f"watch with its SQLite store over {args.services} services, s CPU per "
                 f"minute of data", statistics.median(whole.cpu), before_cpu, args.services)
    return 0


def _figures(timer: Timer) -> str:
    return (f"{statistics.median(timer.cpu):.3f} s CPU ({statistics.fmean(timer.cpu):.3f}), "
            f"{statistics.median(timer.wall):.3f} s wall ({statistics.fmean(timer.wall):.3f})")


def _verdict(what: str, ours: float, reference_cpu: float, services: int) -> None:
    """The PASS/FAIL line, on CPU time.

    On a shared machine the wall clock counts other processes' turns too; the CPU
    time this process spent is what the watch costs.
    """
    verdict = "PASS" if ours < TARGET_SECONDS else "FAIL"
    print(f"{what}: ours {ours:.3f} | reference (the 180-minute diagnose of {services} "
          f"services) {reference_cpu:.3f} | ratio {ours / reference_cpu:.2f} | target < "
          f"{TARGET_SECONDS:g} | {verdict}")


if __name__ == "__main__":
    sys.exit(main())
