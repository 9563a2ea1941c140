"""How long the watch takes over 100 services per minute of data (target: under 1 s).

Run: ``python benchmarks/watch_speed.py [--services 100] [--minutes 10]``.

Each service is a simulated healthy service (every signal and slice of
``bot.simulator.healthy_day``, one point a minute). Its models are warmed on three
hours of points, then each measured minute does what ``run_watch`` does per
service apart from the SQL: decode the stored models (through the run's
:class:`bot.diagnosis.watch.ModelCache`, which decodes a model only when its
stored bytes are not those it wrote; the first minute decodes all), turn the
minute's records into series, :func:`bot.diagnosis.watch.judge` them, encode the
models again.
The reference, measured in the same run, is the pipeline the watch ran before
(``diagnose`` over the 180-minute window), per service per minute, on a sample of
the services: the ratio says what the new decision costs against it. Both are
timed by the wall clock and by this process's CPU time; the PASS/FAIL line is on
CPU time, which other processes sharing the machine do not inflate.
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.exchange import parse_objects  # noqa: E402
from bot.diagnosis.pipeline import diagnose  # noqa: E402
from bot.diagnosis.watch import (  # noqa: E402
    ModelCache,  # noqa: E402
    judge,
    series_points,
)
from bot.simulator.scenarios import healthy_day  # noqa: E402
from classifiers.watch_codec import encode  # noqa: E402

WARM_MINUTES = 180


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--reference-services", type=int, default=5)
    args = parser.parse_args(argv)
    days = []
    for k in range(args.services):
        records = sorted(parse_objects(healthy_day(9_000_000 + k, minutes=WARM_MINUTES
                                                   + args.minutes + 1).records).records,
                         key=lambda r: r.ts)
        days.append((records, [r.ts for r in records]))
        if (k + 1) % 20 == 0:
            print(f"  built {k + 1}/{args.services} services", file=sys.stderr, flush=True)
    models: list[dict] = []
    for records, stamps in days:
        start = records[0].ts
        warm = records[:bisect.bisect_right(stamps, start + timedelta(minutes=WARM_MINUTES))]
        states = judge({}, series_points(warm), since=0.0).states
        models.append({key: encode(state) for key, state in states.items()})
    series = sum(len(m) for m in models)
    per_minute, cpu_minute = [], []
    cache = ModelCache()  # as run_watch keeps one: the first minute decodes every model
    for minute in range(args.minutes):
        started, cpu = time.perf_counter(), time.process_time()
        for k, (records, stamps) in enumerate(days):
            lo_t = records[0].ts + timedelta(minutes=WARM_MINUTES + minute)
            hi_t = lo_t + timedelta(minutes=1)
            new = records[bisect.bisect_right(stamps, lo_t):bisect.bisect_right(stamps, hi_t)]
            states = cache.decode(str(k), models[k])
            judgement = judge(states, series_points(new), since=lo_t.timestamp())
            models[k] = {**models[k], **cache.encode(str(k), {
                key: judgement.states[key] for key in judgement.changed})}
        per_minute.append(time.perf_counter() - started)
        cpu_minute.append(time.process_time() - cpu)
        print(f"  minute {minute + 1}/{args.minutes}: {per_minute[-1]:.3f} s "
              f"({cpu_minute[-1]:.3f} s CPU)", file=sys.stderr, flush=True)
    reference, cpu_reference = [], []
    for records, stamps in days[:args.reference_services]:
        now = records[0].ts + timedelta(minutes=WARM_MINUTES)
        window = records[bisect.bisect_left(stamps, now - timedelta(minutes=180)):
                         bisect.bisect_right(stamps, now)]
        started, cpu = time.perf_counter(), time.process_time()
        diagnose(window)
        reference.append(time.perf_counter() - started)
        cpu_reference.append(time.process_time() - cpu)
    watch = statistics.median(per_minute)
    before = statistics.median(reference) * args.services
    watch_cpu = statistics.median(cpu_minute)
    before_cpu = statistics.median(cpu_reference) * args.services
    size = statistics.median(len(b) for m in models for b in m.values())
    print(f"watch over {args.services} services ({series} series, one point a minute each): "
          f"median {watch:.3f} s per minute of data (target < 1 s); models {size / 1024:.1f} KiB "
          f"per series")
    print(f"reference, the 180-minute diagnose the watch ran before: {before:.3f} s per minute "
          f"for {args.services} services (from {len(reference)}); ratio {watch / before:.2f}")
    _verdict(args.services, watch, watch_cpu, before_cpu)
    return 0


def _verdict(services: int, wall: float, cpu: float, reference_cpu: float) -> None:
    """The CPU figures and the PASS/FAIL line.

    On a shared machine the wall clock counts other processes' turns too; the CPU
    time this process spent is what the watch costs.
    """
    print(f"CPU time: watch {cpu:.3f} s per minute of data, reference {reference_cpu:.3f} s; "
          f"ratio {cpu / reference_cpu:.2f}")
    verdict = "PASS" if cpu < 1.0 else "FAIL"
    print(f"{verdict}: the watch over {services} services takes {cpu:.3f} s of CPU "
          f"({wall:.3f} s wall) per minute of data (target < 1 s)")


if __name__ == "__main__":
    sys.exit(main())
